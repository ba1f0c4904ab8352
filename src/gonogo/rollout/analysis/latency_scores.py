"""Rank-score evidence for latency: the canary's share, tilted by how slow each request is.

The shares test (:mod:`~gonogo.rollout.analysis.latency_shares`) reads one bit per
request: above or below the baseline's ``p``-quantile. This test reads where in the
baseline's distribution each request falls. The baseline's quantiles :data:`EDGES`,
estimated from *earlier* observations, cut the latency axis into :data:`BINS` bins,
finer towards both tails (down to p0.1 and p99.9); a request in bin ``j`` gets the score
``s_j``, a function of the baseline's normal score ``z_j`` there. Each request goes to
the canary with probability ``w``, so for every ``lambda >= 0``

    Z(lambda) = exp(lambda * s * L) / (1 - w + w * exp(lambda * s))      (L = 1: canary)

has, given the past, expectation

    1 + w * sum_j (P_c(j) - P_b(j)) * h(s_j),      h(s) = e^(lambda s) / (1 - w + w e^(lambda s)),

over a request's variant and bin. ``h`` grows with ``s`` and every score here never
decreases from the fastest bin to the slowest, so the sum is at most 0 whenever the
canary is no slower than the baseline (stochastically: no more often above any latency),
and exactly 0 when both share one law. The product over requests is the likelihood ratio
of a model in which the canary's share grows with the score, and the average over the
grid :data:`LAMBDAS` is an e-process (Ville's inequality; the exponential-tilting
construction of Waudby-Smith & Ramdas for bounded scores, applied to the canary's share
as Lindon & Malek do for errors). Only the counts per bin are kept: they are filled in
the shares' pass over an observation's buckets, and an e-value is a few hundred
multiply-adds.

Two scores: :attr:`Score.LOCATION` (``z``, saturating at the baseline's p0.5 and p99.5:
a whole distribution moved) and :attr:`Score.UPPER` (a small negative constant up to the
baseline's p84, ``z^2 - 1.2`` above it: a stretched upper tail). Each is the shape of
the log-likelihood ratio of a lognormal law shifted or stretched upwards; a stretch's is
``a z^2 - b``, below zero up to p86-p89 for stretches of x1.2-x1.5, and symmetric,
but the fast half is held constant so that a canary whose fast requests got faster
still is no evidence. A level's e-value mixes these with the shares at its threshold by
the fixed weights :data:`MIX`.

Measured on the benchmark (docs/rollout-analysis.md, 60 seeded runs, default metrics),
against the design before it (edges p1-p99, the upper score ``z^2 - 0.5`` from the
median, lambda 0.1-3.2, each level half shares and half its own score): the tail-only
shift (sigma 0.5 -> 0.7) is caught after 18.1 s instead of 21.3 s (3.7x the oracle
instead of 4.3x; the far-tail bins give about 1.7 s, the upper score from p84 0.8 s),
the median shift at 5 rps with a 50% canary after 106 s instead of 118 s (the location
score in the tail levels gives 8 s of it, and costs the tail-only shift 0.5 s), at 200
rps after 16.5 s instead of 17.8 s; the CPU per request did not measurably change.
Against the shares alone the scores detect a median shift about 1.4x and a tail-only
shift about 1.2x sooner. As with the shares, the canary's share changes with the
weight, so a fresh e-process starts at each step.
"""

from __future__ import annotations

import math
from enum import Enum
from operator import mul
from statistics import NormalDist

from gonogo.rollout.analysis.histogram import BucketCounts

#: the baseline quantiles the latency axis is cut at: finer towards both tails, where
#: a stretched distribution shows first (down to one request in a thousand)
_TAIL = (0.001, 0.005, 0.01, 0.025, 0.05)
EDGES = (*_TAIL, *(k / 10 for k in range(1, 10)), *(1 - p for p in reversed(_TAIL)))
BINS = len(EDGES) + 1
#: the tilts mixed over (the scores lie in [-1, 1]): for the location score, lambda 0.25
#: fits a median shift of about x1.05 and 2.5 one of x2; for the upper-tail score, 1-4
#: fit a stretched lognormal's sigma x1.1 to x2
LAMBDAS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: the e-values are computed afresh once the step's counted requests grew by this fraction
REFRESH = 0.01

