"""The e-value arithmetic the sequential judge is built from; pure Python, no numpy.

* :func:`log_bb_e`: the beta-binomial mixture e-process for ``k`` successes in ``n``
  Bernoulli trials against the null success probability ``p`` (two-sided; prior
  Beta(c*p, c*(1-p))). By Ville's inequality it exceeds ``1/alpha`` with probability <= alpha
  over all ``n`` at once.
* :func:`log_bb_e_upper`: the same with the prior truncated to ``q >= p`` (one-sided):
  evidence only that successes are *more* frequent than ``p``.
* :func:`share_bounds` / :func:`count_bounds`: the confidence sets those e-processes
  invert to (all ``p`` not rejected; all counts not rejected).
* :func:`normal_mixture_log_e` / :func:`normal_mixture_radius`: the normal-mixture
  mSPRT for an asymptotically normal difference of means.
* :func:`log_glr_upper` / :func:`log_glr`: the generalised likelihood ratio, an upper
  bound on any mixture of likelihood ratios; a few logarithms where a mixture needs the
  incomplete beta function, so the judge can tell cheaply that a test is far from its
  threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gonogo.rollout.analysis import roots

_TINY = 1e-300


def log_beta(a: float, b: float) -> float:
    """log B(a, b)."""
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def log_bb_e(k: int, n: int, p: float, concentration: float) -> float:
    """log e-value of ``k`` successes in ``n`` trials against success probability ``p``."""
    if n == 0:
        return 0.0
    return _log_bb(k, n, _prior(p, concentration))


Prior = tuple[float, float, float, float, float]


def _log_bb(k: int, n: int, prior: Prior) -> float:
    a, b, log_prior, log_p, log_q = prior
    return (
        math.lgamma(a + k)
        + math.lgamma(b + n - k)
        - math.lgamma(a + b + n)
        - log_prior
        - k * log_p
        - (n - k) * log_q
    )


_PRIORS: dict[tuple[float, float], Prior] = {}


def _prior(p: float, concentration: float) -> Prior:
    """(a, b, log B(a, b), log p, log(1-p)) for the prior Beta(c*p, c*(1-p)), memoised."""
    key = (p, concentration)
    found = _PRIORS.get(key)
    if found is None:
        a, b = concentration * p, concentration * (1.0 - p)
        found = (a, b, log_beta(a, b), math.log(p), math.log1p(-p))
        if len(_PRIORS) < 4096:
            _PRIORS[key] = found
    return found


def _log_cf(x: float, a: float, b: float) -> float:
    """log of the continued fraction of the regularised incomplete beta (modified Lentz).

    The guards against a zero denominator cost a third of the time and, as a denominator
    smaller than 1e-300 does not happen short of an exact zero, the loop runs without
    them first (the same numbers when they would not act) and with them after a failure.
    """
    try:
        value = _log_cf_unguarded(x, a, b)
    except (ZeroDivisionError, ValueError):
        return _log_cf_guarded(x, a, b)
    return value if math.isfinite(value) else _log_cf_guarded(x, a, b)


def _log_cf_unguarded(x: float, a: float, b: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = h = 1.0 / (1.0 - qab * x / qap)
    for m in range(1, 10_000):
        m2 = m + m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / (1.0 + aa * d)
        c = 1.0 + aa / c
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / (1.0 + aa * d)
        c = 1.0 + aa / c
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return math.log(h)


def _log_cf_guarded(x: float, a: float, b: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return math.log(h)


def log_betainc(x: float, a: float, b: float) -> float:
    """log of the regularised incomplete beta I_x(a, b) = P(Beta(a, b) <= x)."""
    if x <= 0.0:
        return -math.inf
    if x >= 1.0:
        return 0.0
    front = a * math.log(x) + b * math.log1p(-x) - log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return front + _log_cf(x, a, b) - math.log(a)
    upper = front + _log_cf(1.0 - x, b, a) - math.log(b)  # log(1 - I_x(a, b))
    return math.log1p(-math.exp(upper)) if upper < 0 else -math.inf


def log_beta_tail(x: float, a: float, b: float) -> float:
    """log P(Beta(a, b) >= x)."""
    return log_betainc(1.0 - x, b, a)


def log_bb_e_upper(k: int, n: int, p: float, concentration: float) -> float:
    """One-sided log e-value: evidence that the success probability exceeds ``p``.

    The mixture over alternatives q >= p with the Beta(c*p, c*(1-p)) prior restricted
    to [p, 1]; a mixture of likelihood ratios, so a nonnegative martingale under the null.
    """
    if n == 0:
        return 0.0
    a, b, log_prior, log_p, log_q = _prior(p, concentration)
    return (
        log_beta(a + k, b + n - k)
        - log_prior
        + log_beta_tail(p, a + k, b + n - k)
        - _prior_tail(p, concentration)
        - k * log_p
        - (n - k) * log_q
    )


_TAILS: dict[tuple[float, float], float] = {}


def _prior_tail(p: float, concentration: float) -> float:
    """log P(q >= p) under the prior Beta(c*p, c*(1-p)), memoised."""
    key = (p, concentration)
    found = _TAILS.get(key)
    if found is None:
        found = log_beta_tail(p, concentration * p, concentration * (1.0 - p))
        if len(_TAILS) < 4096:
            _TAILS[key] = found
    return found


def share_bounds(
    k: int,
    n: int,
    log_threshold: float,
    concentration: float,
    guess: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """The probabilities ``p`` not rejected at ``log_threshold`` after ``k`` of ``n``.

    A confidence sequence: the true ``p`` lies inside at every ``n`` at once with
    probability at least 1 - exp(-log_threshold). Each end is a rejected ``p`` within
    :data:`~gonogo.rollout.analysis.roots.XTOL` in logit of a kept one (Brent's method,
    started from ``guess``, e.g. the bounds of a few trials ago, or else from the
    likelihood-ratio bounds, which lie just inside).
    """
    if n == 0:
        return 0.0, 1.0

    def excess(t: float) -> float:
        p = expit(t)
        a, b = concentration * p, concentration * (1.0 - p)
        prior = (a, b, log_beta(a, b), log_expit(t), log_expit(-t))
        return _log_bb(k, n, prior) - log_threshold

    if guess is None:
        guess = glr_bounds(k, n, log_threshold)
    return (
        bound(excess, k, n, upper=False, edge=1e-12, start=guess[0]),
        bound(excess, k, n, upper=True, edge=1 - 1e-12, start=guess[1]),
    )


def bound(
    excess: Callable[[float], float],
    k: int,
    n: int,
    *,
    upper: bool,
    edge: float,
    start: float | None = None,
) -> float:
    """One end of the probabilities a log e-value keeps after ``k`` of ``n``.

    ``excess``: the log e-value less its threshold, over the logit of the probability;
    the crossing is searched between ``edge`` (a probability so close to 0 or 1 that it
    counts as 0 or 1) and the estimate ``k / n``, from ``start`` when it lies between.
    A side without data (``k = 0`` below, ``k = n`` above) or whose edge is kept is
    unbounded: 0 or 1.
    """
    if (k == n) if upper else (k == 0):
        return 1.0 if upper else 0.0
    outside = logit(edge)
    at_outside = excess(outside)
    if at_outside < 0:
        return 1.0 if upper else 0.0
    inside = logit(min(max(k / n, 1e-12), 1 - 1e-12))
    begin = logit(start) if start is not None and 0.0 < start < 1.0 else None
    return expit(roots.crossing(excess, outside, inside, start=begin, g_outside=at_outside))


def glr_bounds(k: int, n: int, log_threshold: float) -> tuple[float, float]:
    """The probabilities whose likelihood ratio against ``k`` of ``n`` stays below the
    threshold: inside every mixture's bounds (the ratio at its best bounds any mixture)."""
    return glr_bound(k, n, log_threshold, upper=False), glr_bound(k, n, log_threshold, upper=True)


