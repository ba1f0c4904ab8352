"""The rank-score latency evidence: the canary's share tilted by where its requests fall."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from gonogo.rollout.analysis.histogram import LatencyHistogram, bucket_of
from gonogo.rollout.analysis.interface import (
    Action,
    Direction,
    MetricKind,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.latency_scores import (
    _MIDS,
    BINS,
    EDGES,
    LAMBDAS,
    MIX,
    Score,
    ScoreBins,
    score_for,
    scores,
)
from gonogo.rollout.analysis.metrics import MetricSpec
from gonogo.rollout.analysis.quantiles import LatencyStore, QuantileTest
from gonogo.rollout.analysis.sequential import SequentialJudge
from tests.rollout.helpers import binomial_tolerance


def test_scores_grow_with_latency_and_the_upper_one_ignores_the_fast_body() -> None:
    location = scores(Score.LOCATION, higher_worse=True)
    upper = scores(Score.UPPER, higher_worse=True)
    assert len(location) == len(upper) == BINS == len(EDGES) + 1
    # never decreasing from the fastest bin to the slowest: what keeps a canary that is
    # faster (stochastically) from building evidence
    assert list(location) == sorted(location) and list(upper) == sorted(upper)
    assert all(-1.0 <= v <= 1.0 for v in (*location, *upper))
    # the location score saturates beyond the baseline's p0.5 and p99.5
    assert location[:2] == (-1.0, -1.0) and location[-2:] == (1.0, 1.0)
    # the upper one is one small negative constant up to the baseline's p84 (z = 1) ...
    body = [v for v, mid in zip(upper, _MIDS, strict=True) if mid <= 0.84]
    assert len(body) >= BINS // 2 + 3 and len(set(body)) == 1 and -0.05 < body[0] < 0
    # ... and grows like z^2 above, up to 1 beyond the baseline's p99.9
    assert upper[-1] == 1.0 and EDGES[-1] == 0.999 and EDGES[0] == 0.001
    # lower is worse: the fast end scores high
    assert scores(Score.LOCATION, higher_worse=False) == tuple(-v for v in location)
    assert scores(Score.UPPER, higher_worse=False) == pytest.approx(tuple(reversed(upper)))
    assert score_for(0.5) is Score.LOCATION and score_for(0.99) is Score.UPPER


def test_each_level_mixes_the_shares_and_scores_with_weights_fixed_in_advance() -> None:
    for score, mix in MIX.items():
        assert sum(weight for _, weight in mix) < 1  # the shares keep a part
        assert mix[0][0] is score  # the level's own score first
    assert MIX[Score.LOCATION] == ((Score.LOCATION, 0.75),)
    # from p90 the location score too: a shifted distribution moves the tail quantiles
    assert MIX[Score.UPPER] == ((Score.UPPER, 0.5), (Score.LOCATION, 0.375))


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
    return _bucketed(rng.lognormal(math.log(median), sigma, n))


def _bucketed(values: np.ndarray) -> LatencyHistogram:
    found: dict[int, int] = {}
    for value in values.tolist():
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


Law = Callable[[np.random.Generator, int], np.ndarray]


def _lognormal(median: float, sigma: float) -> Law:
    return lambda rng, n: rng.lognormal(math.log(median), sigma, n)


def _faster_fast_half(rng: np.random.Generator, n: int) -> np.ndarray:
    """The baseline's law with every request faster than its median 40% faster still: the
    canary is faster below the median and the same above."""
    values = rng.lognormal(math.log(80.0), 0.5, n)
    return np.where(values < 80.0, 0.6 * values, values)


#: canaries no slower than the baseline (lognormal, median 80 ms, sigma 0.5) anywhere that
#: counts: faster everywhere, a shorter upper tail (with a slower fast half: at a weight
#: up to 1/2 that is no evidence either), a faster lower half
FASTER = {
    "median x0.8": _lognormal(64.0, 0.5),
    "sigma 0.35": _lognormal(80.0, 0.35),
    "fast half x0.6": _faster_fast_half,
}
LEVELS = (0.5, 0.95, 0.99)


def _top_log_e(rng: np.random.Generator, canary: Law, weight: float, steps: int) -> list[float]:
    """Levels p50, p95, p99 of one store; each one's largest log e-value over the run."""
    store = LatencyStore()
    tests = [
        QuantileTest(MetricSpec(f"p{q}", MetricKind.LATENCY, quantile=q), store) for q in LEVELS
    ]
    store.begin_step(weight)
    top = [0.0] * len(tests)
    for n_c in rng.binomial(40, weight, size=steps).tolist():
        store.add(
            VariantSample(40 - n_c, 0, _histogram(rng, 40 - n_c, 80.0, 0.5)),
            VariantSample(n_c, 0, _bucketed(canary(rng, n_c))),
        )
        top = [max(t, test.shares.log_e()) for t, test in zip(top, tests, strict=True)]
    return top


@pytest.mark.parametrize("weight", [0.2, 0.5])
@pytest.mark.parametrize("law", FASTER)
def test_a_faster_canary_builds_no_evidence_at_any_level(law: str, weight: float) -> None:
    """Every level's e-value (shares and scores mixed) stays a supermartingale: a faster
    canary crosses 1/alpha, looked at after every observation, at most alpha of the time."""
    alpha, runs = 0.05, 100
    rng = np.random.default_rng(8)
    tops = [_top_log_e(rng, FASTER[law], weight, 120) for _ in range(runs)]
    for index in range(len(LEVELS)):
        crossed = sum(top[index] >= math.log(1 / alpha) for top in tops)
        assert crossed / runs <= binomial_tolerance(alpha, runs)


def test_a_stretched_upper_tail_builds_evidence_where_a_faster_lower_half_does_not() -> None:
    """The canary with sigma 0.7 is slower above the median and faster below it: the
    tail levels see the one and ignore the other, where the faster fast half alone builds
    nothing (that shows the tail's evidence does not come from the lower half)."""
    rng = np.random.default_rng(11)
    stretched = [_top_log_e(rng, _lognormal(80.0, 0.7), 0.2, 120) for _ in range(20)]
    assert sum(top[2] >= math.log(100) for top in stretched) >= 18  # p99
    assert sum(top[1] >= math.log(100) for top in stretched) >= 18  # p95
    faster = [_top_log_e(rng, _faster_fast_half, 0.2, 120) for _ in range(20)]
    assert max(max(top) for top in faster) < math.log(20)


@pytest.mark.parametrize("weight", [0.05, 0.25, 0.5])
def test_a_faster_canary_is_never_rolled_back(weight: float) -> None:
    """The whole judge (errors, the p50/p95/p99 group, the split check), fed every second
    for ten minutes at 200 requests a second: none of the faster canaries is rolled back."""
    rng = np.random.default_rng(12)
    for law, canary in FASTER.items():
        judge = SequentialJudge()
        judge.begin_step(Step(0, weight, 0.0, min_dwell_s=10_000, max_dwell_s=20_000))
        for second in range(1, 601):
            n_c = int(rng.binomial(200, weight))
            decision = judge.observe(
                Observation(
                    float(second),
                    VariantSample(200 - n_c, 0, _histogram(rng, 200 - n_c, 80.0, 0.5)),
                    VariantSample(n_c, 0, _bucketed(canary(rng, n_c))),
                )
            )
            assert decision.action is Action.CONTINUE, (law, decision.reason)


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
