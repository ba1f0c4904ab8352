"""The conditional rate-ratio e-process: for counts whose share under the null moves.

The error test and the latency shares weigh the canary's share of some requests (the
failed ones, the ones slower than a threshold) against the share of all requests it got.
With counts read together that share is the canary's weight. A source that reads
scraped counters (Prometheus) sees each variant as of its own last scrape, so in one
observation the canary's counted share of requests may be anything, from 0 (its counter
was not scraped since the last read) to twice its weight and more.

Conditioning on what was counted removes the lag from the question. Take a batch:
``n`` requests were counted, a share ``p`` of them the canary's, and ``k`` of them were
failed (or slow). If both variants fail at the same steady rate, each failed request is
the canary's with probability ``p``, whichever window each variant's counts cover (the
thinning argument of Lindon & Malek, applied per batch). If the canary fails ``theta``
times as often, with probability ``theta p / (theta p + 1 - p)``. The likelihood ratio
of ``theta`` against 1 for ``s`` of the ``k`` being the canary's is

    theta^s / (theta p + 1 - p)^k,

whose expectation under the null is 1 (at most 1 while the canary fails less often, and
for counts drawn without replacement, by Hoeffding's convex-order comparison). Its
product over batches, each with its own ``p``, is a nonnegative martingale for every
``theta``; an average over a fixed grid of ``theta >= 1`` is an e-process for "the canary
fails no more often" (:meth:`OddsEvidence.log_e`). The same product at every ``theta``
gives confidence bounds on the rate ratio (:meth:`OddsEvidence.bounds`): the average over
a grid on both sides of 1, divided by the likelihood at ``theta0``, is an e-process when
the ratio is ``theta0``, so the ratios it keeps below the threshold form a confidence
sequence; the log-likelihood is concave in ``log theta``, so that set is an interval,
found by Newton's method.

A batch is the observations since the last batch, closed once both variants have
counted requests in it: a source that reads every 5 s counters scraped every 15 s
mostly sees one variant move per read (a share of 0 or 1, which says nothing). Where a
batch ends depends on the request counts only, which the argument conditions on.

"Steady" matters: the variants' windows are up to a scrape interval apart, so when a
failure rate both share changes (an incident in a dependency, 20% errors for 30 s), the
variant whose window runs ahead counts it first, which looks like a regression of that
variant. :class:`PairedOdds` weighs the tested variant's batch ``i`` against the other
variant's batches ``i - 1``, ``i`` and ``i + 1`` and takes the smallest of the three
e-values: one pairing has the tested variant's window ahead, another behind, and an
incident's edge favours it in at most one. With scrapes 15 s apart, healthy canaries at
10% through such an incident crossed the judge's threshold in 39 of 200 runs weighed
batch against batch alone, and in none of them with the three pairings
(``tests/rollout/test_odds.py``); the price is time: the smallest of three noisy
e-values crosses later than one (errors doubled from 1% at 10% of 200 rps: a median of
155 s instead of 102 s with scrapes 15 s apart).

Compared with the beta-binomial mixture used for counts read together this needs each
batch's share, so the e-value costs a few dozen logarithms per batch with failures, and
the bounds a few per distinct share; it is used only while counts lag.
"""

from __future__ import annotations

import math

from gonogo.rollout.analysis import roots

#: the mixture's alternatives, as log rate ratios (the odds ratio of the share): 0.05
#: sqrt(2)^i for i = 0..14, ratios from 1.05 to about 640, equally weighted (about
#: log-uniform over the effects a rollout cares about)
LOG_ODDS = tuple(0.05 * 2.0 ** (i / 2) for i in range(15))
#: the search range for the bounds, in log rate ratio (ratios beyond e^30 are unbounded)
_EDGE = 30.0


