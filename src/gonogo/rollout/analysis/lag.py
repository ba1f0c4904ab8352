"""Counts that lag: how far a step's counted shares may stray from the weight.

A metric source that reads scraped counters (Prometheus) sees each variant as of its own
last scrape, so one variant's count may trail the other's by up to ``L`` seconds, the
scrape interval (:attr:`~gonogo.rollout.analysis.interface.Step.count_lag_s`). A step's
counts run from its first read to its last, so after ``T`` counted seconds each variant's
count covers between ``T - L`` and ``T + L`` seconds of its traffic, and a share ``w`` of
the requests can be counted as anything from ``w (T - L) / (w (T - L) + (1 - w)(T + L))``
to ``w (T + L) / (w (T + L) + (1 - w)(T - L))``: every share while ``T <= L``. The
traffic-split check (:mod:`~gonogo.rollout.analysis.srm`) takes the end of that band
least favourable to its verdict, so a lag cannot flag a split that matches the weight;
the band narrows as the step goes on; a surge of traffic at the counts' edges widens it
(:class:`Surge`). Counts read together (``L = 0``) keep the weight itself. The error
and latency tests need no band: while counts lag they weigh each batch against the share
counted in it (:mod:`~gonogo.rollout.analysis.odds`).
"""

from __future__ import annotations

import math


class CountLag:
    """The step's counted time and its lag; :meth:`band` widens shares by what it explains."""

    __slots__ = ("at", "end", "lag", "since", "start")

    def __init__(self) -> None:
        self.lag = 0.0
        self.since = 0.0  # when the step's counting began
        self.at = 0.0  # the last counted observation
        self.start = self.end = 1.0
        """how many times the step's average traffic ran at the start and at the end of
        the counts (see :class:`Surge`): the lag there is worth that many times its
        seconds"""

    def begin(self, started_at: float, lag_s: float) -> None:
        """A new step: counting begins at its start."""
        self.lag = lag_s
        self.since = self.at = started_at
        self.start = self.end = 1.0

    def skip(self, at: float) -> None:
        """An observation not counted (a warm-up): counting begins after it."""
        self.since = self.at = at

    def seen(self, at: float) -> None:
        """An observation counted at ``at``."""
        self.at = at

    @property
    def moment(self) -> float:
        """What a cached share test keys on besides its counts: the last count's time
        while counts lag (the band narrows with it), else nothing that changes."""
        return self.at if self.lag > 0 else 0.0

    def band(self, low: float, high: float) -> tuple[float, float]:
        """The counted shares true shares in ``[low, high]`` can show, given the lag."""
        if self.lag <= 0:
            return low, high
        counted = self.at - self.since
        # a count may lack up to the lag's worth of traffic at the end, or hold up to that
        # much from before the start, each at the traffic there
        short, long = counted - self.lag * self.end, counted + self.lag * self.start
        if short <= 0:
            return 0.0, 1.0  # the lag explains any split yet
        return (
            low * short / (low * short + (1 - low) * long),
            high * long / (high * long + (1 - high) * short),
        )


class Surge:
    """How much busier than the step's average the traffic was at the counts' edges.

    The band assumes steady traffic: ``L`` seconds of lag are worth ``L`` seconds of the
    step's average traffic. A surge (ten times the traffic for half a minute) that one
    variant's counter has caught and the other's not yet is worth ten times that, and
    would read as a wrong split. A count differs from the other variant's only at its
    edges: what it holds from before the step's first read (up to ``L`` seconds) and
    what it lacks since its last scrape (up to ``L`` seconds). So each variant's request
    rate at the end is measured over the span of its latest two increments that moved
    (or of the last alone, when that is a burst: more than :data:`BURST` times the
    average), and at the start by its first increment when that is a burst (it holds
    traffic from before the step too, so its rate reads high), each against the
    variant's own average rate over the step (so a wrong split, which changes both
    alike, does not widen the band that should show it); the larger variant's ratio (at
    least 1) scales the lag at that edge. A surge at the end drops out once both
    counters are past it; one at the start stays in both counts, and so in the band,
    though less of it as the step goes on.
    """

    __slots__ = ("_first", "_latest", "_requests")

    def __init__(self) -> None:
        self._first: tuple[list[tuple[float, int]], ...] = ([], [])  # (read, requests)
        self._latest: tuple[list[tuple[float, int]], ...] = ([], [])  # the last three
        self._requests = [0, 0]  # each variant's counted requests in the step

    def add(self, at: float, since: float, baseline: int, canary: int) -> tuple[float, float]:
        """One observation read at ``at`` (counting began at ``since``); the start and
        end factors."""
        for variant, count in enumerate((baseline, canary)):
            if count:
                self._requests[variant] += count
                if not self._first[variant]:
                    self._first[variant].append((at, count))
                self._latest[variant][:] = [*self._latest[variant][-2:], (at, count)]
        if at <= since:
            return 1.0, 1.0
        start = end = 1.0
        for requests, first, latest in zip(self._requests, self._first, self._latest, strict=True):
            if not requests:
                continue
            average = requests / (at - since)
            # the first increment also holds traffic from before the step's first read, so
            # its rate looks high by up to the lag's worth: only a burst counts there
            start = max(start, _edge(first[:1], since, 0.0, average))
            reads = [since, since, *(read for read, _ in latest)][-3:]
            end = max(end, _edge(latest[-1:], reads[1], _rate(latest[-2:], reads[0]), average))
        return start, end


#: how many times its variant's average rate one increment's own rate must reach to count
#: as a burst: an increment holds whole scrapes over the time between reads, so a steady
#: rate read off one alone is off by less than this (one scrape or two in a read)
BURST = 2.0


def _edge(
    alone: list[tuple[float, int]], since: float, with_neighbour: float, average: float
) -> float:
    """An edge's rate against the average: over its increment and the next one in, or
    over its increment ``alone`` when that is a burst (the two would halve a burst in
    one): at least :data:`BURST` times the average, and by more than three Poisson
    standard deviations (few requests vary more)."""
    rate = _rate(alone, since)
    expected = average * (alone[-1][0] - since) if alone else 0.0
    burst = rate >= BURST * average and alone[-1][1] - expected > 3.0 * math.sqrt(expected)
    return max(with_neighbour, rate if burst else 0.0) / average


def _rate(moves: list[tuple[float, int]], since: float) -> float:
    """The requests of ``moves`` over the time from ``since`` to the last of them."""
    span = moves[-1][0] - since if moves else 0.0
    return sum(count for _, count in moves) / span if span > 0 else 0.0
