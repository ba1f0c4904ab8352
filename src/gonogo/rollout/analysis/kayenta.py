"""Kayenta's statistics: the Mann-Whitney interval, metric classification, weighted scores.

Follows Netflix's ACA judge (NetflixACAJudge with its MannWhitneyClassifier and
WeightedSumScorer): the two-sided Mann-Whitney (Wilcoxon rank-sum) test, its
Hodges-Lehmann-type confidence interval for the location shift found by root-finding on
the normal approximation with tie and continuity corrections (as R's ``wilcox.test`` and
Kayenta do), classification High/Low/Pass/NoData against a tolerance that is a fraction
of the shift estimate and an effect-size (mean ratio) threshold, group scores as the
percentage of passing metrics, and their weighted sum.

numpy and scipy come from the ``stats`` extra and are imported when first needed.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gonogo.rollout.analysis.interface import JudgeError


class Classification(StrEnum):
    """A metric's class."""

    HIGH = "High"
    LOW = "Low"
    PASS = "Pass"  # noqa: S105 - a class label, not a password
    NODATA = "Nodata"
    ERROR = "Error"


class KayentaDirection(StrEnum):
    """Which changes count against the canary."""

    INCREASE = "increase"
    DECREASE = "decrease"
    EITHER = "either"


class ScoreClass(StrEnum):
    """The summary score's class."""

    PASS = "Pass"  # noqa: S105 - a class label, not a password
    MARGINAL = "Marginal"
    FAIL = "Fail"
    NODATA = "Nodata"


@dataclass(frozen=True)
class MannWhitneyResult:
    """Test outcome: p-value, confidence interval and estimate of the shift (canary - baseline)."""

    p_value: float
    lower: float
    upper: float
    estimate: float


@dataclass(frozen=True)
class MetricClassification:
    """One metric's class with the reason and the mean ratio."""

    classification: Classification
    reason: str
    ratio: float
    result: MannWhitneyResult | None = None


def stats_modules() -> tuple[Any, Any, Any]:
    """numpy, scipy.optimize and scipy.stats, or a clear error naming the extra."""
    try:  # the optional extra, imported on first use
        numpy = importlib.import_module("numpy")
        optimize = importlib.import_module("scipy.optimize")
        stats = importlib.import_module("scipy.stats")
    except ImportError as exc:  # pragma: no cover - the dev environment has the extra
        raise JudgeError(
            f"the Mann-Whitney judge needs numpy and scipy ({exc.name} is missing)",
            hint="pip install 'gonogo[stats]'",
        ) from None
    return numpy, optimize, stats


def mann_whitney(
    experiment: Sequence[float], control: Sequence[float], confidence: float
) -> MannWhitneyResult:
    """The Mann-Whitney test with the asymptotic interval for the location shift."""
    np, optimize, stats = stats_modules()
    x = np.asarray(experiment, dtype=float)
    y = np.asarray(control, dtype=float)
    nx, ny = len(x), len(y)
    ranks = stats.rankdata(np.concatenate([x, y]))
    u1 = float(ranks[:nx].sum()) - nx * (nx + 1) / 2
    u_max = max(u1, nx * ny - u1)
    z = (u_max - nx * ny / 2) / math.sqrt(nx * ny * (nx + ny + 1) / 12)
    p_value = math.erfc(abs(z) / math.sqrt(2))

    def statistic(mu: float, quantile: float) -> float:
        pooled = np.concatenate([x - mu, y])
        r = stats.rankdata(pooled)
        dz = float(r[:nx].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
        _, ties = np.unique(pooled, return_counts=True)
        tie_term = float((ties**3 - ties).sum()) / ((nx + ny) * (nx + ny - 1))
        sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - tie_term))
        if sigma == 0:
            raise JudgeError("cannot compute a confidence interval: all observations are tied")
        correction = math.copysign(0.5, dz) if dz else 0.0
        return (dz - correction) / sigma - quantile

    mu_min = float(x.min() - y.max())
    mu_max = float(x.max() - y.min())

    def root(quantile: float) -> float:
        if statistic(mu_min, quantile) <= 0:
            return mu_min
        if statistic(mu_max, quantile) >= 0:
            return mu_max
        return float(optimize.brentq(statistic, mu_min, mu_max, args=(quantile,), xtol=1e-4))

    z_q = float(stats.norm.ppf((1 - confidence) / 2))
    return MannWhitneyResult(p_value, root(-z_q), root(z_q), root(0.0))