def glr_bound(k: int, n: int, log_threshold: float, *, upper: bool) -> float:
    """One end of :func:`glr_bounds` (edges as for a rate: 1e-12 and 1 - 1e-9).

    ``n KL(k/n || p)`` is convex in logit(p) (its second derivative is ``n p (1 - p)``),
    so Newton's method finds the end in a few steps, from a little beyond where its
    quadratic approximation at ``k / n`` reaches the threshold when that is rejected
    (convex, so then so is the edge), else from the edge.
    """
    if n == 0 or ((k == n) if upper else (k == 0)):
        return 1.0 if upper else 0.0
    log_low = math.log(k / n) if k else 0.0
    log_high = math.log((n - k) / n) if n - k else 0.0

    def excess(t: float) -> tuple[float, float]:
        value = k * (log_low - log_expit(t)) + (n - k) * (log_high - log_expit(-t))
        return value - log_threshold, n * expit(t) - k

    outside = logit(1 - 1e-9 if upper else 1e-12)
    start = None
    if 0 < k < n and log_threshold > 0:
        reach = 1.5 * math.sqrt(2 * log_threshold * n / (k * (n - k)))
        start = logit(k / n) + (reach if upper else -reach)
        if (start >= outside) if upper else (start <= outside):
            start = None
    found = roots.convex_crossing(excess, outside, start=start)
    if found is None:
        return 1.0 if upper else 0.0
    return expit(found)


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return math.log(p) - math.log1p(-p)


