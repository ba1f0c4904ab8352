"""A rollout and a simulation as Markdown and as one self-contained HTML page.

Both read the JSON documents the commands print with ``--format json``
(``gonogo.rollout/v1`` and the simulation report), so every format shows the same
numbers: the rollout's state and reason, the latest decision with each metric's
evidence and the per-variant totals, and the timeline of audit events and decisions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from gonogo.report.html import template_environment
from gonogo.report.interface import ReportError, clean_text
from gonogo.report.markdown import escape_inline

__all__ = [
    "demo_html",
    "demo_markdown",
    "fmt_num",
    "fmt_rate",
    "rollout_html",
    "rollout_markdown",
    "rollouts_html",
    "rollouts_markdown",
    "simulation_html",
    "simulation_markdown",
]

#: how a value that is absent (or not a finite number) shows in every format
MISSING = "-"

_OUTCOME_MARKERS = {"promoted": "✅", "rolled_back": "❌"}
_STATE_WORDS = {"rolled_back": "rolled back"}


def fmt_num(value: Any, spec: str = ".3g") -> str:
    """A number with ``spec``, or ``-`` for none, nan or infinity."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if spec.endswith("d"):  # a count that travelled as a float
            spec = spec[:-1] + ".0f"
    return format(value, spec)


def fmt_rate(value: Any) -> str:
    """A fraction as a percentage with two decimals (``5.34%``)."""
    return fmt_num(value, ".2%")


def _bounds(lower: Any, upper: Any) -> str:
    if lower is None and upper is None:
        return MISSING
    return f"[{fmt_num(lower, '+.1%')}, {fmt_num(upper, '+.1%')}]"


def _state_word(state: str) -> str:
    return _STATE_WORDS.get(state, state)


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


# -- the content, shared by both formats ----------------------------------------------------


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, ...]


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    right: tuple[bool, ...]  # which columns are numbers
    rows: tuple[_Row, ...]


@dataclass(frozen=True)
class _Decision:
    summary: str
    reason: str
    totals: _Table | None
    findings: _Table | None


@dataclass(frozen=True)
class _Rollout:
    title: str
    state: str
    marker: str
    reason: str
    facts: tuple[tuple[str, str], ...]
    latest: _Decision | None
    timeline: _Table


def _table(header: Sequence[str], right: Sequence[bool], rows: Sequence[Sequence[str]]) -> _Table:
    return _Table(tuple(header), tuple(right), tuple(_Row(tuple(r)) for r in rows))


def _totals(payload: Mapping[str, Any]) -> _Table | None:
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
    return _table(header, (False, True, True, True, True, True), rows)


def _findings(payload: Mapping[str, Any]) -> _Table | None:
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
    return _table(header, (False, True, True, True, True, True, False), rows)


def _decision(latest: Mapping[str, Any]) -> _Decision:
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
    return _Decision(
        summary=summary,
        reason=str(_get(latest, "reason") or ""),
        totals=_totals(latest),
        findings=_findings(latest),
    )


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


def _timeline(events: Sequence[Mapping[str, Any]]) -> _Table:
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
    return _table(("at", "event", "weight %", "detail"), (False, False, True, False), rows)


def _rollout(doc: Mapping[str, Any]) -> _Rollout:
    record = _get(doc, "rollout")
    if not isinstance(record, Mapping):
        raise ReportError("not a rollout document: it has no 'rollout' object")
    state = str(_get(record, "state") or "unknown")
    steps = _get(record, "steps")
    step = _get(record, "step")
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
    latest = _get(doc, "latest")
    return _Rollout(
        title=(
            f"Rollout #{_get(record, 'id')}: {_get(record, 'version')} over "
            f"{_get(record, 'baseline_version')}"
        ),
        state=state,
        marker=_OUTCOME_MARKERS.get(state, "⏳"),
        reason=str(_get(record, "reason") or ""),
        facts=tuple(facts),
        latest=_decision(latest) if isinstance(latest, Mapping) else None,
        timeline=_timeline([e for e in _get(doc, "timeline") or [] if isinstance(e, Mapping)]),
    )


# -- Markdown -------------------------------------------------------------------------------


def _md_table(table: _Table) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(escape_inline(c) for c in cells) + " |"

    rule = "| " + " | ".join("---:" if r else "---" for r in table.right) + " |"
    return [line(table.header), rule, *(line(row.cells) for row in table.rows)]


def _md_heading(text: str) -> str:
    return escape_inline(clean_text(text).replace("\n", " "))


