"""Synthetic traffic for the simulator: bucket probabilities and seeded sampling (numpy).

Latencies are drawn directly as bucket counts from each distribution's bucket
probabilities (the same law as drawing samples and counting them), which keeps a run's
cost independent of the request rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gonogo.rollout.analysis.histogram import NUM_BUCKETS, LatencyHistogram, upper_edge
from gonogo.rollout.analysis.kayenta import stats_modules
from gonogo.rollout.analysis.scenario import LatencySpec, Scenario

#: below this many requests, draw uniforms and search the CDF; above, one multinomial draw
_DIRECT_LIMIT = 256


def _frozen(spec: LatencySpec, factor: float) -> Any:
    """The scipy distribution of a latency spec, scaled by ``factor``."""
    _, _, stats = stats_modules()
    median = spec.median_ms * factor
    if spec.dist == "lognormal":
        return stats.lognorm(s=spec.sigma, scale=median)
    shape = float(spec.shape or 1.0)
    if spec.dist == "gamma":
        return stats.gamma(a=shape, scale=median / float(stats.gamma(a=shape).median()))
    return stats.pareto(b=shape, scale=median / 2 ** (1 / shape))


@dataclass(frozen=True)
class LatencyLaw:
    """Bucket probabilities of one latency distribution (and their running sum)."""

    probs: Any
    cdf: Any

    @classmethod
    def of(cls, spec: LatencySpec, factor: float = 1.0) -> LatencyLaw:
        """Bucket probabilities of ``spec`` scaled by ``factor``."""
        np, _, _ = stats_modules()
        edges = np.array([upper_edge(i) for i in range(NUM_BUCKETS - 1)])
        cdf = np.append(_frozen(spec, factor).cdf(edges), 1.0)
        probs = np.diff(np.concatenate([[0.0], cdf]))
        probs = np.clip(probs, 0.0, None)
        probs /= probs.sum()
        return cls(probs=probs, cdf=np.cumsum(probs))

    def quantile(self, p: float) -> float:
        """The bucket upper edge at which the law reaches ``p``."""
        np, _, _ = stats_modules()
        return upper_edge(int(np.searchsorted(self.cdf, p)))

    def sample(self, rng: Any, n: int) -> LatencyHistogram:
        """``n`` latencies as bucket counts."""
        if n <= 0:
            return LatencyHistogram()
        np, _, _ = stats_modules()
        if n <= _DIRECT_LIMIT:
            index = np.searchsorted(self.cdf, rng.random(n), side="right")
            np.minimum(index, NUM_BUCKETS - 1, out=index)
            buckets, counts = np.unique(index, return_counts=True)
        else:
            drawn = rng.multinomial(n, self.probs)
            buckets = np.flatnonzero(drawn)
            counts = drawn[buckets]
        return LatencyHistogram(dict(zip(buckets.tolist(), counts.tolist(), strict=True)))


def log_ratio(canary: LatencyLaw, baseline: LatencyLaw) -> list[float]:
    """Per bucket log(P_canary / P_baseline), capped where one side is zero."""
    ratios = []
    for pc, pb in zip(canary.probs.tolist(), baseline.probs.tolist(), strict=True):
        if pc <= 0 and pb <= 0:
            ratios.append(0.0)
        elif pb <= 0:
            ratios.append(50.0)
        elif pc <= 0:
            ratios.append(-50.0)
        else:
            ratios.append(math.log(pc / pb))
    return ratios


@dataclass(frozen=True)
class TrafficModel:
    """Every law a scenario needs, computed once for all runs."""

    baseline: LatencyLaw
    healthy_cold: LatencyLaw
    regressed: LatencyLaw
    regressed_cold: LatencyLaw

    @classmethod
    def of(cls, scenario: Scenario) -> TrafficModel:
        """Laws of the baseline and of the canary, healthy or regressed, cold or warm."""
        factor = scenario.canary.cold_start_factor
        base = LatencyLaw.of(scenario.baseline.latency)
        regressed = LatencyLaw.of(scenario.canary.latency)
        return cls(
            baseline=base,
            healthy_cold=LatencyLaw.of(scenario.baseline.latency, factor) if factor != 1 else base,
            regressed=regressed,
            regressed_cold=(
                LatencyLaw.of(scenario.canary.latency, factor) if factor != 1 else regressed
            ),
        )

    def rate(self, scenario: Scenario, at: float) -> float:
        """Mean requests per second at time ``at``."""
        amplitude = scenario.diurnal_amplitude
        if not amplitude:
            return scenario.rps
        period = scenario.diurnal_period_s or scenario.duration_s
        return scenario.rps * (1 + amplitude * math.sin(2 * math.pi * at / period))
