"""The oracle: Wald's SPRT told the true effect, the yardstick for detection time.

It knows what the simulator knows: the canary's true error-rate ratio, the true
probability of each latency bucket for both variants, and when the regression starts.
From the onset on, it adds the exact log-likelihood ratio of every observation, per
affected stream (errors, latency), and rolls back when one reaches log(m/alpha), m being
the number of affected streams. Errors are judged on the same conditional statistic as
the sequential judge (the canary's share of errors, whose law under the truth is known);
latency on every canary request's bucket. No judge that must learn the effect can be
faster on average at the same error rate, so the ratio to the oracle measures the price
of not knowing it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    JudgeError,
    Observation,
    Step,
)


@dataclass(frozen=True)
class OracleTruth:
    """What the oracle is told about the canary."""

    error_ratio: float
    """canary error rate / baseline error rate once regressed (1.0: no error effect)"""
    latency_log_ratio: Sequence[float] | None
    """per bucket: log(P_canary(bucket) / P_baseline(bucket)); None: no latency effect"""
    onset_at: float = 0.0
    """when the canary starts to regress (seconds)"""

    def __post_init__(self) -> None:
        if self.error_ratio < 0:
            raise JudgeError("the oracle's error ratio must be >= 0")

    @property
    def streams(self) -> int:
        """How many streams carry an effect."""
        return int(self.error_ratio != 1.0) + int(self.latency_log_ratio is not None)


class OracleJudge:
    """Wald SPRT per affected stream, started at the true onset."""

    name: ClassVar[str] = "oracle"

    def __init__(self, truth: OracleTruth, alpha: float = 0.01) -> None:
        if not 0 < alpha < 1:
            raise JudgeError(f"alpha {alpha:g} is not between 0 and 1")
        self.truth = truth
        self.alpha = alpha
        self._log_threshold = math.log(max(truth.streams, 1) / alpha)
        self._step: Step | None = None
        self._llr_errors = 0.0
        self._llr_latency = 0.0
        self._log_share: tuple[float, float] = (0.0, 0.0)

    def begin_step(self, step: Step) -> None:
        """Note the canary's share: it sets the law of the error share."""
        self._step = step
        w, ratio = step.weight, self.truth.error_ratio
        share = 1.0 if math.isinf(ratio) else w * ratio / (w * ratio + 1 - w)
        self._log_share = (
            math.log(share / w) if share > 0 else -math.inf,
            math.log((1 - share) / (1 - w)) if share < 1 else -math.inf,
        )

    def observe(self, observation: Observation) -> Decision:
        """Add the log-likelihood ratio of the interval (once the regression has begun)."""
        step = self._step
        if step is None:
            raise JudgeError("observation before any step", hint="call begin_step first")
        at = observation.at
        truth = self.truth
        if truth.streams and at > truth.onset_at:
            if truth.error_ratio != 1.0:
                canary, baseline = observation.canary.errors, observation.baseline.errors
                log_c, log_b = self._log_share
                self._llr_errors += (canary * log_c if canary else 0.0) + (
                    baseline * log_b if baseline else 0.0
                )
            if truth.latency_log_ratio is not None:
                ratios = truth.latency_log_ratio
                self._llr_latency += sum(
                    count * ratios[index]
                    for index, count in observation.canary.latency.counts.items()
                )
        threshold = math.exp(self._log_threshold)
        for metric, llr in (("errors", self._llr_errors), ("latency", self._llr_latency)):
            if llr >= self._log_threshold:
                return Decision(
                    Action.ROLLBACK,
                    Basis.REGRESSION,
                    f"{metric}: likelihood ratio {math.exp(min(llr, 700)):.3g} >= {threshold:g}",
                    at,
                    metric=metric,
                    e_value=math.exp(min(llr, 700.0)),
                    threshold=threshold,
                )
        if step.dwell(at) >= step.max_dwell_s:
            if truth.streams and at > truth.onset_at:
                return Decision(
                    Action.INCONCLUSIVE,
                    Basis.INSUFFICIENT_EVIDENCE,
                    "the regression was not detected within the maximum dwell",
                    at,
                    threshold=threshold,
                )
            return Decision(
                Action.PROMOTE_STEP,
                Basis.NON_INFERIOR,
                "the oracle knows of no regression in this step",
                at,
                threshold=threshold,
            )
        affected = [self._llr_errors] if truth.error_ratio != 1.0 else []
        affected += [self._llr_latency] if truth.latency_log_ratio is not None else []
        strongest = max(affected, default=0.0)
        return Decision(
            Action.CONTINUE,
            Basis.COLLECTING,
            f"collecting evidence: likelihood ratio {math.exp(min(strongest, 700)):.3g}",
            at,
            e_value=math.exp(min(strongest, 700.0)),
            threshold=threshold,
        )
