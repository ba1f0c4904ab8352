"""Hard guardrails: absolute limits on the canary that trip at once, warm-up or not.

A guardrail watches one canary metric over a sliding window (default the last 60 s)
and trips as soon as the windowed value crosses its limit, e.g. error rate above 5%
or p99 latency above 2000 ms. Unlike the comparative tests, it needs no baseline and
no evidence threshold: it is the team's absolute "never serve worse than this".
``min_requests`` keeps one unlucky request from tripping it.

Metric names: ``error_rate`` (a fraction), ``latency_pNN`` (milliseconds, e.g.
``latency_p99``; ``latency_p99.9`` works too), or the name of a numeric metric the
observations carry (its windowed mean).
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass

from gonogo.rollout.analysis.histogram import BucketCounts, representative
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    JudgeError,
    Moments,
    Observation,
    VariantSample,
)

_LATENCY = re.compile(r"^latency_p(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Guardrail:
    """An absolute limit on one canary metric over a sliding window."""

    metric: str
    max: float | None = None
    min: float | None = None
    window_s: float = 60.0
    min_requests: int = 20

    def __post_init__(self) -> None:
        if self.max is None and self.min is None:
            raise JudgeError(f"guardrail {self.metric!r} has neither max nor min")
        if self.window_s <= 0 or self.min_requests < 1:
            raise JudgeError(f"guardrail {self.metric!r}: window_s and min_requests must be > 0")
        match = _LATENCY.match(self.metric)
        if match and not 0 < float(match.group(1)) < 100:
            raise JudgeError(f"guardrail {self.metric!r}: the percentile must be in (0, 100)")

    def describe(self) -> str:
        """Human form, e.g. ``latency_p99 <= 2000``."""
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return f"{self.metric} {' and '.join(parts)}"


class GuardrailMonitor:
    """Evaluates guardrails over a sliding window of canary observations."""

    def __init__(self, guardrails: tuple[Guardrail, ...]) -> None:
        self._guardrails = guardrails
        self._per_guardrail: list[GuardrailWindow] = [GuardrailWindow(g) for g in guardrails]

    def observe(self, observation: Observation) -> Decision | None:
        """Add the canary's increment; a ROLLBACK decision when a guardrail trips."""
        if not self._guardrails:
            return None
        for window in self._per_guardrail:
            window.push(observation.at, observation.canary)
        for window in self._per_guardrail:
            tripped = window.check(observation.at)
            if tripped is not None:
                return tripped
        return None


class GuardrailWindow:
    """One guardrail's sliding window: running sums plus a BucketCounts tree for quantiles."""

    def __init__(self, guardrail: Guardrail) -> None:
        self.guardrail = guardrail
        self.entries: deque[tuple[float, VariantSample]] = deque()
        self.requests = 0
        self.errors = 0
        self.moments = Moments()
        match = _LATENCY.match(guardrail.metric)
        self.quantile = float(match.group(1)) / 100 if match else None
        self.tree = BucketCounts() if self.quantile is not None else None

    def push(self, at: float, sample: VariantSample) -> None:
        self.entries.append((at, sample))
        self._apply(sample, 1)
        horizon = at - self.guardrail.window_s
        while self.entries and self.entries[0][0] <= horizon:
            _, old = self.entries.popleft()
            self._apply(old, -1)

    def _apply(self, sample: VariantSample, sign: int) -> None:
        self.requests += sign * sample.requests
        self.errors += sign * sample.errors
        if self.tree is not None:
            self.tree.add_histogram(sample.latency, sign)
        moments = sample.metrics.get(self.guardrail.metric)
        if moments is not None:
            self.moments = self.moments + moments if sign > 0 else self.moments - moments

    def value(self) -> tuple[float | None, int]:
        """The windowed value and how many requests or samples it rests on."""
        if self.guardrail.metric == "error_rate":
            if self.requests == 0:
                return None, 0
            return self.errors / self.requests, self.requests
        if self.tree is not None and self.quantile is not None:
            total = self.tree.total
            if total == 0:
                return None, 0
            rank = max(1, math.ceil(self.quantile * total))
            return representative(self.tree.find(rank)), total
        if self.moments.count == 0:
            return None, 0
        return self.moments.mean, self.moments.count

    def check(self, at: float) -> Decision | None:
        value, support = self.value()
        guardrail = self.guardrail
        if value is None or support < guardrail.min_requests:
            return None
        broken = (guardrail.max is not None and value > guardrail.max) or (
            guardrail.min is not None and value < guardrail.min
        )
        if not broken:
            return None
        limit = guardrail.max if guardrail.max is not None and value > guardrail.max else None
        limit = guardrail.min if limit is None else limit
        return Decision(
            action=Action.ROLLBACK,
            basis=Basis.GUARDRAIL,
            reason=(
                f"guardrail {guardrail.describe()} broken: canary {guardrail.metric} "
                f"{value:.4g} over the last {guardrail.window_s:g} s ({support} requests)"
            ),
            at=at,
            metric=guardrail.metric,
            threshold=limit,
            lower=value,
            upper=value,
        )
