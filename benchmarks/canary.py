"""Canary-analysis benchmark: false rollbacks, detection time and cost of each judge vs the oracle.

Run by hand:  python benchmarks/canary.py [--quick] [--runs N] [--jobs J]

For every scenario of the grid it simulates seeded rollouts with the sequential judge (its
defaults: errors, and latency p50/p95/p99 as one group), the sequential judge watching
every latency quantile at once, the Kayenta-style Mann-Whitney judge, the Argo/Flagger-style
threshold judge and the oracle SPRT (which knows the true effect), all through the same judge
interface, and prints a Markdown table: per judge the false-rollback rate (scenarios in
which the canary equals the baseline), the detection rate, the mean detection time (from
the onset), its ratio to the oracle's, and the judge's CPU time per observed request
(``time.process_time`` around every call into the judge, in the same runs, divided by
the requests the observations carried). Then the issue's targets, as measured.

``--quick`` runs a reduced grid with fewer runs in a few minutes on two cores; the full
grid runs for hours.
"""

# ruff: noqa: E402 - the imports of gonogo follow the sys.path set-up they need

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# this directory's secrets.py (the secret-scanner benchmark) would shadow the standard
# library's secrets module, which numpy imports
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "src"))

from gonogo.rollout.analysis.interface import Judge, JudgeKind, MetricKind
from gonogo.rollout.analysis.metrics import MetricSpec, default_metrics
from gonogo.rollout.analysis.scenario import Scenario, parse_scenario
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.analysis.simulate import RunResult, SimulationReport, run_once, summarise
from gonogo.rollout.analysis.traffic import TrafficModel

ALPHA = 0.01
INTERVAL_S = 2.0
LOGN = {"dist": "lognormal", "median_ms": 80.0, "sigma": 0.5}
PARETO = {"dist": "pareto", "median_ms": 80.0, "shape": 2.5}

#: the columns: the judges compared, by label
SEQUENTIAL = "sequential"
EVERY_QUANTILE = "sequential, all quantiles"
MANNWHITNEY = "mannwhitney"
THRESHOLD = "threshold"
ORACLE = "oracle"
JUDGES = (SEQUENTIAL, EVERY_QUANTILE, MANNWHITNEY, THRESHOLD)


def _every_quantile(scenario: Scenario) -> Judge:
    errors = next(m for m in default_metrics() if m.kind is MetricKind.ERRORS)
    latency = MetricSpec("latency", MetricKind.LATENCY, quantile="all", tolerance=0.2)
    return SequentialJudge(SequentialConfig(alpha=scenario.alpha, metrics=(errors, latency)))


#: how each label's judge is made: a built-in kind, or a configured judge
MAKERS: dict[str, tuple[JudgeKind, Callable[[Scenario], Judge] | None]] = {
    SEQUENTIAL: (JudgeKind.SEQUENTIAL, None),
    EVERY_QUANTILE: (JudgeKind.SEQUENTIAL, _every_quantile),
    MANNWHITNEY: (JudgeKind.MANNWHITNEY, None),
    THRESHOLD: (JudgeKind.THRESHOLD, None),
    ORACLE: (JudgeKind.ORACLE, None),
}


@dataclass(frozen=True)
class Case:
    """One grid scenario and its family: null, transient, errors, latency or tolerated.

    ``tolerated``: a regression inside the default tolerance, which the judge may promote.
    """

    family: str
    scenario: Scenario
    note: str = ""


def _scenario(
    name: str,
    *,
    rps: float = 200,
    weight: float = 5,
    base: float = 0.001,
    ratio: float = 1.0,
    base_latency: dict[str, Any] | None = None,
    canary_latency: dict[str, Any] | None = None,
    duration: float = 1200,
    **extra: Any,
) -> Scenario:
    base_latency = base_latency or LOGN
    canary_extra = extra.pop("canary_extra", {})
    data = {
        "name": name,
        "seed": 20260101,
        "duration_s": duration,
        "rps": rps,
        "steps": extra.pop("steps", [weight]),
        "step_s": extra.pop("step_s", duration),
        "interval_s": INTERVAL_S,
        "alpha": ALPHA,
        "baseline": {"error_rate": base, "latency": base_latency},
        "canary": {
            "error_rate": min(1.0, base * ratio),
            "latency": canary_latency or base_latency,
            **canary_extra,
        },
        **extra,
    }
    return parse_scenario(data, name)


