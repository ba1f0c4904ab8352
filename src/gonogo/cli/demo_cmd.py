"""``gonogo demo``: a release through its gates and a canary rollout, on this machine."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gonogo.cli import output
from gonogo.cli.common import OutputOption, number_between
from gonogo.cli.rollout_view import LiveView
from gonogo.demo import DemoResult, run_demo
from gonogo.errors import ExitCode
from gonogo.report.document import render_document
from gonogo.report.rollout import demo_document


class DemoFormat(StrEnum):
    """Formats of the demo's result."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


def demo(
    healthy: Annotated[
        bool,
        typer.Option(
            "--healthy", help="Roll out a healthy v2 (promoted) instead of a regressed one."
        ),
    ] = False,
    rps: Annotated[
        float,
        typer.Option(
            "--rps",
            parser=number_between(20, 2000),
            metavar="20-2000",
            help="Load offered to the service, requests per second.",
        ),
    ] = 200.0,
    keep: Annotated[
        Path | None,
        typer.Option(
            "--keep",
            metavar="DIR",
            file_okay=False,
            help="Build the demo project in DIR and keep it (default: a temporary directory).",
        ),
    ] = None,
    fmt: Annotated[
        DemoFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = DemoFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Walk a release through its gates and a canary rollout of a bundled sample service.

    v1 and a regressed v2 (or with --healthy a good one) run as local processes behind
    the builtin router under generated load; the canary is judged every second and rolled
    back (or promoted), with the timeline and the numbers behind each decision.
    """
    view = LiveView()
    with view:
        result = run_demo(
            healthy=healthy,
            rps=rps,
            listener=view,
            say=lambda line: view.console.print(
                line, markup=False, highlight=False, soft_wrap=True
            ),
            workdir=keep,
        )
    if fmt is DemoFormat.JSON:
        output.emit(json.dumps(result.to_json(), indent=2), out)
    elif fmt in (DemoFormat.MARKDOWN, DemoFormat.HTML):
        output.emit(render_document(demo_document(result.to_json()), fmt), out)
    else:
        output.emit(render_text(result), out)
    expected = "promoted" if healthy else "rolled_back"
    return ExitCode.OK if result.outcome == expected else ExitCode.NO_GO


def _numbers(entry: dict[str, Any]) -> str:
    decision = entry.get("decision") or {}
    totals = entry.get("totals") or {}
    parts = []
    if decision.get("e_value") is not None:
        parts.append(f"e-value {decision['e_value']:.3g}")
        if decision.get("threshold") is not None:
            parts.append(f"threshold {decision['threshold']:.3g}")
    for variant in ("baseline", "canary"):
        row = totals.get(variant) or {}
        if row.get("requests"):
            rate = row.get("error_rate") or 0.0
            p99 = row.get("p99_ms")
            parts.append(
                f"{variant} {row['requests']} req, {rate:.2%} errors"
                + (f", p99 {p99:.0f} ms" if p99 is not None else "")
            )
    return "; ".join(parts)


def render_text(result: DemoResult) -> str:
    """The demo's outcome and timeline as text."""
    lines = [f"outcome: {result.outcome}", "", "gates:"]
    for step in result.steps:
        lines.append(f"  {step['command']}  -> exit {step['exit']}")
    lines += ["", "timeline:"]
    start = None
    for entry in result.timeline:
        at = entry.get("at", "")
        start = start or at
        event = entry.get("event", "")
        what = entry.get("reason") or ""
        if event == "rollout.weight":
            what = f"canary weight {entry.get('from', 0):g}% -> {entry.get('to', 0):g}%"
        elif event == "rollout.decision":
            what = f"{entry.get('action')}: {entry.get('reason')}"
        numbers = _numbers(entry)
        lines.append(f"  {at[11:23]}  {event:<28} {what}" + (f"  [{numbers}]" if numbers else ""))
    if result.load:
        lines += ["", _load_line(result.load)]
    return "\n".join(lines)


def _load_line(load: Mapping[str, Any]) -> str:
    """The load generator's client-side counts, as people read them."""
    classes = load.get("by_class") or {}
    answered = ", ".join(f"{count} {name}" for name, count in sorted(classes.items()))
    line = (
        f"load: {load.get('arrivals', 0)} arrivals in {float(load.get('elapsed_s', 0)):.1f} s; "
        f"{load.get('sent', 0)} sent, {load.get('answered', 0)} answered"
        + (f" ({answered})" if answered else "")
        + f", {load.get('transport_errors', 0)} transport errors"
    )
    if load.get("dropped"):
        line += f"; {load['dropped']} not sent (the client's limit of requests in flight)"
    if load.get("cancelled"):
        line += f"; {load['cancelled']} cancelled at the end"
    return line