def expit(x: float) -> float:
    """The inverse of :func:`logit`."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def log_expit(x: float) -> float:
    """log(expit(x)), accurate at both ends (log(1 - expit(x)) is ``log_expit(-x)``)."""
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def count_bounds(n: int, p: float, log_threshold: float, concentration: float) -> tuple[int, int]:
    """The counts ``k`` in 0..n with ``log_bb_e(k, n, p) < log_threshold``.

    ``log_bb_e`` is convex in ``k`` with its minimum near ``n*p``, so each side is a
    binary search. When even the minimum is rejected (impossible for a sensible
    threshold) the range collapses to the minimiser.
    """
    if n == 0:
        return 0, 0
    centre = min(max(round(n * p), 0), n)
    prior = _prior(p, concentration)

    def kept(k: int) -> bool:
        return _log_bb(k, n, prior) < log_threshold

    if not kept(centre):
        return centre, centre
    lo, hi = 0, centre  # smallest kept k in [0, centre]
    while lo < hi:
        mid = (lo + hi) // 2
        if kept(mid):
            hi = mid
        else:
            lo = mid + 1
    lowest = lo
    lo, hi = centre, n  # largest kept k in [centre, n]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if kept(mid):
            lo = mid
        else:
            hi = mid - 1
    return lowest, lo


def log_glr(k: int, n: int, p: float) -> float:
    """log of sup_q LR(q) for ``k`` of ``n`` against ``p``: n times KL(k/n || p)."""
    if n == 0:
        return 0.0
    value = 0.0
    if k:
        value += k * math.log(k / (n * p))
    if n - k:
        value += (n - k) * math.log((n - k) / (n * (1.0 - p)))
    return max(value, 0.0)


def log_glr_upper(k: int, n: int, p: float) -> float:
    """log of sup over q >= p of LR(q): bounds :func:`log_bb_e_upper` from above."""
    if n == 0 or k <= n * p:
        return 0.0
    return log_glr(k, n, p)


def normal_mixture_log_e(difference: float, variance: float, tau2: float) -> float:
    """log e-value of the normal-mixture mSPRT: N(0, tau^2) mixture over the true difference.

    ``difference`` is the estimate, ``variance`` its variance (V); the mixture likelihood
    ratio is sqrt(V/(V+tau^2)) * exp(d²tau^2 / (2V(V+tau^2))).
    """
    if variance <= 0:
        return 0.0
    total = variance + tau2
    return 0.5 * math.log(variance / total) + difference**2 * tau2 / (2 * variance * total)


def normal_mixture_radius(variance: float, tau2: float, log_threshold: float) -> float:
    """Half-width of the mSPRT's confidence sequence for the difference."""
    if variance <= 0:
        return math.inf
    total = variance + tau2
    return math.sqrt(variance * total / tau2 * (2 * log_threshold + math.log(total / variance)))


def count_bounds_near(
    n: int,
    p: float,
    log_threshold: float,
    concentration: float,
    guess: tuple[int, int],
) -> tuple[int, int]:
    """:func:`count_bounds`, searched outward from a previous answer (few evaluations)."""
    if n == 0:
        return 0, 0
    centre = min(max(round(n * p), 0), n)
    prior = _prior(p, concentration)

    def kept(k: int) -> bool:
        return _log_bb(k, n, prior) < log_threshold

    if not kept(centre):
        return centre, centre
    low = _gallop(kept, min(max(guess[0], 0), centre), 0, centre, towards_centre=+1)
    high = _gallop(kept, min(max(guess[1], centre), n), n, centre, towards_centre=-1)
    return low, high


def _gallop(
    kept: Callable[[int], bool], start: int, edge: int, centre: int, towards_centre: int
) -> int:
    """The kept count farthest from ``centre`` on the side of ``edge`` (convex set)."""
    outward = -towards_centre
    if kept(start):
        inside, step = start, 1  # move outward until rejected or the edge
        while True:
            probe = inside + outward * step
            if (probe - edge) * outward > 0:
                probe = edge
            if not kept(probe):
                outside = probe
                break
            if probe == edge:
                return edge
            inside, step = probe, step * 2
    else:
        outside, step = start, 1  # move inward until kept (the centre is kept)
        while True:
            probe = outside + towards_centre * step
            if (probe - centre) * towards_centre > 0:
                probe = centre
            if kept(probe):
                inside = probe
                break
            outside, step = probe, step * 2
    while abs(outside - inside) > 1:
        mid = (outside + inside) // 2
        if kept(mid):
            inside = mid
        else:
            outside = mid
    return inside
