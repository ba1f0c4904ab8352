"""Dispatch and the promises every format keeps, whatever the text in a report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.gates.results import SignoffState, Status
from gonogo.report import BUILTIN_RENDERERS, Format, ReportError, ReportKind, render
from gonogo.report.interface import clean_text
from tests.report import cells, criterion, gate, mixed_report, report, signoff, table_rows


def parse_xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own output, not untrusted input


def test_every_format_has_a_builtin_renderer() -> None:
    assert set(BUILTIN_RENDERERS) == set(Format)


def test_format_names_are_the_cli_choices() -> None:
    assert [f.value for f in Format] == ["text", "json", "markdown", "html", "junit"]
    assert render(mixed_report(), Format("markdown")).startswith("# Release readiness")


def test_unknown_format_is_a_report_error_listing_the_choices() -> None:
    with pytest.raises(ReportError, match="unknown report format 'pdf'") as raised:
        render(mixed_report(), "pdf")  # type: ignore[arg-type]

    assert "text, json, markdown, html, junit" in str(raised.value)


@pytest.mark.parametrize("fmt", list(Format))
def test_a_tiny_or_bogus_width_still_renders(fmt: Format) -> None:
    for width in (0, 5, -1):
        assert "coverage" in render(mixed_report(), fmt, width=width)


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("kind", list(ReportKind))
def test_every_format_renders_the_edge_cases(fmt: Format, kind: ReportKind) -> None:
    edge = report(
        gate(
            "ünïcødé",
            owners=(),
            criteria=(
                criterion("none", gate="ünïcødé", measured=None, expected=None),
                criterion("text", gate="ünïcødé", measured="v1.2 → v1.3", reason="a|b\n<c>&d"),
                criterion("flag", gate="ünïcødé", measured=True, evidence_digest=None),
            ),
        ),
        gate("empty", criteria=()),
        release=None,
        audit_seq=None,
    )

    assert render(edge, fmt, kind=kind)
    assert render(report(), fmt, kind=kind)  # zero gates


# plain text of any script, plus the characters each format must take care of
TRICKY = "<>&|`*_[]#\\\n\r\t\x00\x1b\x7f\x85\x9b\u2028\ud800\ufffe é✓数🚀"
tricky = st.text(alphabet=st.sampled_from(TRICKY))
reason_text = st.text(max_size=200) | tricky
names = st.text(min_size=1, max_size=20) | tricky.filter(bool)


@settings(max_examples=60, deadline=None)
@given(reason=reason_text, identity=names, note=st.text(max_size=40), project=names)
def test_any_text_renders_in_every_format_and_xml_stays_well_formed(
    reason: str, identity: str, note: str, project: str
) -> None:
    run = report(
        gate(
            criteria=(
                criterion(status=Status.FAIL, reason=reason, measured=reason, expected=reason),
                criterion("other", status=Status.WARN, reason=reason),
            ),
            owners=("qa", "security"),
            signoffs=(
                signoff("qa", SignoffState.STALE, identity=identity),
                signoff("security", SignoffState.INVALID, identity=identity),
            ),
            reasons=(reason, note),
            digest="00" * 32,  # canonical JSON (UTF-8) refuses lone surrogates; renderers must not
        )
    )
    run = replace(run, project=project)

    for fmt in Format:
        assert render(run, fmt)

    document = json.loads(render(run, Format.JSON))
    assert document["gates"][0]["criteria"][0]["reason"] == reason

    junit = parse_xml(render(run, Format.JUNIT))
    assert junit.get("failures") == "2"  # the criterion and the sign-offs

    page = parse_xml(render(run, Format.HTML))
    cell = page.find(".//td[@class='reason']")
    assert cell is not None
    assert "".join(cell.itertext()) == clean_text(reason)  # shown as written, never as markup

    rows = table_rows(render(run, Format.MARKDOWN))
    assert [len(cells(row)) for row in rows] == [5, 5]

    assert "\x1b" not in render(run, Format.TEXT, color=False)


def test_clean_text_neutralises_bidirectional_overrides() -> None:
    # "Trojan Source": an override makes a line read other than its characters are
    shown = clean_text("approved by alice\u202e@example.com\u2066x\u2069 (Zoë)")

    assert not any("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" for ch in shown)
    assert shown == "approved by alice\ufffd@example.com\ufffdx\ufffd (Zoë)"
