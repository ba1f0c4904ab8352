"""Combine a gate's criterion results into an outcome (before sign-offs)."""

from __future__ import annotations

from collections.abc import Sequence

from gonogo.gates.results import PASSING, CriterionResult, Outcome, Status
from gonogo.policy.model import Aggregation, Gate

_SCORE = {Status.PASS: 1.0, Status.WAIVED: 1.0, Status.WARN: 0.5}


def outcome(
    gate: Gate, results: Sequence[CriterionResult]
) -> tuple[Outcome, float | None, list[str]]:
    """The gate's outcome, its weighted score (None for ``all``) and why it is not a pass."""
    reasons: list[str] = []
    blocking_bad = [r for r in results if r.blocking and r.status not in PASSING]
    advisory_bad = [r for r in results if not r.blocking and r.status not in PASSING]
    warned = [r for r in results if r.status is Status.WARN]
    if gate.aggregation is Aggregation.ALL:
        for r in blocking_bad:
            reasons.append(f"{r.criterion}: {r.status.value}: {r.reason}")
        if blocking_bad:
            return Outcome.FAIL, None, reasons
        if advisory_bad or warned:
            reasons.extend(f"{r.criterion}: {r.status.value} (advisory)" for r in advisory_bad)
            reasons.extend(f"{r.criterion}: warn: {r.reason}" for r in warned)
            return Outcome.WARN, None, reasons
        return Outcome.PASS, None, reasons
    weights = {c.id: c.weight for c in gate.criteria}
    keys = {c.id for c in gate.criteria if c.key}
    counted = [r for r in results if r.status is not Status.NOT_APPLICABLE]
    total = sum(weights[r.criterion] for r in counted)
    score = (
        sum(weights[r.criterion] * _SCORE.get(r.status, 0.0) for r in counted) / total
        if total
        else 1.0
    )
    vetoes = [r for r in counted if r.criterion in keys and r.status not in PASSING]
    for r in vetoes:
        reasons.append(f"{r.criterion} is a key criterion and is {r.status.value}: {r.reason}")
    if vetoes:
        return Outcome.FAIL, score, reasons
    if score >= gate.pass_score:
        return Outcome.PASS, score, reasons
    if score >= gate.warn_score:
        reasons.append(f"score {score:.2f} is below the pass score {gate.pass_score:.2f}")
        return Outcome.WARN, score, reasons
    reasons.append(f"score {score:.2f} is below the warn score {gate.warn_score:.2f}")
    return Outcome.FAIL, score, reasons
