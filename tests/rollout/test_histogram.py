"""Latency histograms: buckets, quantiles and order statistics agree with sorting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.rollout.analysis.histogram import (
    NUM_BUCKETS,
    BucketCounts,
    LatencyHistogram,
    bucket_of,
    lower_edge,
    upper_edge,
)

latencies = st.floats(min_value=0.001, max_value=1e6, allow_nan=False)


@given(latencies)
def test_a_latency_falls_inside_its_bucket(value: float) -> None:
    index = bucket_of(value)
    assert 0 <= index < NUM_BUCKETS
    assert lower_edge(index) <= value * (1 + 1e-9)
    assert value <= upper_edge(index) * (1 + 1e-9) or index == NUM_BUCKETS - 1


@given(st.lists(latencies, min_size=1, max_size=300), st.data())
@settings(max_examples=100, deadline=None)
def test_order_statistics_match_the_sorted_buckets(
    values: list[float], data: st.DataObject
) -> None:
    counts = BucketCounts()
    histogram = LatencyHistogram.from_samples(values)
    counts.add_histogram(histogram)
    buckets = sorted(bucket_of(v) for v in values)

    rank = data.draw(st.integers(1, len(values)))
    assert counts.find(rank) == buckets[rank - 1]
    ranks = sorted(data.draw(st.lists(st.integers(1, len(values)), max_size=20)))
    assert counts.find_many(ranks) == [buckets[r - 1] for r in ranks]
    probe = data.draw(st.integers(-1, NUM_BUCKETS))
    assert counts.prefix(probe) == sum(1 for b in buckets if b <= probe)
    assert counts.total == histogram.total == len(values)

    counts.add_histogram(histogram, -1)
    assert counts.total == 0 and counts.prefix(NUM_BUCKETS) == 0


def test_a_histogram_quantile_is_within_one_bucket_of_the_sample_quantile() -> None:
    values = [float(v) for v in range(1, 1001)]
    median = LatencyHistogram.from_samples(values).quantile(0.5)
    assert median is not None and abs(median - 500) / 500 < 0.011
    assert LatencyHistogram().quantile(0.5) is None


@given(st.lists(latencies, min_size=1, max_size=100), st.lists(latencies, min_size=1, max_size=100))
@settings(max_examples=100, deadline=None)
def test_order_statistics_follow_counts_added_after_an_earlier_search(
    first: list[float], later: list[float]
) -> None:
    """The running totals kept between searches are dropped once counts change."""
    counts = BucketCounts()
    counts.add_histogram(LatencyHistogram.from_samples(first))
    before = sorted(bucket_of(v) for v in first)
    assert counts.find_many(list(range(1, len(first) + 1))) == before
    counts.add_histogram(LatencyHistogram.from_samples(later))
    after = sorted(bucket_of(v) for v in [*first, *later])
    assert counts.find_many(list(range(1, len(after) + 1))) == after
    counts.add(0, 1)  # bucket 0: below every other
    assert counts.find_many([1, 2, len(after) + 1]) == [0, after[0], after[-1]]
