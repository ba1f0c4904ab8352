"""``gonogo rollout``: staged rollouts with anytime-valid canary analysis."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gonogo.cli import output
from gonogo.cli.common import OutputOption
from gonogo.errors import ExitCode
from gonogo.rollout.analysis.interface import JudgeKind
from gonogo.rollout.analysis.scenario import load_scenario
from gonogo.rollout.analysis.simulate import SimulationReport
from gonogo.rollout.analysis.simulate import simulate as run_simulation

app = typer.Typer(
    help="Staged rollouts: canary steps judged by anytime-valid tests.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Staged rollouts: canary steps judged by anytime-valid tests."""


class SimulateFormat(StrEnum):
    """Formats of a simulation report."""

    TEXT = "text"
    JSON = "json"


@app.command()
def simulate(
    scenario: Annotated[
        Path, typer.Argument(metavar="SCENARIO.toml", help="The scenario file.", dir_okay=False)
    ],
    judge: Annotated[
        JudgeKind, typer.Option("--judge", "-j", help="The judge to run.", case_sensitive=False)
    ] = JudgeKind.SEQUENTIAL,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Number of seeded runs.")] = 100,
    fmt: Annotated[
        SimulateFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = SimulateFormat.TEXT,
    out: OutputOption = None,
) -> int:
    """Run a judge on synthetic traffic many times; report false rollbacks and detection."""
    loaded = load_scenario(scenario)
    report = run_simulation(loaded, judge, runs)
    if fmt is SimulateFormat.JSON:
        text = json.dumps(report.to_json(), indent=2)
    else:
        text = render_text(report)
    output.emit(text, out)
    return ExitCode.OK


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def render_text(report: SimulationReport) -> str:
    """A short human summary of a simulation."""
    kind = "regression" if report.regressed else "no regression (canary equals baseline)"
    exposed = (
        "n/a" if report.mean_exposed_requests is None else f"{report.mean_exposed_requests:.0f}"
    )
    lines = [
        f"scenario {report.scenario}: {kind}; judge {report.judge}, {report.runs} runs",
        f"  false rollbacks      {_rate(report.false_rollback_rate)}",
        f"  detected             {_rate(report.detection_rate)}",
        f"  detection time       mean {_seconds(report.mean_detection_s)}, "
        f"median {_seconds(report.median_detection_s)}, p95 {_seconds(report.p95_detection_s)}",
        f"  exposed requests     {exposed} (mean, per rollback)",
        f"  inconclusive         {_rate(report.inconclusive_rate)}",
        f"  promoted             {_rate(report.promoted_rate)}",
    ]
    return "\n".join(lines)
