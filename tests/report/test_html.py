"""The checklist as one self-contained HTML page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from importlib.resources import files

from gonogo.gates.results import Status
from gonogo.report import Format, ReportKind, render
from gonogo.report.html import TEMPLATE
from tests.report import criterion, gate, go_report, mixed_report, report


def parse(page: str) -> ET.Element:
    """The page as XML: the template keeps it well-formed, so any XML tool reads it."""
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def text_of(element: ET.Element) -> str:
    return "".join(element.itertext())


def test_page_is_self_contained() -> None:
    page = render(mixed_report(), Format.HTML)

    assert "http://" not in page
    assert "https://" not in page
    assert not re.search(r"\b(src|href)=", page)
    assert "url(" not in page
    assert "<script" not in page
    assert "<style>" in page  # styles are inline


def test_page_is_well_formed_with_title_and_verdict() -> None:
    root = parse(render(mixed_report(), Format.HTML))

    title = root.find("head/title")
    assert title is not None
    assert text_of(title) == "Release readiness checklist — shop 1.4.0"
    summary = root.find(".//p[@class='summary no-go']")
    assert summary is not None
    assert text_of(summary) == "NO-GO NO-GO: 2 of 3 gates no-go (quality, security)"


def test_one_section_per_gate_with_a_verdict_badge() -> None:
    root = parse(render(mixed_report(), Format.HTML))
    sections = root.findall(".//section")

    assert [s.get("id") for s in sections] == ["gate-quality", "gate-security", "gate-features"]
    badges = [s.find("h2/span") for s in sections]
    assert [b.get("class") if b is not None else None for b in badges] == [
        "badge no-go",
        "badge no-go",
        "badge go",
    ]


def test_one_table_row_per_criterion_with_its_values() -> None:
    run = mixed_report()
    root = parse(render(run, Format.HTML))
    rows = root.findall(".//tbody/tr")

    assert len(rows) == sum(len(g.criteria) for g in run.gates)
    coverage = [text_of(td) for td in rows[1].findall("td")]
    assert coverage[0] == "❌ fail"
    assert coverage[1].startswith("coverage")
    assert coverage[2:] == ["0.81", ">= 0.90", "coverage 81% < 90% | in src/pay\nsee report & fix"]
    perf = [text_of(td) for td in rows[3].findall("td")]
    assert perf[2] == "—"


def test_signoff_boxes_are_ticked_exactly_for_valid_signoffs() -> None:
    root = parse(render(mixed_report(), Format.HTML))
    items = root.findall(".//ul[@class='signoffs']/li")

    ticked = {text_of(li).split(" — ")[0][1:]: text_of(li)[0] == "☑" for li in items}
    assert ticked == {"qa": False, "dev": True, "security": False, "ops": False, "pm": True}
    assert "stale (evidence changed since quinn signed)" in text_of(items[0])


def test_script_in_a_reason_is_escaped() -> None:
    reason = '<script>alert("x")</script> & more'
    page = render(
        report(gate(criteria=(criterion(status=Status.FAIL, reason=reason),))), Format.HTML
    )

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in page
    cell = parse(page).find(".//td[@class='reason']")
    assert cell is not None
    assert text_of(cell) == reason


def test_zero_gates_and_gate_without_owners() -> None:
    empty = parse(render(report(audit_seq=None), Format.HTML))
    assert "No gates were evaluated." in text_of(empty)
    assert "audit head: none recorded" in text_of(empty)

    ownerless = text_of(parse(render(report(gate(owners=())), Format.HTML)))
    assert "Owners: none" in ownerless
    assert "No owners to sign." in ownerless


def test_footer_quotes_the_audit_head_and_kind_is_named() -> None:
    root = parse(render(go_report(), Format.HTML, kind=ReportKind.STATUS))

    footer = root.find("body/footer")
    assert footer is not None
    assert text_of(footer) == "audit head #12 3fa9c1d2e4b5"
    assert "status of the recorded evaluation" in text_of(root)


def test_template_ships_inside_the_package() -> None:
    assert files("gonogo.report").joinpath("templates", TEMPLATE).is_file()
