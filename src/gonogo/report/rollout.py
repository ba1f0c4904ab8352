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
)
from gonogo.report.interface import ReportError

__all__ = ["demo_document", "rollout_document", "rollouts_document", "simulation_document"]

_OUTCOMES = {
    "promoted": Outcome("promoted", "good"),
    "rolled_back": Outcome("rolled back", "bad"),
}


def _state_word(state: str) -> str:
    return state.replace("_", " ")


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _bounds(lower: Any, upper: Any) -> str:
    if lower is None and upper is None:
        return MISSING
    return f"[{fmt_num(lower, '+.1%')}, {fmt_num(upper, '+.1%')}]"


def _totals(payload: Mapping[str, Any]) -> Table | None:
    totals = _get(payload, "totals")
    if not totals:
        return None
    rows = []
    for variant in ("baseline", "canary"):
        row = _get(totals, variant) or {}
        rows.append(
            (
                variant,
                fmt_num(_get(row, "requests"), "d"),
                fmt_num(_get(row, "errors"), "d"),
                fmt_rate(_get(row, "error_rate")),
                fmt_num(_get(row, "p50_ms"), ".1f"),
                fmt_num(_get(row, "p99_ms"), ".1f"),
            )
        )
    header = ("variant", "requests", "errors", "error rate", "p50 ms", "p99 ms")
    return Table.of(header, rows, numeric=(False, True, True, True, True, True))


def _findings(payload: Mapping[str, Any]) -> Table | None:
    findings = _get(_get(payload, "decision"), "findings") or []
    if not findings:
        return None
    rows = []
    for item in findings:
        metric = str(_get(item, "metric") or "?")
        if _get(item, "group"):
            metric += f" ({item['group']})"
        within = _get(item, "within_tolerance")
        verdict = "within" if within else ("worse" if _get(item, "worse") else "not yet")
        rows.append(
            (
                metric,
                fmt_num(_get(item, "baseline")),
                fmt_num(_get(item, "canary")),
                fmt_num(_get(item, "e_value")),
                _bounds(_get(item, "lower"), _get(item, "upper")),
                fmt_num(_get(item, "tolerance"), ".0%"),
                verdict,
            )
        )
    header = ("metric", "baseline", "canary", "e-value", "degradation", "tolerance", "verdict")
    return Table.of(header, rows, numeric=(False, True, True, True, True, True, False))


def _latest(latest: Mapping[str, Any]) -> Section:
    decision = _get(latest, "decision") or {}
    step = _get(latest, "step")
    where = f"step {step + 1}" if isinstance(step, int) else "a step"
    summary = (
        f"{_get(latest, 'action')} ({_get(latest, 'basis')}) at {_get(latest, 'at')}, "
        f"{where} at {fmt_num(_get(latest, 'weight'), 'g')}%"
    )
    e_value, threshold = _get(decision, "e_value"), _get(decision, "threshold")
    if e_value is not None:
        summary += f"; e-value {fmt_num(e_value)} against {fmt_num(threshold, '.4g')}"
    reason = str(_get(latest, "reason") or "")
    tables = tuple(t for t in (_totals(latest), _findings(latest)) if t is not None)
    return Section("Latest decision", (summary, reason) if reason else (summary,), tables)


def _event_detail(event: Mapping[str, Any]) -> str:
    kind = str(_get(event, "event") or "").removeprefix("rollout.")
    if kind == "started":
        steps = _get(event, "steps") or []
        split = " → ".join(f"{fmt_num(w, 'g')}%" for w in steps)
        return (
            f"{_get(event, 'version')} over {_get(event, 'baseline_version')}, judge "
            f"{_get(event, 'judge')}, steps {split} → 100%"
        )
    if kind == "staging":
        return "staging checks"
    if kind == "canary":
        return f"staging {_get(event, 'staging') or 'passed'}"
    if kind == "weight":
        return f"{fmt_num(_get(event, 'from'), 'g')}% → {fmt_num(_get(event, 'to'), 'g')}%"
    if kind == "decision":
        return f"{_get(event, 'action')} ({_get(event, 'basis')}): {_get(event, 'reason')}"
    if kind in ("step_passed", "step_inconclusive"):
        return str(_get(_get(event, "decision"), "reason") or "")
    if kind == "restarted":
        return (
            f"{_get(event, 'from_version')} → {_get(event, 'to_version')} "
            f"by {_get(event, 'by')}: the analysis starts over"
        )
    if kind == "resumed":
        return f"controller {_get(event, 'controller')}"
    if kind.endswith("_requested"):
        argument = _get(event, "argument")
        return f"by {_get(event, 'actor')}" + (f": {argument}" if argument else "")
    return str(_get(event, "reason") or "")


