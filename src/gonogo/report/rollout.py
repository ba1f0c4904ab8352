"""A rollout, the list of rollouts, a simulation and the demo's run as report documents.

Each reads the JSON its command prints with ``--format json`` (``gonogo.rollout/v1``,
the simulation report, ``gonogo.demo/v1``), so every format shows the same numbers: the
rollout's state and reason, the latest decision with each metric's evidence and the
per-variant totals, and the timeline of audit events and decisions.
:mod:`gonogo.report.document` renders them as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gonogo.report.document import (
    MISSING,
    Document,
    Outcome,
    Section,
    Table,
    fmt_num,
    fmt_rate,
    member,
)
from gonogo.report.interface import ReportError

__all__ = [
    "TOTALS_HEADER",
    "demo_document",
    "rollout_document",
    "rollouts_document",
    "simulation_document",
    "totals_rows",
]

_OUTCOMES = {
    "promoted": Outcome("promoted", "good"),
    "rolled_back": Outcome("rolled back", "bad"),
}


def _state_word(state: str) -> str:
    return state.replace("_", " ")


def _bounds(lower: Any, upper: Any) -> str:
    if lower is None and upper is None:
        return MISSING
    return f"[{fmt_num(lower, '+.1%')}, {fmt_num(upper, '+.1%')}]"


#: the columns of a decision's per-variant totals, in every view of a rollout
TOTALS_HEADER = ("variant", "requests", "errors", "error rate", "p50 ms", "p99 ms")


def totals_rows(totals: Any) -> list[tuple[str, ...]]:
    """The baseline's and the canary's row of a decision's ``totals`` (``-`` where absent)."""
    rows: list[tuple[str, ...]] = []
    for variant in ("baseline", "canary"):
        row = member(totals, variant) or {}
        rows.append(
            (
                variant,
                fmt_num(member(row, "requests"), "d"),
                fmt_num(member(row, "errors"), "d"),
                fmt_rate(member(row, "error_rate")),
                fmt_num(member(row, "p50_ms"), ".1f"),
                fmt_num(member(row, "p99_ms"), ".1f"),
            )
        )
    return rows


def _totals(payload: Mapping[str, Any]) -> Table | None:
    totals = member(payload, "totals")
    if not totals:
        return None
    numeric = (False, True, True, True, True, True)
    return Table.of(TOTALS_HEADER, totals_rows(totals), numeric=numeric)


def _findings(payload: Mapping[str, Any]) -> Table | None:
    findings = member(member(payload, "decision"), "findings") or []
    if not findings:
        return None
    rows = []
    for item in findings:
        metric = str(member(item, "metric") or "?")
        if member(item, "group"):
            metric += f" ({item['group']})"
        within = member(item, "within_tolerance")
        verdict = "within" if within else ("worse" if member(item, "worse") else "not yet")
        rows.append(
            (
                metric,
                fmt_num(member(item, "baseline")),
                fmt_num(member(item, "canary")),
                fmt_num(member(item, "e_value")),
                _bounds(member(item, "lower"), member(item, "upper")),
                fmt_num(member(item, "tolerance"), ".0%"),
                verdict,
            )
        )
    header = ("metric", "baseline", "canary", "e-value", "degradation", "tolerance", "verdict")
    return Table.of(header, rows, numeric=(False, True, True, True, True, True, False))


def _latest(latest: Mapping[str, Any]) -> Section:
    decision = member(latest, "decision") or {}
    step = member(latest, "step")
    where = f"step {step + 1}" if isinstance(step, int) else "a step"
    summary = (
        f"{member(latest, 'action')} ({member(latest, 'basis')}) at {member(latest, 'at')}, "
        f"{where} at {fmt_num(member(latest, 'weight'), 'g')}%"
    )
    e_value, threshold = member(decision, "e_value"), member(decision, "threshold")
    if e_value is not None:
        summary += f"; e-value {fmt_num(e_value)} against {fmt_num(threshold, '.4g')}"
    reason = str(member(latest, "reason") or "")
    tables = tuple(t for t in (_totals(latest), _findings(latest)) if t is not None)
    return Section("Latest decision", (summary, reason) if reason else (summary,), tables)


def _event_detail(event: Mapping[str, Any]) -> str:
    kind = str(member(event, "event") or "").removeprefix("rollout.")
    if kind == "started":
        steps = member(event, "steps") or []
        split = " → ".join(f"{fmt_num(w, 'g')}%" for w in steps)
        return (
            f"{member(event, 'version')} over {member(event, 'baseline_version')}, judge "
            f"{member(event, 'judge')}, steps {split} → 100%"
        )
    if kind == "staging":
        return "staging checks"
    if kind == "canary":
        return f"staging {member(event, 'staging') or 'passed'}"
    if kind == "weight":
        return f"{fmt_num(member(event, 'from'), 'g')}% → {fmt_num(member(event, 'to'), 'g')}%"
    if kind == "decision":
        return f"{member(event, 'action')} ({member(event, 'basis')}): {member(event, 'reason')}"
    if kind in ("step_passed", "step_inconclusive"):
        return str(member(member(event, "decision"), "reason") or "")
    if kind == "restarted":
        return (
            f"{member(event, 'from_version')} → {member(event, 'to_version')} "
            f"by {member(event, 'by')}: the analysis starts over"
        )
    if kind == "resumed":
        return f"controller {member(event, 'controller')}"
    if kind.endswith("_requested"):
        argument = member(event, "argument")
        return f"by {member(event, 'actor')}" + (f": {argument}" if argument else "")
    return str(member(event, "reason") or "")


