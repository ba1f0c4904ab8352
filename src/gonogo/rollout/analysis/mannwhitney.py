"""A Kayenta-style judge: Mann-Whitney per metric over a growing window, weighted scores.

The canary and baseline series are built as Kayenta reads them from a metrics store:
one value per ``bucket_s`` (error rate, latency quantiles, metric means). Every
``interval_s`` after the step's warm-up, each metric's series since the step began is
classified (:func:`~gonogo.rollout.analysis.kayenta.classify`), the group scores are
weighted into a summary score, and the score is classified against the pass and
marginal thresholds. As in Spinnaker's canary stage, an interim score below marginal
rolls back; at the step's maximum dwell a passing score promotes, a marginal one is
inconclusive and a failing one rolls back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    JudgeError,
    LatencyHistogram,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.kayenta import (
    Classification,
    KayentaDirection,
    ScoreClass,
    ScoredMetric,
    classify,
    classify_score,
    stats_modules,
    summary_score,
)


@dataclass(frozen=True)
class KayentaMetric:
    """One metric of the canary config: ``error_rate``, ``latency_pNN`` or a metric name."""

    name: str
    group: str
    direction: KayentaDirection = KayentaDirection.INCREASE
    critical: bool = False


@dataclass(frozen=True)
class MannWhitneyConfig:
    """Kayenta's knobs, with NetflixACAJudge's defaults (tolerance 0.25, confidence 0.98)."""

    metrics: tuple[KayentaMetric, ...] = field(
        default_factory=lambda: (
            KayentaMetric("error_rate", "errors"),
            KayentaMetric("latency_p50", "latency"),
            KayentaMetric("latency_p95", "latency"),
            KayentaMetric("latency_p99", "latency"),
        )
    )
    group_weights: tuple[tuple[str, float], ...] = (("errors", 50.0), ("latency", 50.0))
    tolerance: float = 0.25
    confidence: float = 0.98
    pass_threshold: float = 95.0
    marginal_threshold: float = 75.0
    interval_s: float = 60.0
    bucket_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.metrics:
            raise JudgeError("the Mann-Whitney judge needs at least one metric")
        if self.interval_s <= 0 or self.bucket_s <= 0 or not 0 < self.confidence < 1:
            raise JudgeError("interval_s and bucket_s must be > 0, confidence in (0, 1)")
        if not 0 <= self.marginal_threshold <= self.pass_threshold <= 100:
            raise JudgeError("need 0 <= marginal <= pass <= 100")


class _Bucket:
    """One series bucket being filled for one variant."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.latency: dict[int, int] = {}
        self.sums: dict[str, tuple[int, float]] = {}

    def add(self, sample: VariantSample) -> None:
        self.requests += sample.requests
        self.errors += sample.errors
        for index, count in sample.latency.counts.items():
            self.latency[index] = self.latency.get(index, 0) + count
        for name, moments in sample.metrics.items():
            count, total = self.sums.get(name, (0, 0.0))
            self.sums[name] = (count + moments.count, total + moments.total)

    def value(self, metric: str) -> float:
        """The bucket's value of a metric (NaN without data)."""
        if metric == "error_rate":
            return self.errors / self.requests if self.requests else math.nan
        if metric.startswith("latency_p"):
            quantile = LatencyHistogram(self.latency).quantile(float(metric[9:]) / 100)
            return math.nan if quantile is None else quantile
        count, total = self.sums.get(metric, (0, 0.0))
        return total / count if count else math.nan


class MannWhitneyJudge:
    """Kayenta's NetflixACAJudge, run at every analysis interval of a step."""

    name: ClassVar[str] = "mannwhitney"

    def __init__(self, config: MannWhitneyConfig | None = None) -> None:
        stats_modules()  # fail early, with the extra's name, when numpy/scipy are missing
        self.config = config or MannWhitneyConfig()
        self._step: Step | None = None
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._buckets = (_Bucket(), _Bucket())
        self._bucket_end = math.inf
        self._next_analysis = math.inf

    def begin_step(self, step: Step) -> None:
        """A new step: a new window, starting after the warm-up."""
        self._step = step
        self._series = {m.name: ([], []) for m in self.config.metrics}
        self._buckets = (_Bucket(), _Bucket())
        start = step.started_at + step.warmup_s
        self._bucket_end = start + self.config.bucket_s
        self._next_analysis = start + self.config.interval_s

    def observe(self, observation: Observation) -> Decision:
        """Fill the series; analyse when an interval is due."""
        step = self._step
        if step is None:
            raise JudgeError("observation before any step", hint="call begin_step first")
        at = observation.at
        if step.warming(at):
            return Decision(Action.CONTINUE, Basis.WARMING_UP, "warming up", at)
        self._buckets[0].add(observation.baseline)
        self._buckets[1].add(observation.canary)
        if at + 1e-9 >= self._bucket_end:
            self._close_bucket()
        final = step.dwell(at) >= step.max_dwell_s
        if at + 1e-9 >= self._next_analysis or final:
            self._next_analysis += self.config.interval_s
            return self._analyse(at, final)
        return Decision(Action.CONTINUE, Basis.COLLECTING, "between analyses", at)

    def _close_bucket(self) -> None:
        for metric in self.config.metrics:
            control, experiment = self._series[metric.name]
            control.append(self._buckets[0].value(metric.name))
            experiment.append(self._buckets[1].value(metric.name))
        self._buckets = (_Bucket(), _Bucket())
        self._bucket_end += self.config.bucket_s

    def _analyse(self, at: float, final: bool) -> Decision:
        config = self.config
        scored = []
        reasons = []
        for metric in config.metrics:
            control, experiment = self._series[metric.name]
            try:
                result = classify(
                    control,
                    experiment,
                    metric.direction,
                    tolerance=config.tolerance,
                    confidence=config.confidence,
                )
                label, reason = result.classification, result.reason
            except JudgeError as exc:
                label, reason = Classification.ERROR, str(exc)
            scored.append(ScoredMetric(metric.name, metric.group, label, metric.critical))
            reasons.append(f"{metric.name} {reason}")
        score = summary_score(scored, dict(config.group_weights))
        if all(m.classification is Classification.NODATA for m in scored):
            action = Action.INCONCLUSIVE if final else Action.CONTINUE
            return Decision(action, Basis.NO_TRAFFIC, "no data: " + "; ".join(reasons), at)
        verdict = classify_score(score, config.pass_threshold, config.marginal_threshold)
        reason = f"score {score:.1f} ({verdict.value}): " + "; ".join(reasons)
        worst = next((m.name for m in scored if m.classification is Classification.HIGH), None)
        if verdict is ScoreClass.FAIL:
            return Decision(Action.ROLLBACK, Basis.SCORE, reason, at, metric=worst, e_value=None)
        if not final:
            return Decision(Action.CONTINUE, Basis.SCORE, reason, at)
        if verdict is ScoreClass.PASS:
            return Decision(Action.PROMOTE_STEP, Basis.SCORE, reason, at)
        return Decision(Action.INCONCLUSIVE, Basis.SCORE, reason, at, metric=worst)
