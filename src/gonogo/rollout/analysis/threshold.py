"""Argo Rollouts / Flagger-style analysis: absolute checks on the canary, a failure limit.

Every ``interval_s`` the judge takes one *measurement* per check over that interval's
canary traffic (error rate, a latency quantile, a metric's mean) and compares it with
the check's limit. A measurement with no data is inconclusive. The analysis fails
(roll back) once more than ``failure_limit`` measurements have failed, and becomes
inconclusive once more than ``inconclusive_limit`` were inconclusive (Argo's
``failureLimit`` / ``inconclusiveLimit``; Flagger's ``threshold``). A step that reaches
its maximum dwell without failing is promoted: the fixed-horizon pass these tools give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from gonogo.rollout.analysis.guardrails import Guardrail, GuardrailWindow
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    JudgeError,
    Observation,
    Step,
)


@dataclass(frozen=True)
class ThresholdConfig:
    """Checks (reusing the guardrail form), the interval and the limits."""

    checks: tuple[Guardrail, ...] = field(
        default_factory=lambda: (
            Guardrail("error_rate", max=0.01, window_s=60.0, min_requests=1),
            Guardrail("latency_p99", max=500.0, window_s=60.0, min_requests=1),
        )
    )
    interval_s: float = 60.0
    failure_limit: int = 1
    inconclusive_limit: int | None = None

    def __post_init__(self) -> None:
        if not self.checks:
            raise JudgeError("the threshold judge needs at least one check")
        if self.interval_s <= 0 or self.failure_limit < 0:
            raise JudgeError("interval_s must be > 0 and failure_limit >= 0")


class ThresholdJudge:
    """Counts failed measurements of absolute checks."""

    name: ClassVar[str] = "threshold"

    def __init__(self, config: ThresholdConfig | None = None) -> None:
        self.config = config or ThresholdConfig()
        self._windows = [
            GuardrailWindow(_per_interval(check, self.config)) for check in self.config.checks
        ]
        self._step: Step | None = None
        self._next_measurement = math.inf
        self._failed = 0
        self._inconclusive = 0
        self._measurements = 0

    def begin_step(self, step: Step) -> None:
        """Measurements run on the step's own clock, after its warm-up."""
        self._step = step
        self._next_measurement = step.started_at + step.warmup_s + self.config.interval_s

    def observe(self, observation: Observation) -> Decision:
        """Accumulate the interval; measure when it is due."""
        step = self._step
        if step is None:
            raise JudgeError("observation before any step", hint="call begin_step first")
        at = observation.at
        for window in self._windows:
            window.push(at, observation.canary)
        if at + 1e-9 >= self._next_measurement:
            self._next_measurement += self.config.interval_s
            decision = self._measure(at)
            if decision is not None:
                return decision
        if step.dwell(at) >= step.max_dwell_s:
            return Decision(
                Action.PROMOTE_STEP,
                Basis.THRESHOLD,
                f"{self._measurements} measurements, {self._failed} failed "
                f"(limit {self.config.failure_limit}): step {step.index} passes",
                at,
            )
        return Decision(Action.CONTINUE, Basis.COLLECTING, "between measurements", at)

    def _measure(self, at: float) -> Decision | None:
        self._measurements += 1
        failures = []
        for window in self._windows:
            value, support = window.value()
            if value is None or support < window.guardrail.min_requests:
                self._inconclusive += 1
                continue
            tripped = window.check(at)
            if tripped is not None:
                failures.append(tripped)
        if failures:
            self._failed += 1
            if self._failed > self.config.failure_limit:
                first = failures[0]
                return Decision(
                    Action.ROLLBACK,
                    Basis.THRESHOLD,
                    f"{self._failed} failed measurements > failure limit "
                    f"{self.config.failure_limit}; latest: {first.reason}",
                    at,
                    metric=first.metric,
                    threshold=first.threshold,
                    lower=first.lower,
                    upper=first.upper,
                )
        limit = self.config.inconclusive_limit
        if limit is not None and self._inconclusive > limit:
            return Decision(
                Action.INCONCLUSIVE,
                Basis.NO_TRAFFIC,
                f"{self._inconclusive} measurements without data > inconclusive limit {limit}",
                at,
            )
        return None


def _per_interval(check: Guardrail, config: ThresholdConfig) -> Guardrail:
    """A check measured over exactly one analysis interval."""
    return Guardrail(
        check.metric,
        max=check.max,
        min=check.min,
        window_s=config.interval_s,
        min_requests=check.min_requests,
    )
