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
the band narrows as the step goes on. Counts read together (``L = 0``) keep the weight
itself. The error and latency tests need no band: while counts lag they weigh each batch
against the share counted in it (:mod:`~gonogo.rollout.analysis.odds`).
"""

from __future__ import annotations


class CountLag:
    """The step's counted time and its lag; :meth:`band` widens shares by what it explains."""

    __slots__ = ("at", "lag", "since")

    def __init__(self) -> None:
        self.lag = 0.0
        self.since = 0.0  # when the step's counting began
        self.at = 0.0  # the last counted observation

    def begin(self, started_at: float, lag_s: float) -> None:
        """A new step: counting begins at its start."""
        self.lag = lag_s
        self.since = self.at = started_at

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
        if counted <= self.lag:
            return 0.0, 1.0  # the lag explains any split yet
        short, long = counted - self.lag, counted + self.lag
        return (
            low * short / (low * short + (1 - low) * long),
            high * long / (high * long + (1 - high) * short),
        )
