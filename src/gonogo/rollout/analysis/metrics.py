"""The sequential judge's per-metric tests, each updated in O(1) (or O(log B)) per observation.

* :class:`ErrorShareTest`: Lindon & Malek's conditional test. Given that an error happened,
  it came from the canary with probability equal to the canary's share of traffic ``w``
  when both variants fail at the same rate, whatever the load does. The canary's share of
  errors is tested against ``w`` with a beta-binomial mixture over the "worse" side, from
  two running counters; a fresh e-process starts at each weight change and the e-values of
  the steps multiply.
* latency lives in :mod:`~gonogo.rollout.analysis.quantiles` (one quantile),
  :mod:`~gonogo.rollout.analysis.quantile_band` (every quantile) and
  :mod:`~gonogo.rollout.analysis.latency_shares` (their e-value).
* :class:`MeanTest`: the normal-mixture mSPRT on the difference of means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from gonogo.rollout.analysis import evalues
from gonogo.rollout.analysis.interface import (
    Direction,
    Finding,
    JudgeError,
    MetricKind,
    Moments,
    VariantSample,
)
from gonogo.rollout.analysis.odds import PairedOdds

#: the ``quantile`` of a latency metric that compares every quantile at once
ALL_QUANTILES: Literal["all"] = "all"


@dataclass(frozen=True)
class MetricSpec:
    """One compared metric: what it is, which way is worse, and its tolerance.

    ``tolerance`` is the non-inferiority margin relative to the baseline (0.2: the canary
    may be up to 20% worse); ``tolerance_abs`` an optional absolute one (error-rate points,
    milliseconds, metric units); a bound inside either counts as within tolerance.
    A latency metric compares one quantile (``quantile=0.99``) or every quantile at once
    (``quantile="all"``, :mod:`~gonogo.rollout.analysis.quantile_band`).
    Metrics that share a ``group`` share one part of alpha: the sequential judge weighs
    the average of their e-values, so related metrics (a latency distribution's p50, p95
    and p99) count once in the ``m`` of ``m/alpha`` instead of once each.
    """

    name: str
    kind: MetricKind
    quantile: float | Literal["all"] | None = None
    direction: Direction = Direction.HIGHER_IS_WORSE
    tolerance: float = 0.2
    tolerance_abs: float | None = None
    query: str = ""
    group: str | None = None

    def __post_init__(self) -> None:
        if self.kind is MetricKind.LATENCY and not (
            self.quantile == ALL_QUANTILES
            or (isinstance(self.quantile, float) and 0 < self.quantile < 1)
        ):
            raise JudgeError(
                f'metric {self.name!r}: a latency metric needs a quantile in (0, 1) or "all"'
            )
        if self.tolerance < 0 or (self.tolerance_abs is not None and self.tolerance_abs < 0):
            raise JudgeError(f"metric {self.name!r}: tolerances must be >= 0")
        if self.group is not None and not self.group.strip():
            raise JudgeError(f"metric {self.name!r}: a group needs a name")

    @property
    def family(self) -> str:
        """What it shares alpha with: its group, or (ungrouped) the metric alone."""
        return self.group if self.group is not None else self.name

    @property
    def all_quantiles(self) -> bool:
        """Whether this latency metric compares every quantile at once."""
        return self.kind is MetricKind.LATENCY and self.quantile == ALL_QUANTILES


def group_clash(metrics: tuple[MetricSpec, ...]) -> str | None:
    """The first group named like a metric outside it (it would merge the two), if any."""
    groups = {m.group for m in metrics if m.group is not None}
    return next((m.name for m in metrics if m.group is None and m.name in groups), None)


#: the group of the default latency quantiles
LATENCY_GROUP = "latency"


def default_metrics() -> tuple[MetricSpec, ...]:
    """Errors plus latency p50, p95 and p99 (one group), all higher-is-worse: ``m = 2``."""
    latency = MetricKind.LATENCY
    return (
        MetricSpec("errors", MetricKind.ERRORS, tolerance=0.5, tolerance_abs=0.0005),
        MetricSpec("latency_p50", latency, quantile=0.5, tolerance=0.1, group=LATENCY_GROUP),
        MetricSpec("latency_p95", latency, quantile=0.95, tolerance=0.2, group=LATENCY_GROUP),
        MetricSpec("latency_p99", latency, quantile=0.99, tolerance=0.2, group=LATENCY_GROUP),
    )


def _e(log_e: float) -> float:
    return math.exp(min(log_e, 700.0))


class ErrorShareTest:
    """The conditional multinomial (here binomial) mixture test on error counts."""

    def __init__(self, spec: MetricSpec, concentrations: tuple[float, ...]) -> None:
        self.spec = spec
        self._concentrations = concentrations
        self._log_e_done = 0.0
        self._weight: float | None = None
        self._x = self._y = 0  # this step's canary and baseline errors
        self._req = [0, 0]  # pooled analysed requests: baseline, canary
        self._err = [0, 0]
        # while counts lag: this step's evidence given each observation's counted share
        self._odds: PairedOdds | None = None
        self._cache: tuple[int, int, int, float] = (-1, -1, -1, 0.0)
        self._share_cache: tuple[int, int, float, tuple[float, float]] = (-1, -1, 0.0, (0, 1))

    def begin_step(self, weight: float, *, lagging: bool = False) -> None:
        """Close the running e-process (its value multiplies in) and start a fresh one.

        ``lagging``: the step's counts lag (:attr:`Step.count_lag_s`), so each
        observation's errors are weighed against the share of requests counted in it
        (:mod:`gonogo.rollout.analysis.odds`) instead of against the weight.
        """
        self._log_e_done += self._log_e_step()
        self._weight = weight
        self._x = self._y = 0
        self._cache = (-1, -1, -1, 0.0)
        self._odds = PairedOdds(bounds=True) if lagging else None

    def add(self, baseline: VariantSample, canary: VariantSample) -> None:
        """Two counter updates (and, while counts lag, the observation's evidence)."""
        self._x += canary.errors
        self._y += baseline.errors
        self._req[0] += baseline.requests
        self._req[1] += canary.requests
        self._err[0] += baseline.errors
        self._err[1] += canary.errors
        odds = self._odds
        if odds is not None:
            if self.spec.direction is Direction.HIGHER_IS_WORSE:
                odds.add(canary.errors, canary.requests, baseline.errors, baseline.requests)
            else:
                odds.add(baseline.errors, baseline.requests, canary.errors, canary.requests)

    def _null(self, x: int, y: int, w: float) -> tuple[int, float]:
        """The errors on the worse side and their share under the null (the weight)."""
        if self.spec.direction is Direction.HIGHER_IS_WORSE:
            return x, w  # canary errors among all errors, null share w
        return y, 1.0 - w

    def _log_e_step(self) -> float:
        x, y, w = self._x, self._y, self._weight
        if w is None or x + y == 0:
            return 0.0
        odds = self._odds
        closed = odds.closed if odds is not None else 0  # a batch may close without errors
        if self._cache[:3] == (x, y, closed):
            return self._cache[3]
        if odds is not None:
            value = odds.log_e()
        else:
            successes, p = self._null(x, y, w)
            logs = [evalues.log_bb_e_upper(successes, x + y, p, c) for c in self._concentrations]
            top = max(logs)
            value = top + math.log(sum(math.exp(v - top) for v in logs) / len(logs))
        self._cache = (x, y, closed, value)
        return value

    def size(self) -> tuple[int, ...]:
        """How much data the test rests on (its findings change only when this grows)."""
        return (self._x + self._y, self._req[0], self._req[1])

    def log_e(self) -> float:
        """log of the product of the steps' e-values so far."""
        return self._log_e_done + self._log_e_step()

    def log_e_bound(self) -> float:
        """A cheap upper bound on :meth:`log_e` (the likelihood ratio at its best)."""
        x, y, w = self._x, self._y, self._weight
        if w is None:
            return self._log_e_done
        if self._odds is not None:  # a few logarithms already
            return self._log_e_done + self._log_e_step()
        successes, p = self._null(x, y, w)
        return self._log_e_done + evalues.log_glr_upper(successes, x + y, p)

    def finding(self, log_threshold: float, bounds: bool) -> Finding:
        """The metric's state; confidence bounds on the rate ratio when ``bounds``."""
        spec = self.spec
        base = self._err[0] / self._req[0] if self._req[0] else None
        cand = self._err[1] / self._req[1] if self._req[1] else None
        worse = False
        if base is not None and cand is not None:
            worse = cand > base if spec.direction is Direction.HIGHER_IS_WORSE else cand < base
        lower = upper = None
        within = False
        detail = (
            f"{self._err[1]} errors in {self._req[1]} canary requests, "
            f"{self._err[0]} in {self._req[0]} baseline requests"
        )
        if bounds and self._weight is not None:
            lower, upper = self._ratio_bounds(log_threshold)
            within = upper <= spec.tolerance
            if not within and spec.tolerance_abs is not None and self._req[0] and self._req[1]:
                gap = self._absolute_gap(log_threshold + math.log(2), spec.tolerance_abs)
                within = gap is not None and gap <= spec.tolerance_abs
                detail += (
                    f"; rate difference at most {gap:.3%}"
                    if gap is not None
                    else f"; rate difference not yet bounded by {spec.tolerance_abs:.3%}"
                )
        return Finding(
            metric=spec.name,
            kind=spec.kind,
            baseline=base,
            canary=cand,
            e_value=_e(self.log_e()),
            lower=lower,
            upper=upper,
            tolerance=spec.tolerance,
            worse=worse,
            within_tolerance=within,
            detail=detail,
            group=spec.group,
        )

    def _ratio_bounds(self, log_threshold: float) -> tuple[float, float]:
        """Bounds on the error-rate ratio the worse way (canary/baseline where higher is
        worse, baseline/canary where lower is) minus one, from this step's shares."""
        if self._odds is not None:  # the rate ratio is the odds ratio of the shares
            low_odds, high_odds = self._odds.bounds(log_threshold)
            return math.expm1(low_odds), math.expm1(high_odds)  # e^inf - 1: inf
        x, y = self._x, self._y
        w = self._weight if self._weight is not None else 0.5
        cached = self._share_cache
        if cached[:3] == (x, y, log_threshold):
            q_low, q_high = cached[3]
        else:
            # this step's last bounds are a close start: they move little from look to look
            grew = cached[2] == log_threshold and cached[0] + cached[1] <= x + y
            guess = cached[3] if grew else None
            q_low, q_high = evalues.share_bounds(x, x + y, log_threshold, 4.0, guess)
            self._share_cache = (x, y, log_threshold, (q_low, q_high))

        def ratio(q: float) -> float:
            return math.inf if q >= 1.0 else q * (1 - w) / (w * (1 - q))

        low, high = ratio(q_low), ratio(q_high)
        if self.spec.direction is Direction.HIGHER_IS_WORSE:
            return low - 1.0, high - 1.0
        return (1.0 / high - 1.0 if high else -1.0), (1.0 / low - 1.0 if low else math.inf)

    def _absolute_gap(self, log_threshold: float, tolerance: float) -> float | None:
        """Upper bound on how much worse the canary's rate is, in rate points.

        None when it is certainly above ``tolerance``: the likelihood-ratio bounds are never
        wider than the mixture's, so while even they leave a larger gap, no promotion is
        possible, found with a few logarithms instead of the mixture's search.
        """
        # the canary's worse end and the baseline's better end: only one end of each
        higher = self.spec.direction is Direction.HIGHER_IS_WORSE
        (k_base, n_base), (k_cand, n_cand) = zip(self._err, self._req, strict=True)
        cheap_cand = evalues.glr_bound(k_cand, n_cand, log_threshold, upper=higher)
        cheap_base = evalues.glr_bound(k_base, n_base, log_threshold, upper=not higher)
        sign = 1.0 if higher else -1.0
        if sign * (cheap_cand - cheap_base) > tolerance:
            return None
        cand = rate_bound(k_cand, n_cand, log_threshold, upper=higher, start=cheap_cand)
        base = rate_bound(k_base, n_base, log_threshold, upper=not higher, start=cheap_base)
        return sign * (cand - base)


def rate_bounds(k: int, n: int, log_threshold: float) -> tuple[float, float]:
    """A confidence sequence for a rate: prior Beta(1, (1-p)/p) at each candidate ``p``."""
    return (
        rate_bound(k, n, log_threshold, upper=False),
        rate_bound(k, n, log_threshold, upper=True),
    )


def rate_bound(
    k: int, n: int, log_threshold: float, *, upper: bool, start: float | None = None
) -> float:
    """One end of :func:`rate_bounds`: a rejected rate within
    :data:`~gonogo.rollout.analysis.roots.XTOL` in logit of a kept one, searched from
    ``start`` (by default the likelihood-ratio bound, which lies just inside)."""
    if n == 0:
        return 1.0 if upper else 0.0

    def excess(t: float) -> float:
        b = math.exp(-t)  # (1-p)/p: the prior Beta(1, b) has mean p
        return (
            evalues.log_beta(1.0 + k, b + n - k)
            - evalues.log_beta(1.0, b)
            - k * evalues.log_expit(t)
            - (n - k) * evalues.log_expit(-t)
            - log_threshold
        )

    if start is None:
        start = evalues.glr_bound(k, n, log_threshold, upper=upper)
    edge = 1 - 1e-9 if upper else 1e-12
    return evalues.bound(excess, k, n, upper=upper, edge=edge, start=start)


class MeanTest:
    """The normal-mixture mSPRT on a numeric metric's mean (CPU per request, conversion)."""

    #: samples each variant needs before its variance is trusted
    MIN_SAMPLES = 10

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        self.baseline = Moments()
        self.canary = Moments()
        self._tau2: float | None = None

    def add(self, baseline: VariantSample, canary: VariantSample) -> None:
        """Add one observation's sums."""
        empty = Moments()
        self.baseline = self.baseline + baseline.metrics.get(self.spec.name, empty)
        self.canary = self.canary + canary.metrics.get(self.spec.name, empty)

    def _state(self) -> tuple[float, float, float] | None:
        """(difference, its variance, the mixture variance) once both have enough samples."""
        base, cand = self.baseline, self.canary
        if base.count < self.MIN_SAMPLES or cand.count < self.MIN_SAMPLES:
            return None
        variance = base.variance / base.count + cand.variance / cand.count
        if variance <= 0:
            return None
        if self._tau2 is None:
            # fixed once: the mixing scale is the effect the tolerance allows
            scale = self.spec.tolerance * abs(base.mean)
            self._tau2 = scale * scale if scale > 0 else variance * base.count
        return cand.mean - base.mean, variance, self._tau2

    def size(self) -> tuple[int, ...]:
        """How much data the test rests on."""
        return (self.baseline.count, self.canary.count)

    def log_e_bound(self) -> float:
        """The e-value itself: cheap enough."""
        return self.log_e()

    def log_e(self) -> float:
        """log e-value against "equal means"."""
        state = self._state()
        if state is None:
            return 0.0
        return evalues.normal_mixture_log_e(*state)

    def finding(self, log_threshold: float, bounds: bool) -> Finding:
        """The metric's state; relative degradation bounds when ``bounds``."""
        spec = self.spec
        base, cand = self.baseline, self.canary
        state = self._state()
        sign = 1.0 if spec.direction is Direction.HIGHER_IS_WORSE else -1.0
        worse = state is not None and sign * state[0] > 0
        lower = upper = None
        within = False
        if bounds and state is not None:
            difference, variance, tau2 = state
            radius = evalues.normal_mixture_radius(variance, tau2, log_threshold)
            worst, best = sign * difference + radius, sign * difference - radius
            scale = abs(base.mean)
            upper = worst / scale if scale > 0 else math.inf
            lower = best / scale if scale > 0 else -math.inf
            within = upper <= spec.tolerance or (
                spec.tolerance_abs is not None and worst <= spec.tolerance_abs
            )
        return Finding(
            metric=spec.name,
            kind=spec.kind,
            baseline=base.mean if base.count else None,
            canary=cand.mean if cand.count else None,
            e_value=_e(self.log_e()),
            lower=lower,
            upper=upper,
            tolerance=spec.tolerance,
            worse=worse,
            within_tolerance=within,
            detail=f"{cand.count} canary and {base.count} baseline samples",
            group=spec.group,
        )
