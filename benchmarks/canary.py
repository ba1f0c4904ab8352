"""Canary-analysis benchmark: false rollbacks and detection time of each judge vs the oracle.

Run by hand:  python benchmarks/canary.py [--quick] [--runs N] [--jobs J]

For every scenario of the grid it simulates seeded rollouts with the sequential judge,
the Kayenta-style Mann-Whitney judge, the Argo/Flagger-style threshold judge and the
oracle SPRT (which knows the true effect), all through the same judge interface, and
prints the false-rollback rate (scenarios where the canary equals the baseline), the
detection rate and mean detection time (from the onset), and the ratio of each judge's
mean detection time to the oracle's. It then measures the sequential judge's cost per
observed request with time.perf_counter over many updates. ``--quick`` runs a reduced
grid with fewer runs in a couple of minutes.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gonogo.rollout.analysis.interface import JudgeKind, Observation, Step, VariantSample
from gonogo.rollout.analysis.mannwhitney import MannWhitneyJudge
from gonogo.rollout.analysis.scenario import Scenario, parse_scenario
from gonogo.rollout.analysis.sequential import SequentialJudge
from gonogo.rollout.analysis.simulate import SimulationReport, run_once, summarise
from gonogo.rollout.analysis.traffic import TrafficModel

LOGN = {"dist": "lognormal", "median_ms": 80.0, "sigma": 0.5}
PEERS = (JudgeKind.SEQUENTIAL, JudgeKind.MANNWHITNEY, JudgeKind.THRESHOLD)


@dataclass(frozen=True)
class Case:
    """One grid scenario and the family it belongs to."""

    family: str  # "null", "errors" or "latency"
    scenario: Scenario


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
        "interval_s": 2.0,
        "alpha": 0.01,
        "baseline": {"error_rate": base, "latency": base_latency},
        "canary": {
            "error_rate": min(1.0, base * ratio),
            "latency": canary_latency or base_latency,
            **canary_extra,
        },
        **extra,
    }
    return parse_scenario(data, name)


def grid(quick: bool) -> list[Case]:
    """The scenarios: traffic, weight, error ratios and base rates, latency, load, cold start."""
    shifted = {**LOGN, "median_ms": 96.0}  # median x1.2, the whole distribution scaled
    tail = {**LOGN, "sigma": 0.7}  # same median, p99 x1.6
    pareto = {"dist": "pareto", "median_ms": 80.0, "shape": 2.5}
    pareto_slow = {**pareto, "median_ms": 104.0}
    cold = {"cold_start_s": 60.0, "cold_start_factor": 3.0}
    cases = [
        Case("null", _scenario("null 200rps w5%")),
        Case("null", _scenario("null 5rps w50% 1%err", rps=5, weight=50, base=0.01)),
        Case("null", _scenario("null heavy-tail pareto", base_latency=pareto)),
        Case("null", _scenario("null diurnal +-50%", diurnal_amplitude=0.5)),
        Case("null", _scenario("null cold-start warmup 90s", warmup_s=90, canary_extra=cold)),
        Case("errors", _scenario("err x5 base 1% 200rps w5%", base=0.01, ratio=5)),
        Case("errors", _scenario("err x2 base 1% 200rps w5%", base=0.01, ratio=2)),
        Case("latency", _scenario("latency median x1.2", canary_latency=shifted)),
        Case("latency", _scenario("latency tail sigma .5->.7", canary_latency=tail)),
    ]
    if quick:
        return cases
    cases += [
        Case("null", _scenario("null 2000rps w1%", rps=2000, weight=1)),
        Case("null", _scenario("null cold-start no warmup", canary_extra=cold)),
        Case(
            "null",
            _scenario("null steps 1-5-25-50", steps=[1, 5, 25, 50], step_s=600, duration=2400),
        ),
        Case(
            "errors",
            _scenario("err x1.2 base 1% 500rps w25%", rps=500, weight=25, base=0.01, ratio=1.2),
        ),
        Case(
            "errors",
            _scenario("err x1.5 base 1% 500rps w25%", rps=500, weight=25, base=0.01, ratio=1.5),
        ),
        Case("errors", _scenario("err x2 base 0.1% 500rps w5%", rps=500, base=0.001, ratio=2)),
        Case("errors", _scenario("err x5 base 0.01% 2000rps w5%", rps=2000, base=0.0001, ratio=5)),
        Case("errors", _scenario("err x5 base 1% 5rps w50%", rps=5, weight=50, base=0.01, ratio=5)),
        Case("errors", _scenario("err x5 base 1% 50rps w5%", rps=50, base=0.01, ratio=5)),
        Case(
            "errors",
            _scenario("err x5 base 1% 2000rps w1%", rps=2000, weight=1, base=0.01, ratio=5),
        ),
        Case("errors", _scenario("err x2 base 1% 200rps w50%", weight=50, base=0.01, ratio=2)),
        Case(
            "errors", _scenario("err x2 base 1% diurnal", base=0.01, ratio=2, diurnal_amplitude=0.5)
        ),
        Case(
            "latency",
            _scenario(
                "latency heavy-tail median x1.3", base_latency=pareto, canary_latency=pareto_slow
            ),
        ),
        Case(
            "latency",
            _scenario(
                "latency median x1.2 2000rps w1%", rps=2000, weight=1, canary_latency=shifted
            ),
        ),
    ]
    return cases


def _chunk(args: tuple[Scenario, JudgeKind, int, int]) -> list[Any]:
    scenario, kind, first, count = args
    model = TrafficModel.of(scenario)
    return [run_once(scenario, kind, index, model) for index in range(first, first + count)]


def evaluate(
    cases: list[Case], runs: int, mw_runs: int, jobs: int
) -> dict[tuple[str, str], SimulationReport]:
    """Every (scenario, judge) report, computed in parallel chunks of runs."""
    tasks = []
    for case in cases:
        for kind in (*PEERS, JudgeKind.ORACLE):
            total = mw_runs if kind is JudgeKind.MANNWHITNEY else runs
            size = max(1, math.ceil(total / (2 * jobs)))
            for first in range(0, total, size):
                tasks.append((case.scenario, kind, first, min(size, total - first)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunks = list(pool.map(_chunk, tasks))
    merged: dict[tuple[str, str], list[Any]] = {}
    for (scenario, kind, _, _), results in zip(tasks, chunks, strict=True):
        merged.setdefault((scenario.name, kind.value), []).extend(results)
    by_name = {case.scenario.name: case.scenario for case in cases}
    return {
        key: summarise(by_name[key[0]], JudgeKind(key[1]), results)
        for key, results in merged.items()
    }


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def table(cases: list[Case], reports: dict[tuple[str, str], SimulationReport]) -> list[str]:
    """One markdown row per scenario."""
    head = "| scenario | oracle det. s |"
    rule = "| --- | ---: |"
    for kind in PEERS:
        head += f" {kind.value}: false rb / detected / mean s / x oracle |"
        rule += " ---: |"
    lines = [head, rule]
    for case in cases:
        name = case.scenario.name
        oracle = reports[(name, "oracle")]
        row = f"| {name} | {_fmt(oracle.mean_detection_s)} |"
        for kind in PEERS:
            report = reports[(name, kind.value)]
            ratio = None
            if report.mean_detection_s is not None and oracle.mean_detection_s:
                ratio = report.mean_detection_s / oracle.mean_detection_s
            row += (
                f" {report.false_rollback_rate:.1%} / {_fmt(report.detection_rate, '.0%')} / "
                f"{_fmt(report.mean_detection_s)} / {_fmt(ratio, '.2f')} |"
            )
        lines.append(row)
    return lines


def targets(cases: list[Case], reports: dict[tuple[str, str], SimulationReport]) -> list[str]:
    """The issue's targets, measured."""
    lines = []
    for kind in PEERS:
        worst = max(
            reports[(c.scenario.name, kind.value)].false_rollback_rate
            for c in cases
            if c.family == "null"
        )
        lines.append(
            f"- {kind.value}: worst false-rollback rate over null scenarios {worst:.1%}"
            f" (target <= {cases[0].scenario.alpha:.0%})"
        )
    for family, goal in (("errors", 1.5), ("latency", 4.0)):
        ratios = []
        for case in (c for c in cases if c.family == family):
            seq = reports[(case.scenario.name, "sequential")].mean_detection_s
            ora = reports[(case.scenario.name, "oracle")].mean_detection_s
            if seq is not None and ora:
                ratios.append(seq / ora)
        if ratios:
            lines.append(
                f"- sequential / oracle mean detection, {family}: "
                f"{min(ratios):.2f}..{max(ratios):.2f} (target <= {goal})"
            )
    speedups = []
    for case in (c for c in cases if c.family != "null"):
        seq = reports[(case.scenario.name, "sequential")]
        mw = reports[(case.scenario.name, "mannwhitney")]
        if seq.mean_detection_s and mw.mean_detection_s:
            speedups.append(mw.mean_detection_s / seq.mean_detection_s)
    if speedups:
        lines.append(
            f"- mannwhitney / sequential mean detection: {min(speedups):.2f}.."
            f"{max(speedups):.2f} (target >= 3)"
        )
    return lines