class OddsEvidence:
    """Evidence from batches that some requests are the tested variant's more often than
    its share of the counted requests says (one pairing of windows; see
    :class:`PairedOdds`)."""

    __slots__ = ("_batches", "_down", "_log_size", "_up", "successes", "trials")

    def __init__(self, *, bounds: bool = False) -> None:
        """``bounds``: keep what :meth:`bounds` needs (the trials per share)."""
        self._up = [0.0] * len(LOG_ODDS)  # log likelihood ratio at each theta above 1
        self._down: list[float] | None = [0.0] * len(LOG_ODDS) if bounds else None
        self._batches: dict[float, int] | None = {} if bounds else None
        self._log_size = math.log(len(LOG_ODDS))
        self.successes = 0
        self.trials = 0

    def add_batch(self, successes: int, trials: int, share: float) -> None:
        """``successes`` of ``trials`` failures were the tested variant's, which had
        ``share`` of the batch's requests (strictly between 0 and 1)."""
        if not trials:
            return
        up, down, batches = self._up, self._down, self._batches
        self.successes += successes
        self.trials += trials
        for index, log_odds in enumerate(LOG_ODDS):
            up[index] += successes * log_odds - trials * math.log1p(share * math.expm1(log_odds))
        if down is not None and batches is not None:
            for index, log_odds in enumerate(LOG_ODDS):
                down[index] += -successes * log_odds - trials * math.log1p(
                    share * math.expm1(-log_odds)
                )
            batches[share] = batches.get(share, 0) + trials

    def log_e(self) -> float:
        """log e-value against "the tested variant fails no more often"."""
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
        """The rate ratios (as logs) an e-value of ``e^log_threshold`` does not reject.

        ``-inf`` or ``inf`` where nothing bounds that end yet.
        """
        down = self._down
        if down is None:
            raise ValueError("this evidence keeps no shares: made without bounds=True")
        # the mixture over both sides of 1 (and 1 itself), against each candidate ratio:
        # kept while the likelihood there is above the mixture's by less than the threshold
        both = [*self._up, *down, 0.0]
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


Batch = tuple[int, int, int, int]
"""the tested variant's failures and requests, then the other variant's"""


class PairedOdds:
    """The evidence of one test while counts lag: three pairings of the variants' batches.

    :meth:`add` takes one observation: the tested variant's failures and requests (the
    canary's, or the baseline's for a metric where lower is worse), then the other's. A
    batch closes once both have requests in it. Each variant's batch ``i`` covers its own
    window, up to a scrape interval off the other's; a failure rate both variants share
    but that changes (an incident in a dependency) is counted first for the variant whose
    window runs ahead, which under one pairing of windows looks like a regression. So the
    tested variant's batch ``i`` is weighed against the other's batch ``i - 1``, ``i`` and
    ``i + 1``, three e-processes (each pairing is fixed by the request counts alone), and
    the evidence is the smallest of the three: whichever way the windows are off, one
    pairing has the tested variant ahead and one has it behind, and an incident's edge
    favours the tested variant in at most one of them. A regression of the tested
    variant shows in all three. Its bounds are the union of the three pairings'.
    """

    __slots__ = ("_pending", "_previous", "closed", "pairings")

    def __init__(self, *, bounds: bool = False) -> None:
        self.pairings = tuple(OddsEvidence(bounds=bounds) for _ in range(3))
        """the other variant's batch one before the tested one's, the same, one after"""
        self._pending: Batch = (0, 0, 0, 0)
        self._previous: Batch | None = None
        self.closed = 0
        """batches closed so far: the evidence changes only when this grows"""

    def add(self, tested_failed: int, tested: int, other_failed: int, other: int) -> None:
        """One observation; it closes the batch once both variants have requests in it."""
        a, b, c, d = self._pending
        batch = (a + tested_failed, b + tested, c + other_failed, d + other)
        if not (batch[1] and batch[3]):
            self._pending = batch
            return
        self._pending = (0, 0, 0, 0)
        self.closed += 1
        earlier, same, later = self.pairings
        _pair(same, batch, batch)
        previous = self._previous
        if previous is not None:
            _pair(earlier, batch, previous)  # the other's previous batch, the tested's this
            _pair(later, previous, batch)  # the tested's previous batch, the other's this
        self._previous = batch

    @property
    def open(self) -> bool:
        """Whether a batch has counts and is not closed yet."""
        return self._pending != (0, 0, 0, 0)

    def restart(self) -> None:
        """Pair no batch so far with the next (what counts as a failure changed): the next
        batch pairs with none before it, and an open batch is dropped. The evidence
        gathered so far stays."""
        self._pending = (0, 0, 0, 0)
        self._previous = None

    def log_e(self) -> float:
        """log e-value against "the tested variant fails no more often": the smallest of
        the three pairings' (a rollback needs all three)."""
        return min(pairing.log_e() for pairing in self.pairings)

    def bounds(self, log_threshold: float) -> tuple[float, float]:
        """The rate ratios (as logs) any pairing keeps: see :meth:`OddsEvidence.bounds`."""
        kept = [pairing.bounds(log_threshold) for pairing in self.pairings]
        return min(low for low, _ in kept), max(high for _, high in kept)


def _pair(evidence: OddsEvidence, tested: Batch, other: Batch) -> None:
    """The tested variant's part of one batch against the other's part of another."""
    tested_failed, tested_requests = tested[0], tested[1]
    other_failed, other_requests = other[2], other[3]
    evidence.add_batch(
        tested_failed,
        tested_failed + other_failed,
        tested_requests / (tested_requests + other_requests),
    )


def _log_mean_exp(values: list[float], log_size: float) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(value - top) for value in values)) - log_size