def _quick_grid() -> list[Case]:
    shifted = {**LOGN, "median_ms": 96.0}  # median x1.2, the whole distribution scaled
    tail = {**LOGN, "sigma": 0.7}  # same median, p99 x1.6
    cold = {"cold_start_s": 60.0, "cold_start_factor": 3.0}
    return [
        Case("null", _scenario("null 200 rps, 5%")),
        Case("null", _scenario("null 5 rps, 50%, 1% errors", rps=5, weight=50, base=0.01)),
        Case("null", _scenario("null 2000 rps, 1%", rps=2000, weight=1, duration=600)),
        Case("null", _scenario("null heavy tail (Pareto 2.5)", base_latency=PARETO)),
        Case("null", _scenario("null diurnal +-50%", diurnal_amplitude=0.5)),
        Case("null", _scenario("null cold start, 90 s warm-up", warmup_s=90, canary_extra=cold)),
        Case("errors", _scenario("errors x5, base 1%", base=0.01, ratio=5)),
        Case("errors", _scenario("errors x2, base 1%", base=0.01, ratio=2)),
        Case("latency", _scenario("latency median x1.2", canary_latency=shifted)),
        Case("latency", _scenario("latency tail only (sigma 0.5 -> 0.7)", canary_latency=tail)),
    ]


def grid(quick: bool) -> list[Case]:
    """The scenarios: traffic, weight, error ratios and base rates, latency, load, cold start."""
    cases = _quick_grid()
    if quick:
        return cases
    shifted = {**LOGN, "median_ms": 96.0}
    tail = {**LOGN, "sigma": 0.7}
    pareto_slow = {**PARETO, "median_ms": 104.0}
    pareto_tail = {**PARETO, "shape": 2.0}  # same median, heavier tail: p99 x1.6
    cold = {"cold_start_s": 60.0, "cold_start_factor": 3.0}
    more = [
        Case("null", _scenario("null 50 rps, 5%, 1% errors", rps=50, base=0.01)),
        Case("null", _scenario("null 500 rps, 25%, 0.01% errors", rps=500, weight=25, base=1e-4)),
        Case(
            "null",
            _scenario(
                "null steps 1-5-25-50%", rps=500, steps=[1, 5, 25, 50], step_s=600, duration=2400
            ),
        ),
        Case(
            "transient",
            _scenario("cold start, no warm-up", canary_extra=cold),
            "the canary is 3x slower and fails 3x as often for its first 60 s",
        ),
        Case(
            "tolerated",
            _scenario(
                "errors x1.2, base 1%, 500 rps, 25%", rps=500, weight=25, base=0.01, ratio=1.2
            ),
            "x1.2 is inside the default error tolerance (50% relative)",
        ),
        Case(
            "errors",
            _scenario(
                "errors x1.5, base 1%, 500 rps, 25%", rps=500, weight=25, base=0.01, ratio=1.5
            ),
        ),
        Case("errors", _scenario("errors x2, base 0.1%, 500 rps", rps=500, ratio=2, duration=3600)),
        Case("errors", _scenario("errors x5, base 0.1%", ratio=5)),
        Case("errors", _scenario("errors x5, base 0.01%, 2000 rps", rps=2000, base=1e-4, ratio=5)),
        Case(
            "tolerated",
            _scenario(
                "errors x2, base 0.01%, 2000 rps, 50%", rps=2000, weight=50, base=1e-4, ratio=2
            ),
            "0.01 error-rate points more is inside the default absolute tolerance (0.05 points)",
        ),
        Case(
            "errors",
            _scenario("errors x5, base 1%, 5 rps, 50%", rps=5, weight=50, base=0.01, ratio=5),
        ),
        Case("errors", _scenario("errors x5, base 1%, 50 rps", rps=50, base=0.01, ratio=5)),
        Case(
            "errors",
            _scenario("errors x5, base 1%, 2000 rps, 1%", rps=2000, weight=1, base=0.01, ratio=5),
        ),
        Case("errors", _scenario("errors x2, base 1%, 50%", weight=50, base=0.01, ratio=2)),
        Case(
            "errors",
            _scenario("errors x2, base 1%, diurnal", base=0.01, ratio=2, diurnal_amplitude=0.5),
        ),
        Case(
            "latency",
            _scenario(
                "latency median x1.2, 2000 rps, 1%", rps=2000, weight=1, canary_latency=shifted
            ),
        ),
        Case(
            "latency",
            _scenario("latency median x1.2, 5 rps, 50%", rps=5, weight=50, canary_latency=shifted),
        ),
        Case(
            "latency",
            _scenario("latency tail only, 500 rps, 25%", rps=500, weight=25, canary_latency=tail),
        ),
        Case(
            "latency",
            _scenario("heavy tail, median x1.3", base_latency=PARETO, canary_latency=pareto_slow),
            "a Pareto law has a hard minimum; the oracle reads every canary request as evidence "
            "of the minimum's shift",
        ),
        Case(
            "latency",
            _scenario(
                "heavy tail, tail only (shape 2.5 -> 2)",
                base_latency=PARETO,
                canary_latency=pareto_tail,
            ),
            "same median, so the canary's minimum is lower: the oracle takes any canary request "
            "below the baseline's minimum as certain evidence, a judge must see the tail",
        ),
        Case(
            "latency",
            _scenario(
                "latency median x1.2, diurnal", canary_latency=shifted, diurnal_amplitude=0.5
            ),
        ),
    ]
    return [*cases, *more]


