"""``gonogo audit log|verify --format markdown|html`` on a real store, through ``main``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gonogo.cli.main import main
from gonogo.workspace import Workspace
from tests.audit.helpers import append_events, edit_payload, raw_sql, sample_payloads


def parse(page: str) -> ET.Element:
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def text_of(element: ET.Element | None) -> str:
    assert element is not None
    return "".join(element.itertext())


def run(cli_env: list[str], capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([*cli_env, "audit", *args])
    return code, capsys.readouterr().out


def facts(root: ET.Element) -> dict[str, str]:
    """The key/value table under the title."""
    table = root.find("body/table")
    assert table is not None
    return {text_of(tr.find("th")): text_of(tr.find("td")) for tr in table.iter("tr")}


def test_audit_log_as_markdown_lists_each_event_with_its_summary(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = append_events(ws, sample_payloads(2))

    code, page = run(cli_env, capsys, "log", "--format", "markdown")

    assert code == 0
    assert page.startswith("# Audit log\n\nthe newest 2 events, oldest first\n")
    assert "| event | time | actor | type | summary |" in page
    assert f"| #1 | {first.ts} | alice@example.com | test.event1 | release=1.1.0 |" in page
    assert page.index("| #1 |") < page.index(f"| #2 | {second.ts} |")


def test_audit_log_as_html_has_the_same_rows_as_the_text(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    append_events(ws, sample_payloads(3))

    code, page = run(cli_env, capsys, "log", "--limit", "2", "--format", "html")
    _, text = run(cli_env, capsys, "log", "--limit", "2")

    assert code == 0
    root = parse(page)
    assert text_of(root.find("head/title")) == "Audit log"
    rows = [[text_of(td) for td in tr] for tr in root.findall("body/table/tbody/tr")]
    assert rows == [line.split("\t") for line in text.splitlines()]
    assert len(rows) == 2
    assert (rows[-1][0], rows[-1][4]) == ("#3", "release=1.3.0")


def test_an_empty_audit_log_page_says_so(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, markdown = run(cli_env, capsys, "log", "--format", "markdown")
    code, page = run(cli_env, capsys, "log", "--format", "html")

    assert code == 0
    assert "_The audit trail is empty._" in markdown
    assert text_of(parse(page).find("body/p")) == "The audit trail is empty."


def test_a_sound_trail_verifies_ok_in_both_page_formats(
    ws: Workspace, cli_env: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    last = append_events(ws, sample_payloads(4))[-1]

    md_code, markdown = run(cli_env, capsys, "verify", "--format", "markdown")
    target = tmp_path / "verify.html"
    html_code, printed = run(cli_env, capsys, "verify", "--format", "html", "--output", str(target))
    page = target.read_text(encoding="utf-8")

    assert (md_code, html_code) == (0, 0)
    assert printed == ""  # the page went to the file
    assert markdown.startswith(
        "# Audit trail verification\n\n✅ **ok**: 4 events, "
        f"head #4 {last.hash[:12]}; checkpoint #4 matches\n"
    )
    root = parse(page)
    badge = root.find("body/h1/span")
    assert badge is not None and (badge.get("class"), badge.text) == ("badge good", "ok")
    assert facts(root) == {
        "events checked": "4",
        "head": f"#4 {last.hash}",
        "checkpoint": f"#4 {last.hash}",
    }


def test_a_tampered_trail_is_broken_in_both_page_formats_with_exit_1(
    ws: Workspace,
    store_url: str,
    cli_env: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    appended = append_events(ws, sample_payloads(5))
    with raw_sql(store_url) as conn:
        edit_payload(conn, 3)
    problem = "event #3 (test.event3) does not match its hash: it was edited"

    md_code, markdown = run(cli_env, capsys, "verify", "--format", "markdown")
    html_code, page = run(cli_env, capsys, "verify", "--format", "html")

    assert (md_code, html_code) == (1, 1)
    assert f"❌ **broken**: {problem}\n" in markdown
    root = parse(page)
    badge = root.find("body/h1/span")
    assert badge is not None and (badge.get("class"), badge.text) == ("badge bad", "broken")
    assert text_of(root.find("body/p")) == problem
    shown = facts(root)
    assert shown["first bad event"] == "#3"
    assert shown["last good event"] == f"#2 {appended[1].hash}"
    assert shown["checkpoint"] == f"#5 {appended[4].hash}"
