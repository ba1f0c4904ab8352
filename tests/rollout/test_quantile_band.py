"""Every quantile at once: the band covers them all, and a tail-only shift is caught."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from pydantic import ValidationError

from gonogo.rollout.analysis.histogram import LatencyHistogram, bucket_of
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    JudgeError,
    MetricKind,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.metrics import MetricSpec
from gonogo.rollout.analysis.quantile_band import GRID, AllQuantilesTest, bounds_at
from gonogo.rollout.analysis.quantiles import LatencyStore
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.plan import MetricPlan
from tests.rollout.helpers import binomial_tolerance

EVERY = MetricSpec("latency", MetricKind.LATENCY, quantile="all")
P50_ONLY = MetricSpec("latency_p50", MetricKind.LATENCY, quantile=0.5)
MEDIAN_MS = 80.0


def _histogram(rng: np.random.Generator, n: int, sigma: float = 0.5) -> LatencyHistogram:
    found: dict[int, int] = {}
    for value in rng.lognormal(math.log(MEDIAN_MS), sigma, n).tolist():
        index = bucket_of(value)
        found[index] = found.get(index, 0) + 1
    return LatencyHistogram(found)


def _true_quantile(level: float, sigma: float = 0.5) -> float:
    return MEDIAN_MS * math.exp(sigma * statistics.NormalDist().inv_cdf(level))


def test_the_band_covers_every_quantile_at_every_look() -> None:
    """Grid levels and levels between them, both variants, after every observation."""
    alpha, runs, looks = 0.1, 200, 30
    levels = (*GRID, 0.25, 0.75, 0.97, 0.995, 0.01)
    truth = {level: _true_quantile(level) for level in levels}
    rng = np.random.default_rng(17)
    missed = 0
    for _ in range(runs):
        store = LatencyStore()
        band = AllQuantilesTest(EVERY, store)
        covered = True
        for _ in range(looks):
            store.add(
                VariantSample(40, 0, _histogram(rng, 40)), VariantSample(10, 0, _histogram(rng, 10))
            )
            grid = band.band(math.log(1 / alpha))
            for level in levels:
                for low, high in bounds_at(grid, level):
                    covered &= low <= truth[level] <= high
            if not covered:
                missed += 1
                break

    assert missed / runs <= binomial_tolerance(alpha, runs)


def test_the_band_narrows_around_the_truth_with_data() -> None:
    rng = np.random.default_rng(3)
    store = LatencyStore()
    band = AllQuantilesTest(EVERY, store)
    for _ in range(200):
        store.add(VariantSample(100, 0, _histogram(rng, 100)), VariantSample())
    (low, high), _ = band.quantile_bounds(0.9, math.log(100))
    assert low <= _true_quantile(0.9) <= high
    assert high / low < 1.1


def _run(
    metric: MetricSpec, seconds: int, canary_sigma: float, seed: int = 5
) -> tuple[Action, Basis, str | None, float, str]:
    """A 20% canary at 100 rps; the decision that ended the run (or the last one)."""
    judge = SequentialJudge(SequentialConfig(metrics=(metric,)))
    judge.begin_step(Step(0, 0.2, 0.0, max_dwell_s=10 * seconds))
    rng = np.random.default_rng(seed)
    decision = None
    for second in range(1, seconds + 1):
        n_c = int(rng.binomial(100, 0.2))
        decision = judge.observe(
            Observation(
                float(second),
                VariantSample(100 - n_c, 0, _histogram(rng, 100 - n_c)),
                VariantSample(n_c, 0, _histogram(rng, n_c, canary_sigma)),
            )
        )
        if decision.action is not Action.CONTINUE:
            break
    assert decision is not None
    return decision.action, decision.basis, decision.metric, decision.at, decision.reason


def test_a_tail_only_shift_is_caught_by_every_quantile_and_missed_by_the_median() -> None:
    """Same median, a longer tail (sigma 0.5 -> 0.8): p99 is 1.9x the baseline's."""
    every = _run(EVERY, 600, canary_sigma=0.8)
    median = _run(P50_ONLY, 600, canary_sigma=0.8)

    assert every[:3] == (Action.ROLLBACK, Basis.REGRESSION, "latency")
    assert "strongest evidence at p9" in every[4]
    assert median[0] is Action.PROMOTE_STEP  # the median alone waves the longer tail through


def test_equal_latencies_rarely_roll_back_though_every_level_is_watched() -> None:
    alpha, runs = 0.05, 300
    rng = np.random.default_rng(23)
    threshold = math.log(1 / alpha)
    crossed = 0
    for _ in range(runs):
        store = LatencyStore()
        test = AllQuantilesTest(EVERY, store)
        store.begin_step(0.2)
        for n_c in rng.binomial(50, 0.2, size=120).tolist():
            store.add(
                VariantSample(50 - n_c, 0, _histogram(rng, 50 - n_c)),
                VariantSample(n_c, 0, _histogram(rng, n_c)),
            )
            # the bound is cheap and never below the e-value: look exactly when it matters
            if test.log_e_bound() >= threshold and test.log_e() >= threshold:
                crossed += 1
                break

    assert crossed / runs <= binomial_tolerance(alpha, runs)


def test_a_plan_asks_for_every_quantile_with_quantile_all() -> None:
    plan = MetricPlan.model_validate({"name": "latency", "kind": "latency", "quantile": "all"})
    assert plan.spec().all_quantiles
    assert (
        not MetricPlan.model_validate({"name": "p99", "kind": "latency", "quantile": 0.99})
        .spec()
        .all_quantiles
    )

    with pytest.raises(ValidationError, match=r'a number in \(0, 1\) or "all"'):
        MetricPlan.model_validate({"name": "latency", "kind": "latency", "quantile": "p99"})
    with pytest.raises(ValidationError, match="needs a quantile"):
        MetricPlan.model_validate({"name": "latency", "kind": "latency"})
    with pytest.raises(JudgeError, match='or "all"'):
        MetricSpec("latency", MetricKind.LATENCY, quantile=None)
