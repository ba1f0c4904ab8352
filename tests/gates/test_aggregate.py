"""How a gate's criterion results add up to its outcome: ``all`` and ``weighted``."""

from __future__ import annotations

from typing import Any

import pytest

from gonogo.gates.aggregate import outcome
from gonogo.gates.results import CriterionResult, Outcome, Status
from gonogo.policy.model import Gate


def _gate(*criteria: dict[str, Any], **settings: Any) -> Gate:
    return Gate.model_validate(
        {
            "id": "quality",
            "title": "Quality",
            "phase": 4,
            "criteria": [{"check": "command", **c} for c in criteria],
            **settings,
        }
    )


def _result(criterion: str, status: Status, *, blocking: bool = True) -> CriterionResult:
    return CriterionResult(
        gate="quality",
        criterion=criterion,
        check="command",
        title=criterion,
        status=status,
        reason=f"{criterion} is {status.value}",
        blocking=blocking,
    )


def test_all_passing_criteria_make_a_passing_gate_without_a_score() -> None:
    gate = _gate({"id": "a"}, {"id": "b"})

    result, score, reasons = outcome(gate, [_result("a", Status.PASS), _result("b", Status.PASS)])

    assert (result, score, reasons) == (Outcome.PASS, None, [])


@pytest.mark.parametrize("status", [Status.FAIL, Status.ERROR, Status.NOT_REPORTED])
def test_a_blocking_criterion_that_is_not_passing_fails_the_gate(status: Status) -> None:
    gate = _gate({"id": "a"}, {"id": "b"})

    result, _, reasons = outcome(gate, [_result("a", Status.PASS), _result("b", status)])

    assert result is Outcome.FAIL
    assert reasons == [f"b: {status.value}: b is {status.value}"]


def test_a_failing_advisory_criterion_only_warns() -> None:
    gate = _gate({"id": "a"}, {"id": "lint", "blocking": False})

    result, _, reasons = outcome(
        gate, [_result("a", Status.PASS), _result("lint", Status.FAIL, blocking=False)]
    )

    assert result is Outcome.WARN
    assert reasons == ["lint: fail (advisory)"]


@pytest.mark.parametrize("status", [Status.WAIVED, Status.NOT_APPLICABLE])
def test_waived_and_not_applicable_criteria_let_the_gate_pass(status: Status) -> None:
    gate = _gate({"id": "a"}, {"id": "b"})

    result, _, _ = outcome(gate, [_result("a", Status.PASS), _result("b", status)])

    assert result is Outcome.PASS


WEIGHTED = {"aggregation": "weighted", "pass_score": 0.8, "warn_score": 0.5}


def test_weighted_score_is_the_weighted_share_of_passing_criteria() -> None:
    gate = _gate({"id": "a", "weight": 3}, {"id": "b", "weight": 1}, **WEIGHTED)

    result, score, reasons = outcome(gate, [_result("a", Status.PASS), _result("b", Status.FAIL)])

    assert score == pytest.approx(0.75)
    assert result is Outcome.WARN
    assert reasons == ["score 0.75 is below the pass score 0.80"]


def test_weighted_score_at_the_pass_score_passes_despite_a_failure() -> None:
    gate = _gate({"id": "a", "weight": 4}, {"id": "b", "weight": 1}, **WEIGHTED)

    result, score, _ = outcome(gate, [_result("a", Status.PASS), _result("b", Status.FAIL)])

    assert score == pytest.approx(0.8)
    assert result is Outcome.PASS


def test_weighted_score_below_the_warn_score_fails() -> None:
    gate = _gate({"id": "a", "weight": 1}, {"id": "b", "weight": 3}, **WEIGHTED)

    result, score, reasons = outcome(gate, [_result("a", Status.PASS), _result("b", Status.FAIL)])

    assert score == pytest.approx(0.25)
    assert result is Outcome.FAIL
    assert reasons == ["score 0.25 is below the warn score 0.50"]


def test_a_warning_criterion_counts_half() -> None:
    gate = _gate({"id": "a"}, {"id": "b"}, **WEIGHTED)

    _, score, _ = outcome(gate, [_result("a", Status.PASS), _result("b", Status.WARN)])

    assert score == pytest.approx(0.75)


def test_not_applicable_criteria_are_left_out_of_the_score() -> None:
    gate = _gate({"id": "a"}, {"id": "b", "weight": 9}, **WEIGHTED)

    result, score, _ = outcome(
        gate, [_result("a", Status.PASS), _result("b", Status.NOT_APPLICABLE)]
    )

    assert result is Outcome.PASS
    assert score == pytest.approx(1.0)


def test_a_failing_key_criterion_vetoes_a_high_score() -> None:
    gate = _gate(
        {"id": "a", "weight": 10},
        {"id": "b", "weight": 10},
        {"id": "secrets", "key": True},
        **WEIGHTED,
    )

    result, score, reasons = outcome(
        gate,
        [_result("a", Status.PASS), _result("b", Status.PASS), _result("secrets", Status.FAIL)],
    )

    assert score == pytest.approx(20 / 21)
    assert result is Outcome.FAIL
    assert reasons == ["secrets is a key criterion and is fail: secrets is fail"]


def test_a_waived_key_criterion_does_not_veto() -> None:
    gate = _gate({"id": "a"}, {"id": "secrets", "key": True}, **WEIGHTED)

    result, _, _ = outcome(gate, [_result("a", Status.PASS), _result("secrets", Status.WAIVED)])

    assert result is Outcome.PASS
