"""What a judge is: per-variant observations in, one decision out per observation.

The controller (or the simulator) tells a judge when a canary step begins
(:meth:`Judge.begin_step`) and then feeds it :class:`Observation` s: what each variant
served since the previous observation (request and error counts, a latency histogram,
sums of other metrics). After every observation the judge returns a :class:`Decision`:
keep going, promote the step, roll back, or give up as inconclusive, with the reason,
the metric and the numbers behind it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from gonogo.errors import GonogoError
from gonogo.rollout.analysis.histogram import EMPTY_HISTOGRAM, LatencyHistogram

__all__ = [
    "Action",
    "Basis",
    "Decision",
    "Direction",
    "Finding",
    "Judge",
    "JudgeError",
    "JudgeKind",
    "LatencyHistogram",
    "MetricKind",
    "Moments",
    "Observation",
    "Step",
    "VariantSample",
]


class JudgeError(GonogoError):
    """A judge was given input it cannot use (bad counts, a bad step, a bad setting)."""


class JudgeKind(StrEnum):
    """The built-in judges."""

    SEQUENTIAL = "sequential"
    MANNWHITNEY = "mannwhitney"
    THRESHOLD = "threshold"
    ORACLE = "oracle"


class Action(StrEnum):
    """What the controller should do next."""

    CONTINUE = "continue"
    PROMOTE_STEP = "promote_step"
    ROLLBACK = "rollback"
    INCONCLUSIVE = "inconclusive"


class Basis(StrEnum):
    """Why: the kind of evidence behind a decision."""

    WARMING_UP = "warming_up"
    COLLECTING = "collecting"
    NO_TRAFFIC = "no_traffic"
    REGRESSION = "regression"
    GUARDRAIL = "guardrail"
    NON_INFERIOR = "non_inferior"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    SCORE = "score"
    THRESHOLD = "threshold"
    TRAFFIC_SPLIT = "traffic_split"


class Direction(StrEnum):
    """Which way a metric gets worse."""

    HIGHER_IS_WORSE = "higher_is_worse"
    LOWER_IS_WORSE = "lower_is_worse"


class MetricKind(StrEnum):
    """How a metric is observed and tested."""

    ERRORS = "errors"
    LATENCY = "latency"
    MEAN = "mean"


@dataclass(frozen=True)
class Moments:
    """Sufficient statistics of a numeric metric: count, sum and sum of squares."""

    count: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    @classmethod
    def of(cls, values: Iterable[float]) -> Moments:
        """Moments of some values."""
        count, total, total_sq = 0, 0.0, 0.0
        for value in values:
            count += 1
            total += value
            total_sq += value * value
        return cls(count, total, total_sq)

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.count + other.count, self.total + other.total, self.total_sq + other.total_sq
        )

    def __sub__(self, other: Moments) -> Moments:
        return Moments(
            self.count - other.count, self.total - other.total, self.total_sq - other.total_sq
        )

    @property
    def mean(self) -> float:
        """The mean (NaN when empty)."""
        return self.total / self.count if self.count else math.nan

    @property
    def variance(self) -> float:
        """The sample variance (NaN below two values)."""
        if self.count < 2:
            return math.nan
        return max(0.0, (self.total_sq - self.total * self.total / self.count) / (self.count - 1))


@dataclass(frozen=True)
class VariantSample:
    """What one variant served during one observation interval."""

    requests: int = 0
    errors: int = 0
    latency: LatencyHistogram = EMPTY_HISTOGRAM
    metrics: Mapping[str, Moments] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.requests < 0 or self.errors < 0:
            raise JudgeError(f"negative counts: {self.requests} requests, {self.errors} errors")
        if self.errors > self.requests:
            raise JudgeError(f"{self.errors} errors in only {self.requests} requests")


@dataclass(frozen=True)
class Observation:
    """Both variants' increments over the interval ending at ``at`` (seconds)."""

    at: float
    baseline: VariantSample
    canary: VariantSample


@dataclass(frozen=True)
class Step:
    """One canary step: the canary's traffic share and its dwell limits (seconds)."""

    index: int
    weight: float
    started_at: float
    max_dwell_s: float
    warmup_s: float = 0.0
    min_dwell_s: float = 0.0
    count_lag_s: float = 0.0
    """how long one variant's counts may trail the other's: a metric source that reads
    scraped counters (Prometheus) sees each variant as of its own last scrape"""

    def __post_init__(self) -> None:
        if not 0.0 < self.weight < 1.0:
            raise JudgeError(
                f"step {self.index}: canary weight {self.weight:g} is not between 0 and 1",
                hint="analysis needs both variants to receive traffic",
            )
        if self.max_dwell_s <= 0 or self.min_dwell_s < 0 or self.warmup_s < 0:
            raise JudgeError(f"step {self.index}: dwell and warm-up must be positive")
        if not 0 <= self.count_lag_s < math.inf:
            raise JudgeError(f"step {self.index}: the counts' lag must be a time >= 0")
        if self.min_dwell_s > self.max_dwell_s:
            raise JudgeError(f"step {self.index}: minimum dwell exceeds the maximum")

    def dwell(self, at: float) -> float:
        """Seconds since the step began."""
        return at - self.started_at

    def warming(self, at: float) -> bool:
        """Whether ``at`` falls inside the step's warm-up."""
        return at <= self.started_at + self.warmup_s


@dataclass(frozen=True)
class Finding:
    """One metric's state: estimates, evidence and bounds on the canary's degradation.

    ``lower``/``upper`` bound the degradation (relative: 0.2 means 20% worse than the
    baseline; for errors with an absolute tolerance, see ``detail``).
    """

    metric: str
    kind: MetricKind
    baseline: float | None
    canary: float | None
    e_value: float
    lower: float | None
    upper: float | None
    tolerance: float
    worse: bool
    within_tolerance: bool
    detail: str = ""
    group: str | None = None
    """the group whose e-values the judge averages (None: the metric stands alone)"""

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "metric": self.metric,
            "group": self.group,
            "kind": self.kind.value,
            "baseline": _finite(self.baseline),
            "canary": _finite(self.canary),
            "e_value": _finite(self.e_value),
            "lower": _finite(self.lower),
            "upper": _finite(self.upper),
            "tolerance": self.tolerance,
            "worse": self.worse,
            "within_tolerance": self.within_tolerance,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Decision:
    """A judge's answer to one observation."""

    action: Action
    basis: Basis
    reason: str
    at: float
    metric: str | None = None
    e_value: float | None = None
    threshold: float | None = None
    lower: float | None = None
    upper: float | None = None
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form (infinite numbers become null)."""
        return {
            "action": self.action.value,
            "basis": self.basis.value,
            "reason": self.reason,
            "at": self.at,
            "metric": self.metric,
            "e_value": _finite(self.e_value),
            "threshold": _finite(self.threshold),
            "lower": _finite(self.lower),
            "upper": _finite(self.upper),
            "findings": [f.to_json() for f in self.findings],
        }


def _finite(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


@runtime_checkable
class Judge(Protocol):
    """Turns a stream of observations into decisions. One instance per rollout."""

    name: ClassVar[str]

    def begin_step(self, step: Step) -> None:
        """A new canary step (weight) begins; called before its first observation."""
        ...

    def observe(self, observation: Observation) -> Decision:
        """Take one interval's increments and decide."""
        ...
