"""The statistical comparison: a real slowdown is a regression, noise is not."""

from __future__ import annotations

import importlib
import statistics
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gonogo.evidence.benchmarks import Summary
from gonogo.perf import StatsUnavailable
from gonogo.perf.stats import MAX_SAMPLES, Comparison, compare_samples, compare_summaries, thin
from tests.perf.helpers import spread

TIGHT = spread(0.010, 0.0005, 0.0005)


def compare(baseline: list[float], current: list[float], tolerance: float = 0.10) -> Comparison:
    return compare_samples(baseline, current, confidence=0.95, tolerance=tolerance)


def test_thirty_percent_slower_is_a_regression_with_its_interval() -> None:
    result = compare(TIGHT, [x * 1.3 for x in TIGHT])
    assert result.slower
    assert not result.faster
    assert result.ratio == pytest.approx(1.3)
    assert 1.10 < result.low < 1.3 < result.high
    assert result.p_value < 0.05
    assert result.describe().startswith("+30.0% (95% CI +")


def test_same_median_with_more_spread_is_not_a_regression() -> None:
    noisy = spread(0.010, 0.001, 0.008)  # the same median, a long tail of slow runs
    assert statistics.median(noisy) == statistics.median(TIGHT)
    result = compare(TIGHT, noisy)
    assert not result.slower
    assert result.low < 1.10 < result.high  # the interval is wide: noise, not evidence


def test_a_slowdown_inside_the_tolerance_is_not_a_regression() -> None:
    result = compare(TIGHT, [x * 1.05 for x in TIGHT])
    assert result.low > 1.0
    assert not result.slower
    assert compare(TIGHT, [x * 1.05 for x in TIGHT], tolerance=0.01).slower


def test_a_speedup_is_reported_as_faster() -> None:
    result = compare(TIGHT, [x * 0.7 for x in TIGHT])
    assert result.faster
    assert not result.slower


def test_the_same_samples_always_give_the_same_interval() -> None:
    noisy = spread(0.010, 0.002, 0.004)
    assert compare(TIGHT, noisy) == compare(TIGHT, noisy)


def test_summaries_alone_compare_by_a_normal_approximation() -> None:
    base = Summary(n=30, mean=0.010, stddev=0.0003, median=0.010)
    slower = compare_summaries(
        base,
        Summary(n=30, mean=0.013, stddev=0.0004, median=0.013),
        confidence=0.95,
        tolerance=0.10,
    )
    assert slower.method == "summary"
    assert slower.slower
    noisy = compare_summaries(
        base,
        Summary(n=30, mean=0.0105, stddev=0.004, median=0.010),
        confidence=0.95,
        tolerance=0.10,
    )
    assert not noisy.slower


def test_thinning_keeps_at_most_the_limit_and_the_extremes() -> None:
    many = [float(i) for i in range(5000)]
    kept = thin(many)
    assert len(kept) == MAX_SAMPLES
    assert (kept[0], kept[-1]) == (0.0, 4999.0)
    assert thin(many[:10]) == tuple(many[:10])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(min_value=0.001, max_value=1.0), min_size=5, max_size=40),
    st.floats(min_value=0.5, max_value=2.0),
)
def test_the_interval_always_holds_the_observed_ratio(samples: list[float], factor: float) -> None:
    result = compare(samples, [x * factor for x in samples])
    assert result.low <= result.ratio * (1 + 1e-9)
    assert result.high >= result.ratio * (1 - 1e-9)
    assert result.ratio == pytest.approx(factor)


def test_without_numpy_and_scipy_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def missing_scipy(name: str, package: str | None = None) -> ModuleType:
        if name.startswith("scipy"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing_scipy)
    with pytest.raises(StatsUnavailable) as raised:
        compare(TIGHT, TIGHT)
    assert "pip install 'gonogo[stats]'" in str(raised.value)
