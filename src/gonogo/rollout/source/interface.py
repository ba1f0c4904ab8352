"""What a metric source is.

A metric source reports, per variant, *cumulative* totals: requests, errors, a latency
histogram on the analysis bucket layout (:mod:`gonogo.rollout.analysis.histogram`), and
sums of any other metrics. The controller takes a :class:`Snapshot` every analysis
interval and feeds the judge the difference between two snapshots, so a source never has
to know the interval. When a total went down (a restarted process reset its counters,
or a series left a query's sum: a replica restarted or was scaled in), what was served
in between cannot be told: the controller does not count that interval (it is
inconclusive, like an unreadable one) and counts on from the new totals.

A source that cannot be read raises :class:`~gonogo.rollout.errors.SourceError`; the
controller counts it as inconclusive, never as healthy.

A source whose variants' totals are not read at one moment (scraped counters: each
variant as of its own last scrape) says by how much one may trail the other in an
attribute ``lag_s`` (seconds); the judge allows for it (its traffic-split check widens
the shares it accepts, its share tests weigh counted shares instead of the weight). Without
one the totals count as read together (``lag_s = 0``), see :func:`source_lag`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from gonogo.rollout.analysis.interface import VariantSample
from gonogo.rollout.deploy.interface import Backend, Variant

__all__ = ["MetricSource", "Snapshot", "source_lag"]


@dataclass(frozen=True)
class Snapshot:
    """Cumulative per-variant totals at one moment (``at``: seconds, monotonic clock)."""

    at: float
    totals: Mapping[Variant, VariantSample]

    def of(self, variant: Variant) -> VariantSample:
        """One variant's totals (empty when the source has none yet)."""
        return self.totals.get(variant, VariantSample())


@runtime_checkable
class MetricSource(Protocol):
    """Reads cumulative per-variant totals; see the module docstring."""

    name: ClassVar[str]

    def bind(self, baseline: Backend, canary: Backend) -> None:
        """Which versions the variants run now (queries are templated with them)."""
        ...

    def snapshot(self) -> Snapshot:
        """Cumulative totals now; raises SourceError when the source cannot be read."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def source_lag(source: object) -> float:
    """How long one variant's totals may trail the other's in ``source`` (0: read together)."""
    lag = getattr(source, "lag_s", 0.0)
    if isinstance(lag, bool) or not isinstance(lag, int | float) or not 0 <= lag < math.inf:
        return 0.0
    return float(lag)
