"""Builders for rollout-analysis tests: observations from counts and seeded latencies."""

from __future__ import annotations

import math
import random
from typing import Any

from gonogo.rollout.analysis.interface import LatencyHistogram, Observation, VariantSample
from gonogo.rollout.analysis.scenario import Scenario, parse_scenario

LOGNORMAL = {"dist": "lognormal", "median_ms": 80.0, "sigma": 0.5}


def lognormal(rng: random.Random, n: int, median: float = 80.0, sigma: float = 0.5) -> list[float]:
    """``n`` lognormal latencies (ms)."""
    return [rng.lognormvariate(math.log(median), sigma) for _ in range(n)]


def observation(
    at: float,
    *,
    base: tuple[int, int] = (0, 0),
    canary: tuple[int, int] = (0, 0),
    base_latency: list[float] | None = None,
    canary_latency: list[float] | None = None,
) -> Observation:
    """An observation from (requests, errors) per variant and optional latencies."""
    return Observation(
        at,
        VariantSample(*base, LatencyHistogram.from_samples(base_latency or [])),
        VariantSample(*canary, LatencyHistogram.from_samples(canary_latency or [])),
    )


def scenario(**overrides: Any) -> Scenario:
    """A small valid scenario (canary equals baseline unless overridden)."""
    data: dict[str, Any] = {
        "name": "test",
        "seed": 3,
        "duration_s": 300,
        "rps": 50,
        "steps": [10],
        "step_s": 300,
        "baseline": {"error_rate": 0.01, "latency": dict(LOGNORMAL)},
        "canary": {"error_rate": 0.01, "latency": dict(LOGNORMAL)},
    }
    for key, value in overrides.items():
        if key in {"baseline", "canary"}:
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_scenario(data)


def binomial_tolerance(alpha: float, runs: int) -> float:
    """alpha plus three binomial standard errors: the most a valid rate should show."""
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)
