"""Is the current run slower than the baseline, beyond noise? A test over repeated runs.

With raw samples on both sides: a percentile bootstrap confidence interval of the ratio of
medians (current / baseline), from a seeded generator so the same samples always give the
same interval, and a one-sided Mann-Whitney U test of "current is slower than the baseline
made ``1 + tolerance`` times slower". A regression needs both: the whole interval above
``1 + tolerance`` and the test significant at ``1 - confidence``. Noise widens the interval
so it fails neither; a real slowdown past the tolerance fails both.

With only summary statistics on a side (pytest-benchmark without ``--benchmark-save-data``),
the interval is a normal approximation of the log ratio of means.

numpy and scipy come with the ``stats`` extra and are imported only when needed.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from types import ModuleType
from typing import Any, Literal

from gonogo.evidence.benchmarks import Summary
from gonogo.perf import PerfError, StatsUnavailable

#: at most this many samples per side are compared or stored (quantile-spaced when thinned)
MAX_SAMPLES = 1000
RESAMPLES = 2000
SEED = 20_240_501

Method = Literal["bootstrap", "summary"]


@dataclass(frozen=True)
class Comparison:
    """Current against baseline timings: the ratio, its interval and the test's p-value."""

    method: Method
    ratio: float
    low: float
    high: float
    confidence: float
    tolerance: float
    p_value: float
    """One-sided Mann-Whitney U (normal approximation for summaries): current slower than
    the baseline made ``1 + tolerance`` times slower."""
    baseline_n: int
    current_n: int
    baseline_center: float
    current_center: float

    @property
    def slower(self) -> bool:
        """A regression: the whole interval above ``1 + tolerance`` and the test significant."""
        return self.low > 1 + self.tolerance and self.p_value < 1 - self.confidence

    @property
    def faster(self) -> bool:
        """An improvement past the tolerance: the whole interval below ``1 / (1 + tolerance)``."""
        return self.high < 1 / (1 + self.tolerance)

    def describe(self) -> str:
        """``+31.2% (95% CI +27.0% to +35.1%, p=0.0001)``."""
        return (
            f"{_percent(self.ratio)} ({self.confidence:.0%} CI {_percent(self.low)} to "
            f"{_percent(self.high)}, p={self.p_value:.2g})"
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form, kept in the observation's details."""
        return {
            "method": self.method,
            "ratio": round(self.ratio, 6),
            "low": round(self.low, 6),
            "high": round(self.high, 6),
            "confidence": self.confidence,
            "tolerance": self.tolerance,
            "p_value": self.p_value,
            "baseline_n": self.baseline_n,
            "current_n": self.current_n,
            "baseline_center": self.baseline_center,
            "current_center": self.current_center,
        }


def _percent(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def thin(samples: Sequence[float], limit: int = MAX_SAMPLES) -> tuple[float, ...]:
    """At most ``limit`` samples: the sorted samples at evenly spaced ranks when there are more.

    Keeps the shape of the distribution (its quantiles) and is deterministic.
    """
    if len(samples) <= limit:
        return tuple(samples)
    ordered = sorted(samples)
    step = (len(ordered) - 1) / (limit - 1)
    return tuple(ordered[round(i * step)] for i in range(limit))


def compare_samples(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    confidence: float,
    tolerance: float,
    seed: int = SEED,
) -> Comparison:
    """Bootstrap interval of the ratio of medians, and Mann-Whitney U against the tolerance."""
    np, scipy_stats = _libraries()
    base = np.asarray(thin(baseline), dtype=float)
    cur = np.asarray(thin(current), dtype=float)
    base_median = float(np.median(base))
    if base_median <= 0:
        raise PerfError(
            "the baseline's median time is 0: the timings are below the clock's resolution",
            hint="time more work per round, or record the baseline again",
        )
    rng = np.random.default_rng(seed)
    base_medians = np.median(base[rng.integers(0, base.size, (RESAMPLES, base.size))], axis=1)
    cur_medians = np.median(cur[rng.integers(0, cur.size, (RESAMPLES, cur.size))], axis=1)
    ratios = cur_medians / np.maximum(base_medians, np.finfo(float).tiny)
    alpha = 1 - confidence
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    test = scipy_stats.mannwhitneyu(cur, base * (1 + tolerance), alternative="greater")
    cur_median = float(np.median(cur))
    return _finite(
        Comparison(
            method="bootstrap",
            ratio=cur_median / base_median,
            low=float(low),
            high=float(high),
            confidence=confidence,
            tolerance=tolerance,
            p_value=float(test.pvalue),
            baseline_n=int(base.size),
            current_n=int(cur.size),
            baseline_center=base_median,
            current_center=cur_median,
        )
    )


def compare_summaries(
    baseline: Summary, current: Summary, *, confidence: float, tolerance: float
) -> Comparison:
    """Normal approximation of the log ratio of means, from summary statistics only."""
    if baseline.mean <= 0 or current.mean <= 0:
        raise PerfError(
            "a mean time of 0 cannot be compared",
            hint="time more work per round, or record the baseline again",
        )
    try:
        ratio = current.mean / baseline.mean
        spread = (current.stddev / current.mean) ** 2 / current.n + (
            baseline.stddev / baseline.mean
        ) ** 2 / baseline.n
        error = math.sqrt(spread)
        alpha = 1 - confidence
        z = NormalDist().inv_cdf(1 - alpha / 2)
        log_ratio = math.log(ratio)
        if error == 0:
            p_value = 0.0 if ratio > 1 + tolerance else 1.0
        else:
            p_value = 1 - NormalDist().cdf((log_ratio - math.log(1 + tolerance)) / error)
        low, high = math.exp(log_ratio - z * error), math.exp(log_ratio + z * error)
    except (OverflowError, ValueError, ZeroDivisionError):
        raise _too_far_apart(baseline.mean, current.mean) from None
    return _finite(
        Comparison(
            method="summary",
            ratio=ratio,
            low=low,
            high=high,
            confidence=confidence,
            tolerance=tolerance,
            p_value=p_value,
            baseline_n=baseline.n,
            current_n=current.n,
            baseline_center=baseline.mean,
            current_center=current.mean,
        )
    )


def _finite(comparison: Comparison) -> Comparison:
    """The comparison, unless its numbers overflowed: times so far apart say nothing."""
    numbers = (comparison.ratio, comparison.low, comparison.high, comparison.p_value)
    if all(math.isfinite(n) for n in numbers):
        return comparison
    raise _too_far_apart(comparison.baseline_center, comparison.current_center)


def _too_far_apart(baseline: float, current: float) -> PerfError:
    return PerfError(
        f"the baseline ({baseline:.3g} s) and this run ({current:.3g} s) cannot be compared: "
        "their numbers are too far apart (the arithmetic overflows)",
        hint="time more work per round, or record the baseline again",
    )


def _libraries() -> tuple[Any, Any]:
    """numpy and scipy.stats, or one line saying which extra installs them."""
    try:
        numpy: ModuleType = importlib.import_module("numpy")
        scipy_stats: ModuleType = importlib.import_module("scipy.stats")
    except ImportError:
        raise StatsUnavailable(
            "comparing benchmark samples needs numpy and scipy",
            hint="pip install 'gonogo[stats]'",
        ) from None
    return numpy, scipy_stats