def classify(
    control: Sequence[float],
    experiment: Sequence[float],
    direction: KayentaDirection = KayentaDirection.EITHER,
    *,
    tolerance: float = 0.25,
    confidence: float = 0.98,
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
) -> MetricClassification:
    """Classify one metric as Kayenta's MannWhitneyClassifier does (NaNs removed first)."""
    exp = [v for v in experiment if not math.isnan(v)]
    ctl = [v for v in control if not math.isnan(v)]
    if not exp or not ctl:
        return MetricClassification(Classification.NODATA, "no data for one variant", math.nan)
    if sorted(exp) == sorted(ctl):
        return MetricClassification(Classification.PASS, "the data are identical", 1.0)
    if len(set(exp) | set(ctl)) == 1:
        return MetricClassification(Classification.PASS, "every observation is tied", 1.0)
    result = mann_whitney(exp, ctl, confidence)
    mean_ctl = float(sum(ctl)) / len(ctl)
    ratio = float(sum(exp) / len(exp)) / mean_ctl if mean_ctl else math.inf
    bound = tolerance * abs(result.estimate)
    interval = f"shift {result.estimate:.4g} in [{result.lower:.4g}, {result.upper:.4g}]"
    up = direction in (KayentaDirection.INCREASE, KayentaDirection.EITHER)
    down = direction in (KayentaDirection.DECREASE, KayentaDirection.EITHER)
    if up and result.lower > bound and ratio >= allowed_increase:
        return MetricClassification(
            Classification.HIGH, f"High: {interval}, mean ratio {ratio:.3g}", ratio, result
        )
    if down and result.upper < -bound and ratio <= allowed_decrease:
        return MetricClassification(
            Classification.LOW, f"Low: {interval}, mean ratio {ratio:.3g}", ratio, result
        )
    return MetricClassification(Classification.PASS, f"Pass: {interval}", ratio, result)


@dataclass(frozen=True)
class ScoredMetric:
    """A classified metric with its group and criticality, as the scorer sees it."""

    name: str
    group: str
    classification: Classification
    critical: bool = False


def group_scores(metrics: Sequence[ScoredMetric]) -> dict[str, float | None]:
    """Per group: the percentage of its classified metrics that pass (None: no data)."""
    scores: dict[str, float | None] = {}
    for group in dict.fromkeys(m.group for m in metrics):
        labels = [m.classification for m in metrics if m.group == group]
        passed = labels.count(Classification.PASS)
        total = passed + labels.count(Classification.HIGH) + labels.count(Classification.LOW)
        scores[group] = 100.0 * passed / total if total else None
    return scores


def summary_score(metrics: Sequence[ScoredMetric], weights: Mapping[str, float]) -> float:
    """The weighted sum of group scores; a critical metric that does not pass scores 0.

    Groups without a weight share what the given weights leave of 100.
    """
    if any(m.critical and m.classification is not Classification.PASS for m in metrics):
        return 0.0
    scores = group_scores(metrics)
    unweighted = [g for g in scores if g not in weights]
    share = (100.0 - sum(weights.values())) / len(unweighted) if unweighted else 0.0
    return sum(
        score * weights.get(group, share) / 100.0
        for group, score in scores.items()
        if score is not None
    )


def classify_score(score: float, pass_threshold: float, marginal: float) -> ScoreClass:
    """Pass at or above ``pass_threshold``, Marginal at or above ``marginal``, else Fail."""
    if score >= pass_threshold:
        return ScoreClass.PASS
    if score >= marginal:
        return ScoreClass.MARGINAL
    return ScoreClass.FAIL