def rollout_markdown(doc: Mapping[str, Any], *, sections: Sequence[tuple[str, _Table]] = ()) -> str:
    """A ``gonogo.rollout/v1`` document as Markdown (``sections``: more tables, first)."""
    view = _rollout(doc)
    lines = [f"# {_md_heading(view.title)}", ""]
    head = f"{view.marker} **{escape_inline(_state_word(view.state))}**"
    if view.reason:
        head += f": {escape_inline(view.reason)}"
    lines += [head, ""]
    lines += _md_table(_table(("", ""), (False, False), view.facts))
    for heading, section in sections:
        lines += ["", f"## {_md_heading(heading)}", "", *_md_table(section)]
    if view.latest is not None:
        lines += ["", "## Latest decision", "", escape_inline(view.latest.summary)]
        if view.latest.reason:
            lines += ["", escape_inline(view.latest.reason)]
        for table in (view.latest.totals, view.latest.findings):
            if table is not None:
                lines += ["", *_md_table(table)]
    lines += ["", "## Timeline", ""]
    if view.timeline.rows:
        lines += _md_table(view.timeline)
    else:
        lines.append("_Nothing recorded yet._")
    return "\n".join(lines) + "\n"


def _listing(records: Sequence[Mapping[str, Any]]) -> _Table:
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
    header = ("rollout", "version", "baseline", "state", "weight %", "started", "reason")
    return _table(header, (False, False, False, False, True, False, False), rows)


def rollouts_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """The recent rollouts (``rollout status --all``) as a Markdown table."""
    lines = ["# Rollouts", ""]
    lines += _md_table(_listing(records)) if records else ["_No rollouts yet._"]
    return "\n".join(lines) + "\n"


def _simulation(report: Mapping[str, Any]) -> tuple[str, _Table]:
    def seconds(key: str) -> str:
        value = _get(report, key)
        return MISSING if value is None else f"{fmt_num(value, '.1f')} s"

    rows = [
        ("runs", fmt_num(_get(report, "runs"), "d")),
        ("false rollbacks", fmt_rate(_get(report, "false_rollback_rate"))),
        ("detected", fmt_rate(_get(report, "detection_rate"))),
        ("mean detection", seconds("mean_detection_s")),
        ("median detection", seconds("median_detection_s")),
        ("p95 detection", seconds("p95_detection_s")),
        ("exposed requests (mean)", fmt_num(_get(report, "mean_exposed_requests"), ".0f")),
        ("inconclusive", fmt_rate(_get(report, "inconclusive_rate"))),
        ("promoted", fmt_rate(_get(report, "promoted_rate"))),
    ]
    title = f"Simulation: {_get(report, 'scenario')}, judge {_get(report, 'judge')}"
    return title, _table(("", ""), (False, True), rows)


def simulation_markdown(report: Mapping[str, Any]) -> str:
    """A simulation report (its JSON form) as Markdown."""
    title, table = _simulation(report)
    return "\n".join([f"# {_md_heading(title)}", "", *_md_table(table)]) + "\n"


# -- HTML -----------------------------------------------------------------------------------


def _render(template: str, **values: Any) -> str:
    try:
        page = template_environment("gonogo.report").get_template(template)
    except jinja2.TemplateError as error:  # a broken install, not the user's input
        raise ReportError(f"cannot load the HTML template {template}: {error}") from error
    return page.render(**values)


def rollout_html(doc: Mapping[str, Any], *, sections: Sequence[tuple[str, _Table]] = ()) -> str:
    """A ``gonogo.rollout/v1`` document as one self-contained HTML page."""
    view = _rollout(doc)
    return _render(
        "rollout.html.j2",
        title=view.title,
        view=view,
        state_word=_state_word(view.state),
        sections=list(sections),
        tables=[],
    )


def rollouts_html(records: Sequence[Mapping[str, Any]]) -> str:
    """The recent rollouts (``rollout status --all``) as one HTML page."""
    return _render(
        "rollout.html.j2", title="Rollouts", view=None, sections=[], tables=[_listing(records)]
    )


def simulation_html(report: Mapping[str, Any]) -> str:
    """A simulation report (its JSON form) as one HTML page."""
    title, table = _simulation(report)
    return _render("rollout.html.j2", title=title, view=None, sections=[], tables=[table])


# -- the demo -------------------------------------------------------------------------------


def _demo(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, _Table]]]:
    """The demo's run as a rollout document, and its gate commands as a section."""
    timeline = [e for e in _get(doc, "timeline") or [] if isinstance(e, Mapping)]
    decisions = [e for e in timeline if _get(e, "event") == "rollout.decision"]
    rollout_doc = {
        "rollout": _get(doc, "rollout"),
        "latest": decisions[-1] if decisions else None,
        "timeline": timeline,
    }
    steps = [
        (str(_get(step, "step")), str(_get(step, "command")), fmt_num(_get(step, "exit"), "d"))
        for step in _get(doc, "steps") or []
    ]
    gates = _table(("step", "command", "exit"), (False, False, True), steps)
    return rollout_doc, [("Gates", gates)] if steps else []


def demo_markdown(doc: Mapping[str, Any]) -> str:
    """``gonogo demo``'s run (its JSON form) as Markdown: the gates, then the rollout."""
    rollout_doc, sections = _demo(doc)
    return rollout_markdown(rollout_doc, sections=sections)


def demo_html(doc: Mapping[str, Any]) -> str:
    """``gonogo demo``'s run (its JSON form) as one HTML page."""
    rollout_doc, sections = _demo(doc)
    return rollout_html(rollout_doc, sections=sections)