def _timeline(events: Sequence[Mapping[str, Any]]) -> Table:
    rows = []
    for event in events:
        kind = str(_get(event, "event") or "").removeprefix("rollout.")
        if kind == "decision":
            kind = f"decision: {_get(event, 'action')}"
        rows.append(
            (
                str(_get(event, "at") or ""),
                kind.replace("_", " "),
                fmt_num(_get(event, "weight"), "g"),
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
    record = _get(doc, "rollout")
    if not isinstance(record, Mapping):
        raise ReportError("not a rollout document: it has no 'rollout' object")
    state = str(_get(record, "state") or "unknown")
    steps, step = _get(record, "steps"), _get(record, "step")
    facts = [
        ("state", _state_word(state)),
        ("release", str(_get(record, "release") or MISSING)),
        ("weight", f"{fmt_num(_get(record, 'weight'), 'g')}%"),
    ]
    if isinstance(step, int) and isinstance(steps, int) and step >= 0:
        facts.append(("step", f"{min(step + 1, steps)} of {steps}"))
    facts += [
        ("started", f"{_get(record, 'created_at')} by {_get(record, 'created_by')}"),
        ("last change", str(_get(record, "updated_at") or MISSING)),
        ("plan digest", str(_get(record, "plan_digest") or MISSING)[:12]),
    ]
    if _get(record, "controller"):
        facts.append(("controller", f"{record['controller']}, heartbeat {record['heartbeat_at']}"))
    sections = list(extra)
    latest = _get(doc, "latest")
    if isinstance(latest, Mapping):
        sections.append(_latest(latest))
    events = [e for e in _get(doc, "timeline") or [] if isinstance(e, Mapping)]
    sections.append(Section("Timeline", tables=(_timeline(events),)))
    return Document(
        title=(
            f"Rollout #{_get(record, 'id')}: {_get(record, 'version')} over "
            f"{_get(record, 'baseline_version')}"
        ),
        outcome=_OUTCOMES.get(state, Outcome(_state_word(state))),
        summary=str(_get(record, "reason") or ""),
        facts=tuple(facts),
        sections=tuple(sections),
    )


def rollouts_document(records: Sequence[Mapping[str, Any]]) -> Document:
    """The recent rollouts (``rollout status --all``) as one table."""
    rows = [
        (
            f"#{_get(r, 'id')}",
            str(_get(r, "version")),
            str(_get(r, "baseline_version")),
            _state_word(str(_get(r, "state"))),
            fmt_num(_get(r, "weight"), "g"),
            str(_get(r, "created_at")),
            str(_get(r, "reason") or ""),
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
        value = _get(report, key)
        return MISSING if value is None else f"{fmt_num(value, '.1f')} s"

    return Document(
        title=f"Simulation: {_get(report, 'scenario')}, judge {_get(report, 'judge')}",
        facts=(
            ("runs", fmt_num(_get(report, "runs"), "d")),
            ("false rollbacks", fmt_rate(_get(report, "false_rollback_rate"))),
            ("detected", fmt_rate(_get(report, "detection_rate"))),
            ("mean detection", seconds("mean_detection_s")),
            ("median detection", seconds("median_detection_s")),
            ("p95 detection", seconds("p95_detection_s")),
            ("exposed requests (mean)", fmt_num(_get(report, "mean_exposed_requests"), ".0f")),
            ("inconclusive", fmt_rate(_get(report, "inconclusive_rate"))),
            ("promoted", fmt_rate(_get(report, "promoted_rate"))),
        ),
    )


def demo_document(doc: Mapping[str, Any]) -> Document:
    """``gonogo demo``'s run (its JSON form): the gate commands, then the rollout."""
    timeline = [e for e in _get(doc, "timeline") or [] if isinstance(e, Mapping)]
    decisions = [e for e in timeline if _get(e, "event") == "rollout.decision"]
    steps = [
        (str(_get(step, "step")), str(_get(step, "command")), fmt_num(_get(step, "exit"), "d"))
        for step in _get(doc, "steps") or []
    ]
    gates = Table.of(("step", "command", "exit"), steps, numeric=(False, False, True))
    return rollout_document(
        {
            "rollout": _get(doc, "rollout"),
            "latest": decisions[-1] if decisions else None,
            "timeline": timeline,
        },
        extra=(Section("Gates", tables=(gates,)),) if steps else (),
    )
