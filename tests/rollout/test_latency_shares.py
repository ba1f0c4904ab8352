"""The latency e-value: the canary's share on each side of the baseline's quantile."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.rollout.analysis.histogram import (
    EMPTY_HISTOGRAM,
    NUM_BUCKETS,
    LatencyHistogram,
    bucket_of,
)
from gonogo.rollout.analysis.interface import Direction, MetricKind, VariantSample
from gonogo.rollout.analysis.latency_scores import BINS, MIX
from gonogo.rollout.analysis.latency_shares import REF_MIN, SharesTracker
from gonogo.rollout.analysis.metrics import MetricSpec
from gonogo.rollout.analysis.quantiles import LatencyStore, QuantileTest
from tests.rollout.helpers import binomial_tolerance

buckets = st.dictionaries(st.integers(0, NUM_BUCKETS - 1), st.integers(1, 50), max_size=30)


cut_lists = st.lists(st.integers(0, NUM_BUCKETS - 1), max_size=15, unique=True).map(sorted)


@given(buckets, cut_lists, cut_lists)
@settings(max_examples=300, deadline=None)
def test_each_request_is_counted_above_the_right_thresholds_and_in_the_right_bin(
    counts: dict[int, int], cuts: list[int], bin_cuts: list[int]
) -> None:
    tracker = SharesTracker()
    tracker._cuts = cuts
    tracker.bins.cuts = bin_cuts
    tracker._merge()
    histogram = LatencyHistogram(counts)
    above_canary, above_all, n_canary, n_all = tracker._tally(EMPTY_HISTOGRAM, histogram)
    above = [sum(c for b, c in counts.items() if b > cut) for cut in cuts]
    assert above_canary == above_all == above
    assert n_canary == n_all == sum(counts.values())
    # bin j holds the buckets above bin_cuts[:j] and at or below bin_cuts[j:]
    expected = [0] * len(tracker.bins.all)
    for bucket, count in counts.items():
        expected[sum(1 for cut in bin_cuts if cut < bucket)] += count
    assert tracker.bins.canary == expected
    assert tracker.bins.all == tracker.bins.canary
    # the same requests on the baseline's side: counted among all, not as the canary's
    above_canary, above_all, n_canary, n_all = tracker._tally(histogram, EMPTY_HISTOGRAM)
    assert above_canary == [0] * len(cuts) and above_all == above
    assert (n_canary, n_all) == (0, sum(counts.values()))
    assert tracker.bins.all == [2 * c for c in expected]
    assert tracker.bins.canary == expected


def _histogram(rng: np.random.Generator, n: int, sigma: float) -> LatencyHistogram:
    values = rng.lognormal(math.log(80.0), sigma, n)
    found: dict[int, int] = {}
    for value in values.tolist():
        index = bucket_of(value)
        found[index] = found.get(index, 0) + 1
    return LatencyHistogram(found)


def _false_alarms(canary_sigma: float, level: float, runs: int, alpha: float) -> float:
    """Runs whose shares e-value ever reaches 1/alpha, looked at after every observation."""
    rng = np.random.default_rng(31)
    threshold = math.log(1 / alpha)
    spec = MetricSpec("latency", MetricKind.LATENCY, quantile=level)
    crossed = 0
    for _ in range(runs):
        store = LatencyStore()
        test = QuantileTest(spec, store)
        store.begin_step(0.2)
        for n_c in rng.binomial(40, 0.2, size=150).tolist():
            store.add(
                VariantSample(40 - n_c, 0, _histogram(rng, 40 - n_c, 0.5)),
                VariantSample(n_c, 0, _histogram(rng, n_c, canary_sigma)),
            )
            # the bound is cheap and never below the e-value: look exactly when it matters
            shares = test.shares
            if shares.log_e_bound() >= threshold and shares.log_e() >= threshold:
                crossed += 1
                break
    return crossed / runs


@pytest.mark.parametrize("level", [0.5, 0.95])
def test_equal_latencies_rarely_build_evidence_though_looked_at_every_time(level: float) -> None:
    alpha, runs = 0.05, 400
    assert _false_alarms(0.5, level, runs, alpha) <= binomial_tolerance(alpha, runs)


def test_a_canary_with_a_shorter_tail_builds_no_evidence_at_the_tail() -> None:
    alpha, runs = 0.05, 400
    assert _false_alarms(0.3, 0.95, runs, alpha) <= binomial_tolerance(alpha, runs)


def test_a_canary_with_a_longer_tail_does_build_evidence_at_the_tail() -> None:
    assert _false_alarms(0.8, 0.95, 100, 0.05) >= 0.9


def test_the_shares_count_only_after_the_baseline_has_a_threshold() -> None:
    store = LatencyStore()
    test = QuantileTest(MetricSpec("p99", MetricKind.LATENCY, quantile=0.99), store)
    store.begin_step(0.5)
    slow = LatencyHistogram({bucket_of(900.0): 5})
    fast = LatencyHistogram({bucket_of(80.0): 5})
    for _ in range(REF_MIN // 5):  # too few earlier baseline samples to place a threshold
        store.add(VariantSample(5, 0, fast), VariantSample(5, 0, slow))
    assert test.shares.worse == [0, 0]

    for _ in range(3):
        store.add(VariantSample(5, 0, fast), VariantSample(5, 0, slow))
    assert test.shares.worse == [15, 15]  # every canary request slower than the baseline's p99
    assert test.shares.other == [0, 15]
    described = test.shares.describe()
    assert "15 of 15 requests slower than the baseline's p99" in described
    assert "this step's rank-score e-values: upper " in described
    assert ", location " in described


def test_when_lower_is_worse_the_fast_side_is_the_worse_one() -> None:
    spec = MetricSpec(
        "throughput_p50", MetricKind.LATENCY, quantile=0.5, direction=Direction.LOWER_IS_WORSE
    )
    store = LatencyStore()
    test = QuantileTest(spec, store)
    store.begin_step(0.5)
    base = LatencyHistogram({bucket_of(80.0): 30})
    fast = LatencyHistogram({bucket_of(20.0): 30})
    for _ in range(10):
        store.add(VariantSample(30, 0, base), VariantSample(30, 0, fast))
    assert test.shares.worse[0] == test.shares.worse[1] > 0
    assert test.log_e() > math.log(100)


@given(
    st.sampled_from([0.5, 0.95]),
    st.lists(st.integers(0, 30), min_size=BINS, max_size=BINS),
    st.lists(st.integers(0, 30), min_size=BINS, max_size=BINS),
)
@settings(max_examples=200, deadline=None)
def test_a_level_s_e_value_is_its_fixed_mixture_and_its_bound_is_never_below_it(
    level: float, canary: list[int], baseline: list[int]
) -> None:
    tracker = SharesTracker()
    shares = tracker.track(level, Direction.HIGHER_IS_WORSE)
    tracker.begin_step(0.2)
    bins = tracker.bins
    bins.canary, bins.all = canary, [c + b for c, b in zip(canary, baseline, strict=True)]
    bins.version += 1
    half = BINS // 2  # the slow half: the level's worse side, near enough for the test
    shares.worse = [sum(canary[half:]), sum(bins.all[half:])]
    shares.other = [sum(canary[:half]), sum(bins.all[:half])]

    parts = [(1 - sum(w for _, w in MIX[shares.score]), shares._log_shares_step(0.2))]
    parts += [(w, bins.log_e_step(kind, True)) for kind, w in MIX[shares.score]]
    expected = math.log(sum(w * math.exp(v) for w, v in parts))
    assert shares.log_e() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert shares.log_e_bound() >= shares.log_e() - 1e-9
    # a step closed keeps its value: the next step's e-value multiplies in
    tracker.begin_step(0.5)
    assert shares.log_e() == pytest.approx(expected, rel=1e-9, abs=1e-9)