def cost_per_request(rps: float, seconds: int) -> tuple[float, float]:
    """Microseconds per observed request of the sequential and Mann-Whitney judges."""
    import numpy as np  # noqa: PLC0415 - the benchmark needs the stats extra anyway

    scenario = _scenario("cost", rps=rps, duration=seconds)
    model = TrafficModel.of(scenario)
    rng = np.random.default_rng(1)
    observations = []
    for second in range(1, seconds + 1):
        total = int(rng.poisson(rps))
        n_c = int(rng.binomial(total, 0.05))
        n_b = total - n_c
        observations.append(
            Observation(
                float(second),
                VariantSample(n_b, int(rng.binomial(n_b, 0.001)), model.baseline.sample(rng, n_b)),
                VariantSample(n_c, int(rng.binomial(n_c, 0.001)), model.baseline.sample(rng, n_c)),
            )
        )
    requests = sum(o.baseline.requests + o.canary.requests for o in observations)
    costs = []
    for judge in (SequentialJudge(), MannWhitneyJudge()):
        judge.begin_step(Step(0, 0.05, 0.0, max_dwell_s=10 * seconds))
        start = time.perf_counter()
        for item in observations:
            judge.observe(item)
        costs.append((time.perf_counter() - start) / requests * 1e6)
    return costs[0], costs[1]


def main() -> None:
    """Parse the options, run the grid, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced grid, fewer runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per scenario and judge")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    args = parser.parse_args()
    runs = args.runs or (40 if args.quick else 300)
    mw_runs = max(10, runs // 3) if args.quick else runs
    cases = grid(args.quick)
    started = time.perf_counter()
    reports = evaluate(cases, runs, mw_runs, args.jobs)
    print(
        f"## canary analysis: {len(cases)} scenarios, {runs} runs per judge "
        f"({mw_runs} for mannwhitney), alpha 0.01, one observation every 2 s\n"
    )
    print("\n".join(table(cases, reports)))
    print("\n### targets\n")
    print("\n".join(targets(cases, reports)))
    print("\n### cost per observed request (time.perf_counter)\n")
    print("| traffic | sequential us/request | mannwhitney us/request |")
    print("| ---: | ---: | ---: |")
    for rps, seconds in ((5, 2000), (100, 1000), (2000, 300)):
        seq, mw = cost_per_request(rps, seconds)
        print(f"| {rps} rps | {seq:.2f} | {mw:.2f} |")
    print(f"\n(wall time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
