"""The rank-score latency evidence: the canary's share tilted by where its requests fall."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gonogo.rollout.analysis.histogram import LatencyHistogram, bucket_of
from gonogo.rollout.analysis.interface import Direction, MetricKind, VariantSample
from gonogo.rollout.analysis.latency_scores import (
    BINS,
    LAMBDAS,
    Score,
    ScoreBins,
    score_for,
    scores,
)
from gonogo.rollout.analysis.metrics import MetricSpec
from gonogo.rollout.analysis.quantiles import LatencyStore, QuantileTest
from tests.rollout.helpers import binomial_tolerance


def test_scores_grow_with_latency_and_the_upper_one_ignores_the_fast_half() -> None:
    location = scores(Score.LOCATION, higher_worse=True)
    upper = scores(Score.UPPER, higher_worse=True)
    assert len(location) == len(upper) == BINS
    assert list(location) == sorted(location) and location[0] == -1.0 and location[-1] == 1.0
    assert len(set(upper[: BINS // 2])) == 1 and upper[0] < 0  # one small constant below
    assert list(upper[BINS // 2 :]) == sorted(upper[BINS // 2 :]) and upper[-1] > 0.9
    # lower is worse: the fast end scores high
    assert scores(Score.LOCATION, higher_worse=False) == tuple(-v for v in location)
    assert score_for(0.5) is Score.LOCATION and score_for(0.99) is Score.UPPER


def test_the_e_value_is_the_mixture_of_the_tilted_likelihood_ratios() -> None:
    bins = ScoreBins()
    bins.begin_step(0.25)
    bins.all[-1], bins.canary[-1] = 8, 6  # 6 of the 8 slowest requests were the canary's
    bins.all[0], bins.canary[0] = 10, 1
    bins.version += 1
    s = scores(Score.LOCATION, higher_worse=True)

    def log_z(lam: float, score: float, canary: int, total: int) -> float:
        return lam * score * canary - total * math.log(1 - 0.25 + 0.25 * math.exp(lam * score))

    expected = math.log(
        sum(math.exp(log_z(lam, s[-1], 6, 8) + log_z(lam, s[0], 1, 10)) for lam in LAMBDAS)
        / len(LAMBDAS)
    )
    assert bins.log_e_step(Score.LOCATION, True) == pytest.approx(expected, rel=1e-12)
    assert expected > math.log(5)  # the canary crowds the slow end
    # the same counts are evidence against "faster is worse"
    assert bins.log_e_step(Score.LOCATION, False) < 0


def _histogram(rng: np.random.Generator, n: int, median: float, sigma: float) -> LatencyHistogram:
    found: dict[int, int] = {}
    for value in rng.lognormal(math.log(median), sigma, n).tolist():
        index = bucket_of(value)
        found[index] = found.get(index, 0) + 1
    return LatencyHistogram(found)


def _run(
    rng: np.random.Generator, level: float, median: float, sigma: float, steps: int
) -> tuple[QuantileTest, float]:
    """A 20% canary for ``steps`` observations; the test and its largest log e-value."""
    store = LatencyStore()
    test = QuantileTest(MetricSpec("latency", MetricKind.LATENCY, quantile=level), store)
    store.begin_step(0.2)
    top = 0.0
    for n_c in rng.binomial(40, 0.2, size=steps).tolist():
        store.add(
            VariantSample(40 - n_c, 0, _histogram(rng, 40 - n_c, 80.0, 0.5)),
            VariantSample(n_c, 0, _histogram(rng, n_c, median, sigma)),
        )
        top = max(top, test.shares.log_e())
    return test, top


@pytest.mark.parametrize(("level", "median", "sigma"), [(0.5, 80.0, 0.5), (0.99, 80.0, 0.5)])
def test_equal_laws_rarely_cross_one_over_alpha(level: float, median: float, sigma: float) -> None:
    alpha, runs = 0.05, 300
    rng = np.random.default_rng(7)
    crossed = sum(
        _run(rng, level, median, sigma, 120)[1] >= math.log(1 / alpha) for _ in range(runs)
    )
    assert crossed / runs <= binomial_tolerance(alpha, runs)


def test_a_faster_canary_builds_no_evidence() -> None:
    alpha, runs = 0.05, 200
    rng = np.random.default_rng(8)
    for level in (0.5, 0.99):
        crossed = sum(
            _run(rng, level, 70.0, 0.5, 120)[1] >= math.log(1 / alpha) for _ in range(runs)
        )
        assert crossed / runs <= binomial_tolerance(alpha, runs)


def test_the_scores_see_a_median_shift_sooner_than_the_shares_alone() -> None:
    rng = np.random.default_rng(9)
    wins = 0
    for _ in range(20):
        test, _ = _run(rng, 0.5, 96.0, 0.5, 60)
        shares = test.shares
        w = 0.2
        assert shares.bins.log_e_step(Score.LOCATION, True) > 0
        wins += shares.bins.log_e_step(Score.LOCATION, True) > shares._log_shares_step(w)
    assert wins >= 15


def test_lower_is_worse_reads_the_fast_end() -> None:
    spec = MetricSpec("speed", MetricKind.LATENCY, quantile=0.5, direction=Direction.LOWER_IS_WORSE)
    store = LatencyStore()
    test = QuantileTest(spec, store)
    store.begin_step(0.5)
    rng = np.random.default_rng(10)
    for _ in range(30):
        store.add(
            VariantSample(20, 0, _histogram(rng, 20, 80.0, 0.5)),
            VariantSample(20, 0, _histogram(rng, 20, 60.0, 0.5)),
        )
    assert test.shares.bins.log_e_step(Score.LOCATION, False) > math.log(100)
    assert test.shares.bins.log_e_step(Score.LOCATION, True) < 0
