"""The release list, audit log and verification documents keep hostile values in their cells."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gonogo.report.document import to_html, to_markdown
from gonogo.report.lists import audit_log_document, ci_verify_document, releases_document

HOSTILE = "1.0 | <script>alert(1)</script>\nnext"


def test_a_hostile_payload_stays_inside_its_audit_log_cell() -> None:
    event = {"seq": 7, "ts": "t", "actor": "mallory", "type": "x", "payload": {"gate": HOSTILE}}

    markdown = to_markdown(audit_log_document([event]))
    page = to_html(audit_log_document([event]))

    row = next(line for line in markdown.splitlines() if line.startswith("| #7 |"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 6  # still five cells
    assert "<script>" not in markdown and "<script>" not in page
    cells = [
        "".join(td.itertext())
        for td in ET.fromstring(page).iter("td")  # noqa: S314 - our own output
    ]
    assert cells[-1] == f"gate={HOSTILE}"


def test_missing_values_show_as_a_dash() -> None:
    markdown = to_markdown(releases_document([{"version": "2.0", "state": "open"}]))
    assert "| 2.0 | open | - | - |" in markdown


def test_a_finding_message_with_a_pipe_stays_one_row() -> None:
    report = {
        "file": "ci.yml",
        "kind": "gitlab",
        "ok": False,
        "jobs": [],
        "findings": [{"where": "gonogo.script", "message": "`a || true` swallows the exit"}],
    }

    markdown = to_markdown(ci_verify_document(report))

    assert "| jobs running gonogo ci | none |" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| gonogo.script |"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 3
