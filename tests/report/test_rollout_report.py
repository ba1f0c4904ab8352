"""A rollout and a simulation as Markdown and HTML (``--format markdown|html``).

The documents here have the shape ``rollout status -f json`` prints; the controller
tests render real rollouts in both formats too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from gonogo.report.document import to_html, to_markdown
from gonogo.report.interface import ReportError
from gonogo.report.rollout import (
    demo_document,
    rollout_document,
    rollouts_document,
    simulation_document,
)


def rollout_markdown(doc: dict[str, Any]) -> str:
    return to_markdown(rollout_document(doc))


def rollout_html(doc: dict[str, Any]) -> str:
    return to_html(rollout_document(doc))


def rollouts_markdown(records: list[dict[str, Any]]) -> str:
    return to_markdown(rollouts_document(records))


def rollouts_html(records: list[dict[str, Any]]) -> str:
    return to_html(rollouts_document(records))


def simulation_markdown(report: dict[str, Any]) -> str:
    return to_markdown(simulation_document(report))


def simulation_html(report: dict[str, Any]) -> str:
    return to_html(simulation_document(report))


def demo_markdown(run: dict[str, Any]) -> str:
    return to_markdown(demo_document(run))


def demo_html(run: dict[str, Any]) -> str:
    return to_html(demo_document(run))


REASON = "errors regressed: canary 5.00% vs baseline 0.50%, e-value 412 >= 210.5"


def rolled_back(reason: str = REASON) -> dict[str, Any]:
    decision = {
        "id": 7,
        "at": "2026-11-28T10:00:09.000000Z",
        "step": 1,
        "weight": 25.0,
        "action": "rollback",
        "basis": "regression",
        "reason": reason,
        "decision": {
            "e_value": 412.0,
            "threshold": 210.5263157894737,
            "findings": [
                {
                    "metric": "errors",
                    "group": None,
                    "baseline": 0.005,
                    "canary": 0.05,
                    "e_value": 412.0,
                    "lower": 2.5,
                    "upper": float("inf"),
                    "tolerance": 0.5,
                    "within_tolerance": False,
                    "worse": True,
                },
                {
                    "metric": "latency_p50",
                    "group": "latency",
                    "baseline": 12.0,
                    "canary": 12.2,
                    "e_value": 0.8,
                    "lower": -0.031,
                    "upper": 0.052,
                    "tolerance": 0.1,
                    "within_tolerance": True,
                    "worse": False,
                },
            ],
        },
        "totals": {
            "baseline": {"requests": 2000, "errors": 10, "error_rate": 0.005, "p50_ms": 12.04},
            "canary": {"requests": 600.0, "errors": 30, "error_rate": 0.05, "p99_ms": None},
        },
    }
    return {
        "schema": "gonogo.rollout/v1",
        "outcome": "rolled_back",
        "rollout": {
            "id": 3,
            "version": "v2",
            "baseline_version": "v1",
            "release": "2.0.0",
            "state": "rolled_back",
            "step": 1,
            "steps": 2,
            "weight": 0.0,
            "reason": reason,
            "plan_digest": "2c0be1f73030c4af299bef385bab05e7",
            "controller": None,
            "heartbeat_at": None,
            "created_at": "2026-11-28T10:00:00.000000Z",
            "created_by": "olga@example.com",
            "updated_at": "2026-11-28T10:00:10.000000Z",
        },
        "latest": decision,
        "timeline": [
            {
                "at": "2026-11-28T10:00:00.000000Z",
                "event": "rollout.started",
                "actor": "olga@example.com",
                "version": "v2",
                "baseline_version": "v1",
                "steps": [5.0, 25.0],
                "judge": "sequential",
            },
            {
                "at": "2026-11-28T10:00:01.000000Z",
                "event": "rollout.weight",
                "from": 0.0,
                "to": 5.0,
                "weight": 5.0,
            },
            {"event": "rollout.decision", **decision},
            {
                "at": "2026-11-28T10:00:10.000000Z",
                "event": "rollout.rolled_back",
                "reason": reason,
                "weight": 0.0,
            },
        ],
    }


def parse(page: str) -> ET.Element:
    """The page as XML: the template keeps it well-formed."""
    return ET.fromstring(page)  # noqa: S314 - our own output, not untrusted input


def text_of(element: ET.Element) -> str:
    return "".join(element.itertext())


def rows(root: ET.Element) -> list[list[str]]:
    return [[text_of(cell) for cell in tr] for tr in root.iter("tr")]


def test_markdown_names_the_outcome_the_evidence_and_the_timeline() -> None:
    page = rollout_markdown(rolled_back())
    assert page.startswith("# Rollout #3: v2 over v1\n")
    assert "❌ **rolled back**: errors regressed" in page
    assert "| step | 2 of 2 |" in page  # the step it stopped in, counted from one
    assert "| plan digest | 2c0be1f73030 |" in page
    assert "rollback (regression) at 2026-11-28T10:00:09.000000Z, step 2 at 25%" in page
    assert "e-value 412 against 210.5" in page
    # each metric's evidence; an unbounded side and a missing value show as "-"
    assert "| errors | 0.005 | 0.05 | 412 | \\[+250.0%, -\\] | 50% | worse |" in page
    assert (
        "| latency\\_p50 (latency) | 12 | 12.2 | 0.8 | \\[-3.1%, +5.2%\\] | 10% | within |" in page
    )
    assert "| canary | 600 | 30 | 5.00% | - | - |" in page
    assert "| 2026-11-28T10:00:01.000000Z | weight | 5 | 0% → 5% |" in page
    assert "steps 5% → 25% → 100%" in page
    assert page.count("decision: rollback") == 1


def test_markdown_keeps_a_hostile_reason_inside_its_cell() -> None:
    page = rollout_markdown(rolled_back("a | b <script>x</script>\n`c`"))
    assert "<script>" not in page
    assert "a \\| b \\<script\\>x\\</script\\><br>\\`c\\`" in page
    timeline = page[page.index("## Timeline") :]
    # every row of the timeline table still has exactly its four cells
    for line in timeline.splitlines()[2:]:
        assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


def test_html_is_one_well_formed_self_contained_page() -> None:
    page = rollout_html(rolled_back("<b>bold</b> & more"))
    root = parse(page)
    assert "<b>bold" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert not re.search(r"\b(src|href)=|https?://|<script", page)
    assert text_of(root.find("head/title")) == "Rollout #3: v2 over v1"  # type: ignore[arg-type]
    heading = text_of(root.find("body/h1"))  # type: ignore[arg-type]
    assert heading == "Rollout #3: v2 over v1 rolled back"
    table = rows(root)
    assert ["state", "rolled back"] in table
    assert ["canary", "600", "30", "5.00%", "-", "-"] in table
    assert ["errors", "0.005", "0.05", "412", "[+250.0%, -]", "50%", "worse"] in table
    assert any(r[1] == "decision: rollback" and r[2] == "25" for r in table)


def test_a_rollout_just_started_has_no_decision_and_says_so() -> None:
    doc = rolled_back()
    doc["latest"] = None
    doc["timeline"] = []
    doc["rollout"] |= {"state": "pending", "reason": None, "step": -1}
    page = rollout_markdown(doc)
    assert "## Latest decision" not in page
    assert "_Nothing recorded yet._" in page
    assert "⏳ **pending**" in page
    assert "| step |" not in page  # no step before the canary starts
    assert "Nothing recorded yet." in text_of(parse(rollout_html(doc)))


def test_a_document_that_is_not_a_rollout_is_refused() -> None:
    with pytest.raises(ReportError, match="not a rollout document"):
        rollout_markdown({"schema": "gonogo.report/v1"})


def test_the_list_of_rollouts_in_both_formats() -> None:
    listing = [rolled_back()["rollout"]]
    page = rollouts_markdown(listing)
    assert "| #3 | v2 | v1 | rolled back | 0 | 2026-11-28T10:00:00.000000Z | errors" in page
    assert rollouts_markdown([]).endswith("_No rollouts yet._\n")
    assert rows(parse(rollouts_html(listing)))[1][:4] == ["#3", "v2", "v1", "rolled back"]
    assert "No rollouts yet." in text_of(parse(rollouts_html([])))


def test_a_simulation_in_both_formats() -> None:
    report = {
        "scenario": "errors x2",
        "judge": "sequential",
        "runs": 40,
        "false_rollback_rate": None,
        "detection_rate": 0.975,
        "mean_detection_s": 41.25,
        "median_detection_s": 40.0,
        "p95_detection_s": 62.0,
        "mean_exposed_requests": 812.4,
        "inconclusive_rate": 0.025,
        "promoted_rate": 0.0,
    }
    page = simulation_markdown(report)
    assert page.startswith("# Simulation: errors x2, judge sequential\n")
    assert "| detected | 97.50% |" in page
    assert "| mean detection | 41.2 s |" in page
    assert "| false rollbacks | - |" in page  # not a null scenario
    assert ["exposed requests (mean)", "812"] in rows(parse(simulation_html(report)))


def test_the_demo_shows_its_gate_commands_then_the_rollout() -> None:
    doc = rolled_back()
    run = {
        "schema": "gonogo.demo/v1",
        "outcome": "rolled_back",
        "steps": [
            {"step": "check: no-go", "command": "gonogo check --gate readiness", "exit": 1},
            {"step": "sign", "command": "gonogo signoff readiness --role engineering", "exit": 0},
        ],
        "rollout": doc["rollout"],
        "timeline": doc["timeline"],
    }
    page = demo_markdown(run)
    gates = page.index("## Gates")
    assert page.index("| check: no-go | gonogo check --gate readiness | 1 |") > gates
    # the latest decision is the timeline's last one
    assert page.index("## Latest decision") > gates
    assert "rollback (regression) at 2026-11-28T10:00:09.000000Z" in page
    table = rows(parse(demo_html(run)))
    assert ["sign", "gonogo signoff readiness --role engineering", "0"] in table
    assert ["state", "rolled back"] in table