def _timeline(events: Sequence[Mapping[str, Any]]) -> Table:
    rows = []
    for event in events:
        kind = str(member(event, "event") or "").removeprefix("rollout.")
        if kind == "decision":
            kind = f"decision: {member(event, 'action')}"
        rows.append(
            (
                str(member(event, "at") or ""),
                kind.replace("_", " "),
                fmt_num(member(event, "weight"), "g"),
                _event_detail(event),
            )
        )
    return Table.of(
        ("at", "event", "weight %", "detail"),
        rows,
        numeric=(False, False, True, False),
        empty="Nothing recorded yet.",
    )


def rollout_document(doc: Mapping[str, Any], *, extra: Sequence[Section] = ()) -> Document:
    """A ``gonogo.rollout/v1`` document as a report (``extra``: sections after the facts)."""
    record = member(doc, "rollout")
    if not isinstance(record, Mapping):
        raise ReportError("not a rollout document: it has no 'rollout' object")
    state = str(member(record, "state") or "unknown")
    steps, step = member(record, "steps"), member(record, "step")
    facts = [
        ("state", _state_word(state)),
        ("release", str(member(record, "release") or MISSING)),
        ("weight", f"{fmt_num(member(record, 'weight'), 'g')}%"),
    ]
    if isinstance(step, int) and isinstance(steps, int) and step >= 0:
        facts.append(("step", f"{min(step + 1, steps)} of {steps}"))
    facts += [
        ("started", f"{member(record, 'created_at')} by {member(record, 'created_by')}"),
        ("last change", str(member(record, "updated_at") or MISSING)),
        ("plan digest", str(member(record, "plan_digest") or MISSING)[:12]),
    ]
    if member(record, "controller"):
        facts.append(("controller", f"{record['controller']}, heartbeat {record['heartbeat_at']}"))
    sections = list(extra)
    latest = member(doc, "latest")
    if isinstance(latest, Mapping):
        sections.append(_latest(latest))
    events = [e for e in member(doc, "timeline") or [] if isinstance(e, Mapping)]
    sections.append(Section("Timeline", tables=(_timeline(events),)))
    return Document(
        title=(
            f"Rollout #{member(record, 'id')}: {member(record, 'version')} over "
            f"{member(record, 'baseline_version')}"
        ),
        outcome=_OUTCOMES.get(state, Outcome(_state_word(state))),
        summary=str(member(record, "reason") or ""),
        facts=tuple(facts),
        sections=tuple(sections),
    )


def rollouts_document(records: Sequence[Mapping[str, Any]]) -> Document:
    """The recent rollouts (``rollout status --all``) as one table."""
    rows = [
        (
            f"#{member(r, 'id')}",
            str(member(r, "version")),
            str(member(r, "baseline_version")),
            _state_word(str(member(r, "state"))),
            fmt_num(member(r, "weight"), "g"),
            str(member(r, "created_at")),
            str(member(r, "reason") or ""),
        )
        for r in records
    ]
    table = Table.of(
        ("rollout", "version", "baseline", "state", "weight %", "started", "reason"),
        rows,
        numeric=(False, False, False, False, True, False, False),
        empty="No rollouts yet.",
    )
    return Document("Rollouts", sections=(Section("Recent rollouts", tables=(table,)),))


def simulation_document(report: Mapping[str, Any]) -> Document:
    """A simulation report (its JSON form) as a table of its numbers."""

    def seconds(key: str) -> str:
        value = member(report, key)
        return MISSING if value is None else f"{fmt_num(value, '.1f')} s"

    return Document(
        title=f"Simulation: {member(report, 'scenario')}, judge {member(report, 'judge')}",
        facts=(
            ("runs", fmt_num(member(report, "runs"), "d")),
            ("false rollbacks", fmt_rate(member(report, "false_rollback_rate"))),
            ("detected", fmt_rate(member(report, "detection_rate"))),
            ("mean detection", seconds("mean_detection_s")),
            ("median detection", seconds("median_detection_s")),
            ("p95 detection", seconds("p95_detection_s")),
            ("exposed requests (mean)", fmt_num(member(report, "mean_exposed_requests"), ".0f")),
            ("inconclusive", fmt_rate(member(report, "inconclusive_rate"))),
            ("promoted", fmt_rate(member(report, "promoted_rate"))),
        ),
    )


def demo_document(doc: Mapping[str, Any]) -> Document:
    """``gonogo demo``'s run (its JSON form): the gate commands, then the rollout."""
    timeline = [e for e in member(doc, "timeline") or [] if isinstance(e, Mapping)]
    decisions = [e for e in timeline if member(e, "event") == "rollout.decision"]
    steps = [
        (
            str(member(step, "step")),
            str(member(step, "command")),
            fmt_num(member(step, "exit"), "d"),
        )
        for step in member(doc, "steps") or []
    ]
    gates = Table.of(("step", "command", "exit"), steps, numeric=(False, False, True))
    return rollout_document(
        {
            "rollout": member(doc, "rollout"),
            "latest": decisions[-1] if decisions else None,
            "timeline": timeline,
        },
        extra=(Section("Gates", tables=(gates,)),) if steps else (),
    )
