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

from bisect import insort


class CountLag:
    """The step's counted time and its lag; :meth:`band` widens shares by what it explains."""

    __slots__ = ("at", "lag", "since", "surge")

    def __init__(self) -> None:
        self.lag = 0.0
        self.since = 0.0  # when the step's counting began
        self.at = 0.0  # the last counted observation
        self.surge = 1.0
        """how many times the typical traffic the requests at the counts' edges ran at
        (see :class:`Surge`): the lag is worth that many times its seconds"""

    def begin(self, started_at: float, lag_s: float) -> None:
        """A new step: counting begins at its start."""
        self.lag = lag_s
        self.since = self.at = started_at
        self.surge = 1.0

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
        counted, lag = self.at - self.since, self.lag * self.surge
        if counted <= lag:
            return 0.0, 1.0  # the lag explains any split yet
        short, long = counted - lag, counted + lag
        return (
            low * short / (low * short + (1 - low) * long),
            high * long / (high * long + (1 - high) * short),
        )


class Surge:
    """How much busier than usual the traffic was where the variants' counts may differ.

    The band assumes steady traffic: ``L`` seconds of lag are worth ``L`` seconds of the
    step's average traffic. A surge (ten times the traffic for half a minute) that one
    variant's counter has caught and the other's not yet is worth ten times that, and
    would read as a wrong split. The counts may differ only at their edges: before the
    step's first scrape of each variant, and since the last. So each variant's first two
    and latest two increments that moved, each over its share of the traffic, are set
    against the median of all of them (a typical scrape's worth of traffic), and the lag
    counts as that many times longer while they are larger. Once both counters are past
    a surge it drops out of the latest increments and the band narrows again.
    """

    __slots__ = ("_edges", "_volumes")

    def __init__(self) -> None:
        self._volumes: list[float] = []  # every increment that moved, over its share, sorted
        self._edges: tuple[list[float], list[float]] = ([], [])  # per variant: first 2, last 2

    def add(self, baseline: int, canary: int, weight: float) -> float:
        """One observation's requests; the factor the lag's seconds are worth now."""
        for edges, count, share in (
            (self._edges[0], baseline, 1.0 - weight),
            (self._edges[1], canary, weight),
        ):
            if count:
                volume = count / share
                insort(self._volumes, volume)
                if len(edges) < 4:
                    edges.append(volume)
                else:
                    edges[2:] = [edges[3], volume]
        if not self._volumes:
            return 1.0
        typical = self._volumes[len(self._volumes) // 2]
        return max(1.0, max(max(edges, default=0.0) for edges in self._edges) / typical)
