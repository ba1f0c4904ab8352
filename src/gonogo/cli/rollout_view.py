"""How a rollout is shown: a live terminal view, plain lines when piped, and text status."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from gonogo.errors import one_line
from gonogo.report.document import fmt_num, fmt_rate
from gonogo.report.rollout import TOTALS_HEADER, totals_rows
from gonogo.rollout.controller import Tick
from gonogo.rollout.state import DecisionRecord, RolloutRecord, RolloutState

_STATE_STYLE = {
    RolloutState.PROMOTED: "bold green",
    RolloutState.ROLLED_BACK: "bold red",
}


def headline(record: RolloutRecord) -> str:
    """``rollout #3: v2 over v1, canary step 2/4 at 25%``."""
    text = (
        f"rollout #{record.id}: {record.version} over {record.baseline_version}, "
        f"{record.describe()}"
    )
    if record.reason and not record.state.active:
        text += f" — {record.reason}"
    return text


def decision_line(action: str, reason: str, payload: Mapping[str, Any]) -> str:
    """One decision as one line, with its numbers."""
    totals = payload.get("totals") or {}
    base, canary = totals.get("baseline") or {}, totals.get("canary") or {}
    numbers = ""
    if base or canary:
        numbers = (
            f" [errors {fmt_rate(canary.get('error_rate'))} vs {fmt_rate(base.get('error_rate'))}, "
            f"p99 {fmt_num(canary.get('p99_ms'), '.0f')} vs {fmt_num(base.get('p99_ms'), '.0f')}"
            " ms]"
        )
    return f"{action}: {reason}{numbers}"


def totals_table(payload: Mapping[str, Any]) -> Table:
    """Per-variant requests, error rate and latency of the current step."""
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in TOTALS_HEADER:
        table.add_column(column, justify="left" if column == "variant" else "right")
    for row in totals_rows(payload.get("totals") or {}):
        table.add_row(*row)
    return table


def findings_table(payload: Mapping[str, Any]) -> Table | None:
    """Each metric's e-value and confidence bounds on its degradation."""
    findings = (payload.get("decision") or {}).get("findings") or []
    if not findings:
        return None
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("metric", "baseline", "canary", "e-value", "bounds", "tolerance"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for item in findings:
        lower, upper = item.get("lower"), item.get("upper")
        bounds = f"[{fmt_num(lower, '+.1%')}, {fmt_num(upper, '+.1%')}]"
        metric = str(item.get("metric", "?"))
        if item.get("group"):
            metric += f" [{item['group']}]"
        table.add_row(
            Text(metric),  # not markup: "[latency]" is text
            fmt_num(item.get("baseline")),
            fmt_num(item.get("canary")),
            fmt_num(item.get("e_value"), ".3g"),
            bounds,
            fmt_num(item.get("tolerance"), ".0%"),
        )
    return table


class LiveView:
    """Follows a rollout: a live view on a terminal, one line per change otherwise."""

    def __init__(self, console: Console | None = None, *, live: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live_enabled = self.console.is_terminal if live is None else live
        self._live: Live | None = None
        self._last_state: tuple[str, int, float] | None = None
        self._last: Tick | None = None

    def __enter__(self) -> LiveView:
        if self.live_enabled:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def __call__(self, tick: Tick) -> None:
        record = tick.record
        state = (record.state.value, record.step, record.weight)
        if self._live is not None:
            self._last = tick if tick.payload or self._last is None else _merge(self._last, tick)
            self._live.update(self._render(self._last))
            if state != self._last_state:
                # text, not markup: a version or a reason may hold "[/]" or "[rollout.source]"
                self._live.console.print(Text(headline(record)))
        else:
            # soft_wrap: one line per change, however long, for logs and grep
            if state != self._last_state:
                self._plain(headline(record))
            if tick.action and tick.action != "continue":
                self._plain("  " + decision_line(tick.action, tick.reason or "", tick.payload))
        self._last_state = state

    def _plain(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _render(self, tick: Tick) -> Group:
        style = _STATE_STYLE.get(tick.record.state, "bold")
        parts: list[Any] = [Text(headline(tick.record), style=style)]
        if tick.payload:
            parts.append(totals_table(tick.payload))
            findings = findings_table(tick.payload)
            if findings is not None:
                parts.append(findings)
        if tick.reason:
            parts.append(Text(f"{tick.action}: {tick.reason}", style="dim"))
        return Group(*parts)


def _merge(previous: Tick, tick: Tick) -> Tick:
    return Tick(tick.record, previous.action, previous.reason, previous.payload)


def status_text(
    record: RolloutRecord,
    timeline: Sequence[DecisionRecord],
    latest: DecisionRecord | None,
    *,
    unattended: bool = False,
) -> str:
    """``gonogo rollout status`` as text (``unattended``: under way, its controller gone)."""
    lines = [headline(record)]
    lines.append(
        f"  judge {record.plan.judge}, alpha {record.plan.alpha:g}, steps "
        + " -> ".join(f"{s.weight:g}%" for s in record.plan.steps)
        + " -> 100%"
    )
    if record.controller and unattended:
        lines.append(
            f"  controller {record.controller} stopped (last heartbeat {record.heartbeat_at}): "
            "gonogo rollout resume"
        )
    elif record.controller:
        lines.append(f"  controller {record.controller}, heartbeat {record.heartbeat_at}")
    elif record.state.active:
        lines.append("  no controller is running: gonogo rollout resume")
    begun = record.components.get("finishing")
    if record.state.active and isinstance(begun, Mapping) and begun.get("action"):
        what = "rollback" if begun.get("action") == "rollback" else "promotion"
        lines.append(
            f"  a {what} is under way ({one_line(str(begun.get('reason')))}); "
            "if no controller drives it, gonogo rollout resume finishes it"
        )
    if latest is not None:
        lines.append("  latest: " + decision_line(latest.action, latest.reason, latest.payload))
    if timeline:
        lines.append("  decisions:")
        for item in timeline:
            lines.append(
                f"    {item.at}  step {item.step + 1} at {item.weight:g}%  "
                + decision_line(item.action, item.reason, item.payload)
            )
    return "\n".join(lines)


def plain_console() -> Console:
    """A console on stderr for progress lines (no colour when piped)."""
    return Console(stderr=True, file=sys.stderr)