_MIDS = tuple((lo + hi) / 2 for lo, hi in zip((0.0, *EDGES), (*EDGES, 1.0), strict=True))
_Z = tuple(NormalDist().inv_cdf(mid) for mid in _MIDS)
#: the location score reaches +-1 at the normal score of the baseline's p99.5 (p0.5)
_Z_LOCATION = NormalDist().inv_cdf(0.995)
#: the upper-tail score is a constant below the normal score UPPER_FLOOR (the baseline's
#: p84), and above it grows with z^2 - UPPER_OFFSET, crossing zero at about p86
UPPER_FLOOR = 1.0
UPPER_OFFSET = 1.2
_UPPER_TOP = _Z[-1] ** 2 - UPPER_OFFSET


class Score(Enum):
    """Which departure a score looks for."""

    LOCATION = "location"
    UPPER = "upper"


def scores(kind: Score, higher_worse: bool) -> tuple[float, ...]:
    """Each bin's score, from the fastest bin to the slowest, in [-1, 1]; never decreasing
    from the better end to the worse one (what keeps a faster canary from building
    evidence)."""
    z = _Z if higher_worse else tuple(-v for v in _Z)
    if kind is Score.LOCATION:
        return tuple(max(-1.0, min(1.0, v / _Z_LOCATION)) for v in z)
    return tuple((max(v, UPPER_FLOOR) ** 2 - UPPER_OFFSET) / _UPPER_TOP for v in z)


def score_for(level: float) -> Score:
    """The score behind a quantile level: the body's location, or the upper tail."""
    return Score.UPPER if level >= 0.9 else Score.LOCATION


#: the rank scores in a level's e-value and their weights, fixed in advance; the shares
#: at the level's threshold get the rest. A level from p90 reads the upper tail first and
#: the location too (a shifted distribution moves its tail quantiles as well); over the
#: default p50/p95/p99 group that is location 1/2, upper tail 1/3, shares 1/6
MIX: dict[Score, tuple[tuple[Score, float], ...]] = {
    Score.LOCATION: ((Score.LOCATION, 0.75),),
    Score.UPPER: ((Score.UPPER, 0.5), (Score.LOCATION, 0.375)),
}


class ScoreBins:
    """This step's requests per baseline-probability bin, and the tilted e-values from them.

    :class:`~gonogo.rollout.analysis.latency_shares.SharesTracker` fills the counts in
    the same pass over an observation's buckets as the shares; an e-value is computed
    when asked for (a few hundred multiply-adds) and kept until the counts change.
    """

    def __init__(self) -> None:
        self.cuts: list[int] = []
        self.all = [0] * BINS
        self.canary = [0] * BINS
        self.version = 0  # changes once the counts grew by REFRESH since it last did
        self._counted = 0  # requests counted this step
        self._at_version = 0  # ... when the version last changed
        self._weight: float | None = None
        #: per score: the bins' scores s_j, and each lambda with its log normalisers
        self._terms: dict[
            tuple[Score, bool], tuple[tuple[float, ...], list[tuple[float, list[float]]]]
        ] = {}
        self._cache: dict[tuple[Score, bool], tuple[int, float]] = {}

    def place(self, reference: BucketCounts) -> None:
        """Cut at the reference's quantiles :data:`EDGES` (earlier data only)."""
        total = reference.total
        self.cuts = reference.find_many([max(1, math.ceil(edge * total)) for edge in EDGES])

    def counted(self, requests: int) -> None:
        """``requests`` more were added to the bins; the e-values are refreshed once they
        grew by :data:`REFRESH` (an e-process looked at a little late is still one)."""
        self._counted += requests
        if self._counted > self._at_version * (1 + REFRESH):
            self._at_version = self._counted
            self.version += 1

    def begin_step(self, weight: float) -> None:
        """A new weight: fresh counts, and the tilts' normalisers for it."""
        self._weight = weight
        self.all = [0] * BINS
        self.canary = [0] * BINS
        self._counted = self._at_version = 0
        self.version += 1
        self._terms = {}
        self._cache = {}

    def log_e_step(self, kind: Score, higher_worse: bool) -> float:
        """log e-value of this step for one score (0 before any request is counted)."""
        w = self._weight
        if w is None:
            return 0.0
        key = (kind, higher_worse)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        terms = self._terms.get(key)
        if terms is None:
            s = scores(kind, higher_worse)
            terms = self._terms[key] = (
                s,
                [(lam, [math.log1p(w * math.expm1(lam * v)) for v in s]) for lam in LAMBDAS],
            )
        every = self.all
        score, norms = terms
        tilt = sum(map(mul, score, self.canary))  # the canary's summed score, times lambda
        logs: list[float] = [lam * tilt - sum(map(mul, norm, every)) for lam, norm in norms]
        top = max(logs)
        value = top + math.log(sum(math.exp(v - top) for v in logs) / len(logs))
        self._cache[key] = (self.version, value)
        return value
