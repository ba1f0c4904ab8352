"""Latency quantiles: Howard & Ramdas confidence sequences per variant, and their e-value.

For a fixed quantile level ``p`` and the true quantile ``Q``, the indicators ``X <= Q`` are
Bernoulli(p), so the count ``S_n`` of samples at or below ``Q`` obeys the beta-binomial
mixture boundary at every ``n`` at once. Inverting it gives the range of counts
``[k_lo, k_hi]`` that ``S_n`` may take, hence ``X_(k_lo) <= Q < X_(k_hi + 1)``: a
confidence sequence read off order statistics (Howard & Ramdas, Theorem 1 with the
beta-binomial boundary). With histograms, an order statistic is known up to its bucket,
so the bounds are bucket edges: never too narrow.

Both variants' samples are pooled over the rollout (outside warm-ups): a quantile of a
variant does not depend on the traffic split, unlike the error share.
"""

from __future__ import annotations

import math

from gonogo.rollout.analysis import evalues
from gonogo.rollout.analysis.histogram import BucketCounts, lower_edge, representative, upper_edge
from gonogo.rollout.analysis.interface import Direction, Finding, VariantSample
from gonogo.rollout.analysis.metrics import MetricSpec

#: prior concentration of the beta-binomial boundary (its "prior sample size")
QUANTILE_CONCENTRATION = 25.0


class LatencyStore:
    """Both variants' pooled latency histograms, as BucketCounts trees."""

    def __init__(self) -> None:
        self.baseline = BucketCounts()
        self.canary = BucketCounts()

    def add(self, baseline: VariantSample, canary: VariantSample) -> None:
        """Add one observation's histograms."""
        self.baseline.add_histogram(baseline.latency)
        self.canary.add_histogram(canary.latency)


class QuantileTest:
    """One latency quantile compared between the variants."""

    def __init__(self, spec: MetricSpec, store: LatencyStore) -> None:
        self.spec = spec
        self.p = spec.quantile if spec.quantile is not None else 0.5
        self._store = store
        self._guesses: dict[str, tuple[int, int]] = {}
        self._cache: tuple[int, int, float] = (-1, -1, 0.0)

    def _bucket(self, tree: BucketCounts) -> int:
        return tree.find(max(1, math.ceil(self.p * tree.total)))

    def _arm_log_e(self, tree: BucketCounts, bucket: int) -> float:
        """Smallest log e-value for "the p-quantile lies in ``bucket``" given one variant."""
        low = tree.prefix(bucket - 1)
        high = tree.prefix(bucket)
        return evalues.min_log_bb_e(low, high, tree.total, self.p, QUANTILE_CONCENTRATION)

    def size(self) -> tuple[int, ...]:
        """How much data the test rests on."""
        return (self._store.baseline.total, self._store.canary.total)

    def log_e(self) -> float:
        """log e-value that the canary's quantile is worse than the baseline's (0 if not)."""
        base, cand = self._store.baseline, self._store.canary
        if base.total == 0 or cand.total == 0:
            return 0.0
        if self._cache[:2] == (base.total, cand.total):
            return self._cache[2]
        value = self._compute_log_e(base, cand)
        self._cache = (base.total, cand.total, value)
        return value

    def _compute_log_e(self, base: BucketCounts, cand: BucketCounts) -> float:
        j_base, j_cand = self._bucket(base), self._bucket(cand)
        higher_worse = self.spec.direction is Direction.HIGHER_IS_WORSE
        if (j_cand <= j_base) if higher_worse else (j_cand >= j_base):
            return 0.0
        # On the buckets between the two estimates one variant's e-value falls and the
        # other's rises; the smallest "larger of the two" sits where they cross.
        lo_tree, hi_tree = (base, cand) if higher_worse else (cand, base)
        lo, hi = min(j_base, j_cand), max(j_base, j_cand)

        def pair(j: int) -> tuple[float, float]:
            return self._arm_log_e(lo_tree, j), self._arm_log_e(hi_tree, j)

        left, right = lo, hi  # find the first j where the low arm's e-value >= the high arm's
        while left < right:
            mid = (left + right) // 2
            e_low, e_high = pair(mid)
            if e_low >= e_high:
                right = mid
            else:
                left = mid + 1
        best = max(pair(left))
        if left > lo:
            best = min(best, max(pair(left - 1)))
        return best - math.log(2.0)

    def _bounds(self, name: str, tree: BucketCounts, log_threshold: float) -> tuple[float, float]:
        """Confidence bounds (ms) on one variant's quantile."""
        n = tree.total
        if n == 0:
            return 0.0, math.inf
        guess = self._guesses.get(name)
        if guess is None:
            k_lo, k_hi = evalues.count_bounds(n, self.p, log_threshold, QUANTILE_CONCENTRATION)
        else:
            k_lo, k_hi = evalues.count_bounds_near(
                n, self.p, log_threshold, QUANTILE_CONCENTRATION, guess
            )
        self._guesses[name] = (k_lo, k_hi)
        lower = lower_edge(tree.find(k_lo)) if k_lo >= 1 else 0.0
        upper = upper_edge(tree.find(k_hi + 1)) if k_hi + 1 <= n else math.inf
        return lower, upper

    def bounds(self, log_threshold: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """Confidence bounds on the baseline's and the canary's quantile (ms)."""
        return (
            self._bounds("baseline", self._store.baseline, log_threshold),
            self._bounds("canary", self._store.canary, log_threshold),
        )

    def finding(self, log_threshold: float, bounds: bool) -> Finding:
        """The metric's state; relative degradation bounds when ``bounds``."""
        spec = self.spec
        base, cand = self._store.baseline, self._store.canary
        est_base = representative(self._bucket(base)) if base.total else None
        est_cand = representative(self._bucket(cand)) if cand.total else None
        worse = False
        if est_base is not None and est_cand is not None:
            higher = spec.direction is Direction.HIGHER_IS_WORSE
            worse = est_cand > est_base if higher else est_cand < est_base
        lower = upper = None
        within = False
        detail = f"{cand.total} canary and {base.total} baseline samples"
        if bounds:
            # each variant's sequence at half the error budget: together at the metric's
            (b_lo, b_hi), (c_lo, c_hi) = self.bounds(log_threshold + math.log(2.0))
            if spec.direction is Direction.HIGHER_IS_WORSE:
                upper = c_hi / b_lo - 1.0 if b_lo > 0 else math.inf
                lower = c_lo / b_hi - 1.0 if b_hi < math.inf else -1.0
                gap = c_hi - b_lo
            else:
                upper = b_hi / c_lo - 1.0 if c_lo > 0 else math.inf
                lower = b_lo / c_hi - 1.0 if c_hi < math.inf else -1.0
                gap = b_hi - c_lo
            within = upper <= spec.tolerance or (
                spec.tolerance_abs is not None and gap <= spec.tolerance_abs
            )
            detail += (
                f"; baseline in [{b_lo:.4g}, {b_hi:.4g}] ms, canary in [{c_lo:.4g}, {c_hi:.4g}] ms"
            )
        return Finding(
            metric=spec.name,
            kind=spec.kind,
            baseline=est_base,
            canary=est_cand,
            e_value=math.exp(min(self.log_e(), 700.0)),
            lower=lower,
            upper=upper,
            tolerance=spec.tolerance,
            worse=worse,
            within_tolerance=within,
            detail=detail,
        )