def _chunk(args: tuple[Scenario, str, int, int]) -> list[RunResult]:
    scenario, label, first, count = args
    model = TrafficModel.of(scenario)
    kind, maker = MAKERS[label]
    return [
        run_once(scenario, kind, index, model, maker(scenario) if maker else None)
        for index in range(first, first + count)
    ]


@dataclass(frozen=True)
class Measured:
    """One judge on one scenario: the report and the judge's cost."""

    report: SimulationReport
    us_per_request: float
    false_rollbacks: int


def evaluate(
    cases: list[Case], runs: int, mw_runs: int, jobs: int
) -> dict[tuple[str, str], Measured]:
    """Every (scenario, judge) measurement, computed in parallel chunks of runs."""
    tasks = []
    for case in cases:
        for label in (*JUDGES, ORACLE):
            total = mw_runs if label == MANNWHITNEY else runs
            size = max(1, math.ceil(total / (2 * jobs)))
            for first in range(0, total, size):
                tasks.append((case.scenario, label, first, min(size, total - first)))
    # the longest tasks first, so that the pool does not end on one straggler
    tasks.sort(key=lambda t: (t[1] != MANNWHITNEY, -t[0].duration_s))
    if jobs == 1:
        chunks = [_chunk(task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunks = list(pool.map(_chunk, tasks))
    merged: dict[tuple[str, str], list[RunResult]] = {}
    for (scenario, label, _, _), results in zip(tasks, chunks, strict=True):
        merged.setdefault((scenario.name, label), []).extend(results)
    by_name = {case.scenario.name: case.scenario for case in cases}
    measured = {}
    for (name, label), results in merged.items():
        requests = sum(r.observed_requests for r in results)
        cpu = sum(r.judge_cpu_s for r in results)
        report = summarise(by_name[name], MAKERS[label][0], results)
        false = sum(r.false_rollback for r in results)
        measured[(name, label)] = Measured(report, cpu / max(requests, 1) * 1e6, false)
    return measured


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _ratio(measured: Measured, oracle: Measured) -> float | None:
    mine, best = measured.report.mean_detection_s, oracle.report.mean_detection_s
    return mine / best if mine is not None and best else None


def table(cases: list[Case], measured: dict[tuple[str, str], Measured]) -> list[str]:
    """One Markdown row per scenario."""
    head = "| scenario | oracle s |"
    rule = "| --- | ---: |"
    for label in JUDGES:
        head += f" {label} |"
        rule += " ---: |"
    lines = [head, rule]
    for case in cases:
        name = case.scenario.name
        oracle = measured[(name, ORACLE)]
        row = f"| {name} | {_fmt(oracle.report.mean_detection_s)} |"
        for label in JUDGES:
            found = measured[(name, label)]
            report = found.report
            row += (
                f" {report.false_rollback_rate:.1%} / {_fmt(report.detection_rate, '.0%')} / "
                f"{_fmt(report.mean_detection_s)} / {_fmt(_ratio(found, oracle), '.2f')} / "
                f"{found.us_per_request:.2f} |"
            )
        lines.append(row)
    return lines


def _span(values: list[float], spec: str = ".2f") -> str:
    return f"{min(values):{spec}}..{max(values):{spec}}" if values else "-"


#: a ratio of mean detection times is compared only where both judges detect this often
RELIABLE = 0.9


def _reliable(found: Measured) -> bool:
    return (found.report.detection_rate or 0.0) >= RELIABLE


def _false_rollbacks(cases: list[Case], measured: dict[tuple[str, str], Measured]) -> list[str]:
    nulls = [c for c in cases if c.family == "null"]
    lines = []
    for label in JUDGES:
        found = [measured[(c.scenario.name, label)] for c in nulls]
        worst = max(f.report.false_rollback_rate for f in found)
        false = sum(f.false_rollbacks for f in found)
        runs = sum(f.report.runs for f in found)
        lines.append(
            f"- {label}: false rollbacks in the {len(nulls)} null scenarios: worst "
            f"{worst:.1%}, pooled {false} of {runs} runs ({false / runs:.2%}); target <= "
            f"{ALPHA:.0%}"
        )
    return lines


def _versus_oracle(
    label: str, cases: list[Case], measured: dict[tuple[str, str], Measured]
) -> list[str]:
    lines = []
    for family, goal in (("errors", 1.5), ("latency", 4.0)):
        ratios, left_out = [], []
        for case in (c for c in cases if c.family == family):
            name = case.scenario.name
            mine, oracle = measured[(name, label)], measured[(name, ORACLE)]
            ratio = _ratio(mine, oracle)
            if ratio is not None and _reliable(mine) and _reliable(oracle):
                ratios.append(ratio)
            else:
                left_out.append(f"{name} ({_fmt(mine.report.detection_rate, '.0%')} detected)")
        if ratios:
            met = sum(r <= goal for r in ratios)
            lines.append(
                f"- {label} / oracle mean detection time, {family}: {_span(ratios)} over "
                f"{len(ratios)} scenarios, {met} of them <= {goal}"
                + (f"; left out: {', '.join(left_out)}" if left_out else "")
            )
    return lines


def _versus_kayenta(
    label: str, cases: list[Case], measured: dict[tuple[str, str], Measured]
) -> list[str]:
    speedups, missed = [], []
    for case in (c for c in cases if c.family in {"errors", "latency"}):
        name = case.scenario.name
        mine, peer = measured[(name, label)], measured[(name, MANNWHITNEY)]
        if not _reliable(mine):
            continue
        if _reliable(peer) and mine.report.mean_detection_s and peer.report.mean_detection_s:
            speedups.append(peer.report.mean_detection_s / mine.report.mean_detection_s)
        else:
            missed.append(f"{name} ({_fmt(peer.report.detection_rate, '.0%')})")
    line = (
        f"- mannwhitney / {label} mean detection time: {_span(speedups)} over "
        f"{len(speedups)} scenarios, {sum(s >= 3 for s in speedups)} of them >= 3"
    )
    if missed:
        line += f"; mannwhitney detects in fewer than 90% of runs: {', '.join(missed)}"
    return [line]


def _cost(label: str, cases: list[Case], measured: dict[tuple[str, str], Measured]) -> list[str]:
    costs = [(measured[(c.scenario.name, label)].us_per_request, c.scenario) for c in cases]
    over = [f"{rps:g}" for rps in sorted({s.rps for cost, s in costs if cost > 2})]
    return [
        f"- {label}: CPU per observed request {_span([c for c, _ in costs])} us; "
        f"<= 2 us in {sum(c <= 2 for c, _ in costs)} of {len(costs)} scenarios"
        + (f" (above it at {', '.join(over)} rps)" if over else "")
    ]


def targets(cases: list[Case], measured: dict[tuple[str, str], Measured]) -> list[str]:
    """The issue's targets, as measured (ratios only where both sides detect reliably)."""
    lines = _false_rollbacks(cases, measured)
    for label in (SEQUENTIAL, EVERY_QUANTILE):
        lines += _versus_oracle(label, cases, measured)
        lines += _versus_kayenta(label, cases, measured)
        lines += _cost(label, cases, measured)
    return lines


def notes(cases: list[Case], measured: dict[tuple[str, str], Measured]) -> list[str]:
    """What the table cannot say: why a case is special, and how tolerated ones ended."""
    lines = []
    for case in cases:
        if not case.note:
            continue
        line = f"- {case.scenario.name}: {case.note}"
        if case.family == "tolerated":
            ends = []
            for label in (SEQUENTIAL, EVERY_QUANTILE):
                report = measured[(case.scenario.name, label)].report
                ends.append(
                    f"{label} promoted {report.promoted_rate:.0%}, rolled back "
                    f"{_fmt(report.detection_rate, '.0%')}"
                )
            line += " (" + "; ".join(ends) + ")"
        lines.append(line)
    return lines


def main() -> None:
    """Parse the options, run the grid, print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced grid, fewer runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario and judge")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    args = parser.parse_args()
    runs = args.runs or (40 if args.quick else 300)
    mw_runs = max(10, runs // 3)  # the Kayenta-style judge costs 10-20x more per run
    cases = grid(args.quick)
    started = time.perf_counter()
    measured = evaluate(cases, runs, mw_runs, args.jobs)
    print(
        f"## canary analysis: {len(cases)} scenarios, {runs} runs per judge "
        f"({mw_runs} for mannwhitney), alpha {ALPHA}, one observation every {INTERVAL_S:g} s\n"
    )
    print(
        "Per judge: false rollbacks / detected / mean detection s (from the onset) / "
        "x oracle / CPU us per observed request.\n"
    )
    print("\n".join(table(cases, measured)))
    remarks = notes(cases, measured)
    if remarks:
        print("\n" + "\n".join(remarks))
    print("\n### targets\n")
    print("\n".join(targets(cases, measured)))
    print(f"\n(wall time {time.perf_counter() - started:.0f} s, {args.jobs} processes)")


if __name__ == "__main__":
    main()
