"""The JSON report: schema ``gonogo.report/v1``, documented in docs/json.md."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from gonogo.gates.results import CriterionResult, RoleSignoff, SignoffState, Status
from gonogo.report import Format, ReportError, ReportKind, render
from tests.report import AUDIT_HASH, criterion, gate, go_report, mixed_report, report

DOCS = Path(__file__).resolve().parents[2] / "docs" / "json.md"

TOP_LEVEL_KEYS = [
    "schema",
    "kind",
    "tool_version",
    "project",
    "release",
    "generated_at",
    "policy_digest",
    "verdict",
    "counts",
    "audit_head",
    "gates",
    "approvals",
]


def parsed(**kwargs: Any) -> dict[str, Any]:
    document = json.loads(render(kwargs.pop("run", mixed_report()), Format.JSON, **kwargs))
    assert isinstance(document, dict)
    return document


def test_document_has_the_v1_schema_and_its_keys_in_order() -> None:
    document = parsed()

    assert document["schema"] == "gonogo.report/v1"
    assert list(document) == TOP_LEVEL_KEYS


def test_top_level_values() -> None:
    document = parsed(kind=ReportKind.STATUS)

    assert document["kind"] == "status"
    assert document["project"] == "shop"
    assert document["release"] == "1.4.0"
    assert document["tool_version"] == "0.1.0"
    assert document["generated_at"] == "2026-11-27T12:00:00Z"
    assert document["policy_digest"] == "9e" * 32
    assert document["verdict"] == "no-go"
    assert document["audit_head"] == {"seq": 12, "hash": AUDIT_HASH}
    assert document["counts"] == {
        "pass": 2,
        "warn": 1,
        "fail": 1,
        "error": 1,
        "not_applicable": 1,
        "not_reported": 1,
        "waived": 1,
    }


def test_go_verdict() -> None:
    assert parsed(run=go_report())["verdict"] == "go"


def test_criteria_round_trip_through_the_document() -> None:
    run = mixed_report()
    document = parsed(run=run)

    for gate_result, gate_json in zip(run.gates, document["gates"], strict=True):
        assert gate_json["id"] == gate_result.gate
        assert gate_json["verdict"] == gate_result.verdict.value
        assert gate_json["score"] == gate_result.score
        restored = [CriterionResult.from_json(c) for c in gate_json["criteria"]]
        assert restored == list(gate_result.criteria)


def test_a_criterion_keeps_status_measured_and_evidence_digest() -> None:
    document = parsed()
    coverage = document["gates"][0]["criteria"][1]

    assert coverage["criterion"] == "coverage"
    assert coverage["status"] == "fail"
    assert coverage["measured"] == 0.81
    assert coverage["evidence"][0]["sha256"] == "ab" * 32
    assert coverage["reason"] == "coverage 81% < 90% | in src/pay\nsee report & fix"
    perf = document["gates"][0]["criteria"][3]
    assert perf["status"] == "not_reported"
    assert perf["measured"] is None


def test_signoffs_are_reported_per_role() -> None:
    signoffs = parsed()["gates"][0]["signoffs"]

    assert [(s["role"], s["state"], s["identity"]) for s in signoffs] == [
        ("qa", "stale", "quinn"),
        ("dev", "valid", "quinn@example.com"),
    ]


def test_zero_gates_and_no_audit_head() -> None:
    document = parsed(run=report(release=None, audit_seq=None))

    assert document["gates"] == []
    assert document["verdict"] == "no-go"
    assert document["audit_head"] is None
    assert document["release"] is None


def test_non_finite_numbers_become_strings_so_the_document_stays_json() -> None:
    criteria = (criterion(measured=math.inf), criterion("p99", measured=math.nan))
    run = report(gate(criteria=criteria, digest="00" * 32))  # digests refuse NaN too
    text = render(run, Format.JSON)

    document = json.loads(text, parse_constant=pytest.fail)
    measured = [c["measured"] for c in document["gates"][0]["criteria"]]
    assert measured == ["Infinity", "NaN"]


def test_a_detail_json_cannot_hold_is_a_report_error() -> None:
    bad = CriterionResult(
        gate="quality",
        criterion="odd",
        check="command",
        title="Odd",
        status=Status.PASS,
        reason="ok",
        details={"when": object()},
    )

    with pytest.raises(ReportError, match="cannot write the report as JSON"):
        render(report(gate(criteria=(bad,))), Format.JSON)


def test_unicode_survives() -> None:
    run = report(gate(criteria=(criterion(reason="durée ✓ 数据 🚀"),)))

    assert parsed(run=run)["gates"][0]["criteria"][0]["reason"] == "durée ✓ 数据 🚀"


def test_every_field_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    document = parsed()
    gate_json = document["gates"][0]
    fields = {
        *document,
        *document["audit_head"],
        *gate_json,
        *gate_json["signoffs"][0],
        *gate_json["criteria"][0],
        *gate_json["criteria"][0]["evidence"][0],
    }

    missing = sorted(name for name in fields if f"`{name}`" not in docs)
    assert missing == []
    assert "gonogo.report/v1" in docs


def _shape(value: Any) -> Any:
    """The keys of every object, recursively; lists by their first item."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items() if key != "details"}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return None


def test_the_documented_example_has_the_shape_of_real_output() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    example = json.loads(docs.split("```json\n", 1)[1].split("```", 1)[0])

    with_approval = render(
        report(
            *go_report().gates,
            approvals=(RoleSignoff("qa", SignoffState.VALID, "quinn@example.com", "2026-11-27"),),
        ),
        Format.JSON,
        kind=ReportKind.STATUS,
    )
    assert _shape(example) == _shape(json.loads(with_approval))


def test_status_json_lists_policy_approvals_by_role() -> None:
    run = report(
        *go_report().gates,
        approvals=(
            RoleSignoff("qa", SignoffState.VALID, "quinn@example.com", "2026-11-27T10:00:00Z"),
            RoleSignoff("security", SignoffState.STALE, "sam@example.com", "2026-11-20T10:00:00Z"),
        ),
    )
    document = json.loads(render(run, Format.JSON, kind=ReportKind.STATUS))
    assert [(a["role"], a["state"], a["identity"]) for a in document["approvals"]] == [
        ("qa", "valid", "quinn@example.com"),
        ("security", "stale", "sam@example.com"),
    ]
    markdown = render(run, Format.MARKDOWN, kind=ReportKind.STATUS)
    assert "Policy approval" in markdown
    assert "- [x] qa" in markdown
    assert "- [ ] security" in markdown
