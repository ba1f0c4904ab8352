"""Latency quantiles: Howard & Ramdas confidence sequences per variant, and the quantile test.

For a fixed quantile level ``p`` and the true quantile ``Q``, the indicators ``X <= Q`` are
Bernoulli(p), so the count ``S_n`` of samples at or below ``Q`` obeys the beta-binomial
mixture boundary at every ``n`` at once. Inverting it gives the range of counts
``[k_lo, k_hi]`` that ``S_n`` may take, hence ``X_(k_lo) <= Q < X_(k_hi + 1)``: a
confidence sequence read off order statistics (Howard & Ramdas, Theorem 1 with the
beta-binomial boundary). With histograms, an order statistic is known up to its bucket,
so the bounds are bucket edges: never too narrow.

Both variants' samples are pooled over the rollout (outside warm-ups): a quantile of a
variant does not depend on the traffic split, unlike the error share. The sequences bound
the degradation (early promotion, the numbers in a decision); the evidence of a
regression is the canary's share of the requests on each side of the baseline's quantile
(:mod:`~gonogo.rollout.analysis.latency_shares`) averaged with its share tilted by rank
scores (:mod:`~gonogo.rollout.analysis.latency_scores`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gonogo.rollout.analysis import evalues
from gonogo.rollout.analysis.histogram import BucketCounts, lower_edge, representative, upper_edge
from gonogo.rollout.analysis.interface import Direction, Finding, VariantSample
from gonogo.rollout.analysis.latency_shares import SharesTracker
from gonogo.rollout.analysis.metrics import MetricSpec

#: prior concentration of the beta-binomial boundary (its "prior sample size")
QUANTILE_CONCENTRATION = 25.0


@dataclass(frozen=True)
class Degradation:
    """Confidence bounds on a quantile's relative degradation, and the variants' bounds."""

    lower: float
    upper: float
    gap: float
    """the most the canary may be worse in milliseconds"""
    baseline: tuple[float, float]
    canary: tuple[float, float]

    def within(self, spec: MetricSpec) -> bool:
        """Inside the relative or the absolute tolerance."""
        return self.upper <= spec.tolerance or (
            spec.tolerance_abs is not None and self.gap <= spec.tolerance_abs
        )

    def describe(self) -> str:
        """The variants' bounds in words."""
        (b_lo, b_hi), (c_lo, c_hi) = self.baseline, self.canary
        return f"baseline in [{b_lo:.4g}, {b_hi:.4g}] ms, canary in [{c_lo:.4g}, {c_hi:.4g}] ms"


class LatencyStore:
    """Both variants' pooled latency histograms, and the shares around tracked quantiles."""

    def __init__(self) -> None:
        self.baseline = BucketCounts()
        self.canary = BucketCounts()
        self.shares = SharesTracker()

    def begin_step(self, weight: float, *, lagging: bool = False) -> None:
        """A new weight: the share e-processes start afresh (their values carry over);
        ``lagging``: the step's counts lag (see :class:`LevelShares`)."""
        self.shares.begin_step(weight, lagging=lagging)

    def add(self, baseline: VariantSample, canary: VariantSample) -> None:
        """Count one observation's shares against earlier thresholds, then pool it."""
        self.shares.count(baseline.latency, canary.latency, self.baseline)
        self.baseline.add_histogram(baseline.latency)
        self.canary.add_histogram(canary.latency)


class QuantileTest:
    """One latency quantile compared between the variants (``level``: the spec's quantile)."""

    def __init__(self, spec: MetricSpec, store: LatencyStore, level: float | None = None) -> None:
        self.spec = spec
        if level is None:
            level = spec.quantile if isinstance(spec.quantile, float) else 0.5
        self.p = level
        self._store = store
        self.shares = store.shares.track(level, spec.direction)
        self._guesses: dict[str, tuple[int, int]] = {}

    def _bucket(self, tree: BucketCounts) -> int:
        return tree.find(max(1, math.ceil(self.p * tree.total)))

    def size(self) -> tuple[int, ...]:
        """How much data the test rests on."""
        return (self._store.baseline.total, self._store.canary.total)

    def log_e(self) -> float:
        """log e-value that the canary is slower around this quantile (0 while it is not)."""
        value = self.log_e_if_worse()
        return 0.0 if value is None else value

    def log_e_bound(self) -> float:
        """A cheap upper bound on :meth:`log_e`."""
        return self.shares.log_e_bound()

    def log_e_if_worse(self) -> float | None:
        """The shares' log e-value while the canary's estimate is the worse one, else None.

        Counting it only then keeps it below the shares' supermartingale, so an average of
        it over levels is an e-process too.
        """
        est_base, est_cand = self.estimates()
        if est_base is None or est_cand is None:
            return None
        higher = self.spec.direction is Direction.HIGHER_IS_WORSE
        if not (est_cand > est_base if higher else est_cand < est_base):
            return None
        return self.shares.log_e()

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

    def estimates(self) -> tuple[float | None, float | None]:
        """The baseline's and the canary's quantile (bucket representatives), if any data."""
        base, cand = self._store.baseline, self._store.canary
        est_base = representative(self._bucket(base)) if base.total else None
        est_cand = representative(self._bucket(cand)) if cand.total else None
        return est_base, est_cand

    def degradation(self, log_threshold: float) -> Degradation:
        """Bounds on the relative degradation, each variant's sequence at half the budget."""
        (b_lo, b_hi), (c_lo, c_hi) = self.bounds(log_threshold + math.log(2.0))
        if self.spec.direction is Direction.HIGHER_IS_WORSE:
            upper = c_hi / b_lo - 1.0 if b_lo > 0 else math.inf
            lower = c_lo / b_hi - 1.0 if b_hi < math.inf else -1.0
            gap = c_hi - b_lo
        else:
            upper = b_hi / c_lo - 1.0 if c_lo > 0 else math.inf
            lower = b_lo / c_hi - 1.0 if c_hi < math.inf else -1.0
            gap = b_hi - c_lo
        return Degradation(lower, upper, gap, (b_lo, b_hi), (c_lo, c_hi))

    def finding(self, log_threshold: float, bounds: bool) -> Finding:
        """The metric's state; relative degradation bounds when ``bounds``."""
        spec = self.spec
        base, cand = self._store.baseline, self._store.canary
        est_base, est_cand = self.estimates()
        worse = False
        if est_base is not None and est_cand is not None:
            higher = spec.direction is Direction.HIGHER_IS_WORSE
            worse = est_cand > est_base if higher else est_cand < est_base
        lower = upper = None
        within = False
        detail = f"{cand.total} canary and {base.total} baseline samples; {self.shares.describe()}"
        if bounds:
            found = self.degradation(log_threshold)
            lower, upper = found.lower, found.upper
            within = found.within(spec)
            detail += "; " + found.describe()
        # exp(log_e()), without finding the estimates a second time
        e_value = math.exp(min(self.shares.log_e(), 700.0)) if worse else 1.0
        return Finding(
            metric=spec.name,
            kind=spec.kind,
            baseline=est_base,
            canary=est_cand,
            e_value=e_value,
            lower=lower,
            upper=upper,
            tolerance=spec.tolerance,
            worse=worse,
            within_tolerance=within,
            detail=detail,
            group=spec.group,
        )
