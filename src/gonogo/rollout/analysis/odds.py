"""The conditional odds-ratio e-process: for counts whose share under the null moves.

The error test and the latency shares weigh the canary's share of some requests (the
failed ones, the ones slower than a threshold) against the share of all requests it got.
With counts read together that share is the canary's weight. A source that reads
scraped counters (Prometheus) sees each variant as of its own last scrape, so in one
observation the canary's counted share of requests may be anything, from 0 (its counter
was not scraped since the last read) to twice its weight and more.

Conditioning on what was counted removes the lag from the question. Take a batch of
observations: ``n`` requests were counted, a share ``p`` of them the canary's, and ``k``
of them were failed (or slow). If both variants fail at the same rate, each failed
request is the canary's with probability ``p``, whichever window each variant's counts
cover (the thinning argument of Lindon & Malek, applied per observation). If the canary
fails ``theta`` times as often, with probability ``theta p / (theta p + 1 - p)``. The
likelihood ratio of ``theta`` against 1 for ``s`` of the ``k`` being the canary's is

    theta^s / (theta p + 1 - p)^k,

whose expectation under the null is 1 (at most 1 while the canary fails less often, and
for counts drawn without replacement, by Hoeffding's convex-order comparison). Its
product over batches, each with its own ``p``, is a nonnegative martingale for every
``theta``; an average over a fixed grid of ``theta >= 1`` is an e-process for "the canary
fails no more often" (:meth:`OddsEvidence.log_e`).

A batch is the observations since the last batch, closed once both variants have
counted requests in it: a source that reads every 5 s counters scraped every 15 s
mostly sees one variant move per read (a share of 0 or 1, which says nothing). Where a
batch ends depends on the request counts only, which the argument conditions on.

The same product at every ``theta`` gives confidence bounds on the rate ratio
(:meth:`OddsEvidence.bounds`): the average over a grid on both sides of 1, divided by the
likelihood at ``theta0``, is an e-process when the ratio is ``theta0``, so the ratios it
keeps below the threshold form a confidence sequence. The log-likelihood is concave in
``log theta``, so that set is an interval found by Newton's method.

Compared with the beta-binomial mixture used for counts read together this needs each
batch's share, so the e-value costs a few logarithms per batch with failures, and the
bounds one per distinct share; it is used only while counts lag.
"""

from __future__ import annotations

import math

from gonogo.rollout.analysis import roots

#: the mixture's alternatives, as log odds ratios: 0.05 sqrt(2)^i for i = 0..14, odds
#: ratios from 1.05 to about 640, equally weighted (about log-uniform over the effects a
#: rollout cares about, as the beta-binomial mixtures' two concentrations are)
LOG_ODDS = tuple(0.05 * 2.0 ** (i / 2) for i in range(15))
#: the search range for the bounds, in log odds ratio (ratios beyond e^30 are unbounded)
_EDGE = 30.0


class OddsEvidence:
    """Evidence that some requests are the canary's more often than its counted share says.

    :meth:`add` takes one observation's ``successes`` (the canary's failed requests)
    among ``trials`` (all failed requests), and the canary's and all requests counted.
    """

    __slots__ = (
        "_batches",
        "_down",
        "_log_size",
        "_pending",
        "_up",
        "closed",
        "successes",
        "trials",
    )

    def __init__(self, *, bounds: bool = False) -> None:
        """``bounds``: keep what :meth:`bounds` needs (the trials per share)."""
        self._up = [0.0] * len(LOG_ODDS)  # log likelihood ratio at each theta above 1
        self._down: list[float] | None = [0.0] * len(LOG_ODDS) if bounds else None
        self._batches: dict[float, int] | None = {} if bounds else None
        self._log_size = math.log(len(LOG_ODDS))
        self._pending = (0, 0, 0, 0)  # the open batch: successes, trials, canary, requests
        self.closed = 0
        """batches closed so far: the evidence changes only when this grows"""
        self.successes = 0
        self.trials = 0

    def add(self, successes: int, trials: int, canary: int, requests: int) -> None:
        """One observation; it closes the batch once both variants have requests in it."""
        s, k, c, n = self._pending
        s, k, c, n = s + successes, k + trials, c + canary, n + requests
        if not 0 < c < n:
            self._pending = (s, k, c, n)
            return
        self._pending = (0, 0, 0, 0)
        self.closed += 1
        if k:
            self._batch(s, k, c / n)

    def _batch(self, successes: int, trials: int, share: float) -> None:
        self.successes += successes
        self.trials += trials
        up = self._up
        for index, log_odds in enumerate(LOG_ODDS):
            up[index] += successes * log_odds - trials * math.log1p(share * math.expm1(log_odds))
        down, batches = self._down, self._batches
        if down is not None and batches is not None:
            for index, log_odds in enumerate(LOG_ODDS):
                down[index] += -successes * log_odds - trials * math.log1p(
                    share * math.expm1(-log_odds)
                )
            batches[share] = batches.get(share, 0) + trials

    def log_e(self) -> float:
        """log e-value against "the canary's odds ratio is at most 1"."""
        return _log_mean_exp(self._up, self._log_size)

    def log_likelihood(self, log_odds: float) -> tuple[float, float]:
        """The log likelihood ratio of ``e^log_odds`` against 1, and its derivative."""
        if self._batches is None:
            raise ValueError("this evidence keeps no shares: made without bounds=True")
        value = self.successes * log_odds
        slope = float(self.successes)
        ratio = math.exp(log_odds)
        for share, trials in self._batches.items():
            value -= trials * math.log1p(share * (ratio - 1.0))
            slope -= trials * share * ratio / (share * ratio + 1.0 - share)
        return value, slope

    def bounds(self, log_threshold: float) -> tuple[float, float]:
        """The odds ratios an e-value of ``e^log_threshold`` does not reject, as log odds.

        ``-inf`` or ``inf`` where nothing bounds that end yet.
        """
        if self._down is None:
            raise ValueError("this evidence keeps no shares: made without bounds=True")
        # the mixture over both sides of 1 (and 1 itself), against each candidate ratio:
        # kept while the likelihood there is above the mixture's by less than the threshold
        both = [*self._up, *self._down, 0.0]
        floor = _log_mean_exp(both, math.log(len(both))) - log_threshold

        def excess(log_odds: float) -> tuple[float, float]:
            value, slope = self.log_likelihood(log_odds)
            return floor - value, -slope  # convex: the likelihood is concave in log odds

        upper = roots.convex_crossing(excess, _EDGE)
        lower = roots.convex_crossing(excess, -_EDGE)
        return (
            -math.inf if lower is None else lower,
            math.inf if upper is None else upper,
        )


def _log_mean_exp(values: list[float], log_size: float) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(value - top) for value in values)) - log_size
