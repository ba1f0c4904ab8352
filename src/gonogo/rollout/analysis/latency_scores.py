"""Rank-score evidence for latency: the canary's share, tilted by how slow each request is.

The shares test (:mod:`~gonogo.rollout.analysis.latency_shares`) reads one bit per
request: above or below the baseline's ``p``-quantile. This test reads where in the
baseline's distribution each request falls. The baseline's quantiles :data:`EDGES`,
estimated from *earlier* observations, cut the latency axis into :data:`BINS` bins,
finer towards both tails; a request in bin ``j`` gets the score ``s_j``, a function of
the baseline's normal score ``z_j`` there. Each request goes to the canary with
probability ``w``, so for every ``lambda``

    Z(lambda) = exp(lambda * s * L) / (1 - w + w * exp(lambda * s))      (L = 1: canary)

has expectation at most 1 given the score whenever the canary is no more frequent than
``w`` where ``s > 0`` and no less frequent where ``s < 0``: when both variants share one
latency law, and when the canary is faster (in the likelihood-ratio sense). The product
over requests is the likelihood ratio of a model in which the canary's share grows with
the score, and the average over a grid of ``lambda`` (:data:`LAMBDAS`) is an e-process
(Ville's inequality; the exponential-tilting construction of Waudby-Smith & Ramdas for
bounded scores, applied to the conditional share as Lindon & Malek do for errors). Only
the counts per bin are kept: they are filled in the shares' pass over an observation's
buckets, and an e-value is a few hundred multiply-adds.

Two scores: :attr:`Score.LOCATION` (``z`` itself: a whole distribution moved, behind
the levels below p90, the p50 metric's) and :attr:`Score.UPPER` (``z^2`` above the
median, a small constant below it: a stretched upper tail, behind p90 and above). Each
is the shape of the likelihood ratio of a lognormal law shifted or stretched upwards. A
level's e-value is the average of this and the shares'; on the benchmark the average
detects a median shift about 1.4x and a tail-only shift about 1.2x sooner than the
shares alone (docs/rollout-analysis.md). As with the shares, the canary's share changes
with the weight, so a fresh e-process starts at each step.
"""

from __future__ import annotations

import math
from enum import Enum
from operator import mul
from statistics import NormalDist

from gonogo.rollout.analysis.histogram import BucketCounts

#: the baseline quantiles the latency axis is cut at: finer towards both tails, where
#: a stretched distribution shows first
EDGES = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99)
BINS = len(EDGES) + 1
#: the tilts mixed over (the scores lie in [-1, 1])
LAMBDAS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
#: the e-values are computed afresh once the step's counted requests grew by this fraction
REFRESH = 0.01

_MIDS = tuple((lo + hi) / 2 for lo, hi in zip((0.0, *EDGES), (*EDGES, 1.0), strict=True))
_Z = tuple(NormalDist().inv_cdf(mid) for mid in _MIDS)
_Z_MAX = _Z[-1]


class Score(Enum):
    """Which departure a score looks for."""

    LOCATION = "location"
    UPPER = "upper"


def scores(kind: Score, higher_worse: bool) -> tuple[float, ...]:
    """Each bin's score, from the fastest bin to the slowest, in [-1, 1]."""
    z = _Z if higher_worse else tuple(-v for v in _Z)
    if kind is Score.LOCATION:
        return tuple(v / _Z_MAX for v in z)
    return tuple((max(v, 0.0) ** 2 - 0.5) / _Z_MAX**2 for v in z)


def score_for(level: float) -> Score:
    """The score behind a quantile level: the body's location, or the upper tail."""
    return Score.UPPER if level >= 0.9 else Score.LOCATION


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
