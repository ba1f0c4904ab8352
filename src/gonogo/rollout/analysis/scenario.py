"""Simulation scenarios: the TOML format, validated with pydantic; errors name the key.

```toml
name = "errors-5x"
seed = 7
duration_s = 1800
rps = 200                 # mean total requests per second
diurnal_amplitude = 0.3   # optional: load swings +-30% (one cycle per diurnal_period_s)
steps = [5, 25, 50]       # canary weights in percent; 100 ends the analysis
step_s = 600              # maximum dwell per step

[baseline]
error_rate = 0.002
latency = { dist = "lognormal", median_ms = 80, sigma = 0.5 }

[canary]
error_rate = 0.01
latency = { dist = "lognormal", median_ms = 80, sigma = 0.5 }
regression_at_s = 300     # optional: healthy (as the baseline) until then
```

Optional keys beyond those: ``interval_s`` (observation interval, default 1),
``warmup_s`` and ``min_dwell_s`` (per step, default 0), ``alpha`` (default 0.01),
``diurnal_period_s`` (default ``duration_s``), ``scrape_interval_s`` (default 0: counts
read together; above 0 each variant's counters are read as of its own last scrape, every
that many seconds at its own phase, as a Prometheus source reads them), and in
``[canary]`` a cold start: ``cold_start_s`` seconds after deployment during which latency
and error rate are multiplied by ``cold_start_factor``.
"""

from __future__ import annotations

import tomllib
from itertools import pairwise
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator

from gonogo.rollout.analysis.interface import JudgeError
from gonogo.strict import StrictModel


class ScenarioError(JudgeError):
    """A scenario file is unreadable or invalid."""


class LatencySpec(StrictModel):
    """A latency distribution given by its median and its spread."""

    dist: Literal["lognormal", "gamma", "pareto"]
    median_ms: float = Field(gt=0)
    sigma: float | None = Field(default=None, gt=0, le=10)
    """lognormal: the log-latency's standard deviation"""
    shape: float | None = Field(default=None, ge=0.05, le=10_000)
    """gamma: its shape; pareto: its tail index (the tail thins as it grows)"""

    @model_validator(mode="after")
    def _spread(self) -> Self:
        if self.dist == "lognormal":
            if self.sigma is None:
                raise ValueError("sigma is required for dist = 'lognormal'")
            if self.shape is not None:
                raise ValueError("shape does not apply to dist = 'lognormal' (use sigma)")
        else:
            if self.shape is None:
                raise ValueError(f"shape is required for dist = {self.dist!r}")
            if self.sigma is not None:
                raise ValueError(f"sigma does not apply to dist = {self.dist!r} (use shape)")
        return self


class VariantSpec(StrictModel):
    """How one variant behaves."""

    error_rate: float = Field(ge=0, le=1)
    latency: LatencySpec


class CanarySpec(VariantSpec):
    """The canary: its (possibly regressed) behaviour, when it regresses, its cold start."""

    regression_at_s: float | None = Field(default=None, ge=0)
    cold_start_s: float = Field(default=0.0, ge=0)
    cold_start_factor: float = Field(default=1.0, ge=1)


class Scenario(StrictModel):
    """One simulated rollout."""

    name: str = Field(min_length=1)
    seed: int = Field(default=0, ge=0)
    duration_s: float = Field(gt=0)
    rps: float = Field(gt=0, le=1e9)
    diurnal_amplitude: float = Field(default=0.0, ge=0, lt=1)
    diurnal_period_s: float | None = Field(default=None, gt=0)
    steps: tuple[float, ...] = Field(min_length=1)
    step_s: float = Field(gt=0)
    interval_s: float = Field(default=1.0, gt=0, le=3600)
    warmup_s: float = Field(default=0.0, ge=0)
    min_dwell_s: float = Field(default=0.0, ge=0)
    alpha: float = Field(default=0.01, gt=0, lt=1)
    scrape_interval_s: float = Field(default=0.0, ge=0, le=3600)
    """0: both variants' counts read together; else scraped this often, each at its phase"""
    baseline: VariantSpec
    canary: CanarySpec

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < s <= 100 for s in steps):
            raise ValueError("every weight must be a percentage in (0, 100]")
        if any(b <= a for a, b in pairwise(steps)):
            raise ValueError("weights must increase")
        if steps[0] >= 100:
            raise ValueError("no weight below 100: 100 ends the analysis, so nothing is judged")
        return steps

    @model_validator(mode="after")
    def _timings(self) -> Self:
        if self.min_dwell_s > self.step_s:
            raise ValueError("min_dwell_s exceeds step_s")
        if self.interval_s > self.step_s:
            raise ValueError("interval_s exceeds step_s")
        if self.warmup_s >= self.step_s:
            raise ValueError("warmup_s leaves no time for analysis before step_s")
        if self.interval_s > self.duration_s:
            raise ValueError("duration_s is shorter than one interval_s: nothing is observed")
        onset = self.canary.regression_at_s
        if onset is not None and onset >= self.duration_s:
            raise ValueError(
                f"canary.regression_at_s {onset:g} is not before duration_s "
                f"{self.duration_s:g}: the canary would never regress"
            )
        return self

    @property
    def regressed(self) -> bool:
        """Whether the canary (once regressed) differs from the baseline."""
        base, cand = self.baseline, self.canary
        return base.error_rate != cand.error_rate or base.latency != cand.latency

    @property
    def onset_s(self) -> float:
        """When the canary starts to differ (0: from the start)."""
        return self.canary.regression_at_s or 0.0


def parse_scenario(data: object, source: str = "scenario") -> Scenario:
    """Validate parsed TOML; the first problem becomes one line naming its key."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "required key is missing"
        elif first["type"] == "extra_forbidden":
            message = "unknown key"
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ScenarioError(
            f"{source}: {key}: {message}{suffix}", hint="see docs/rollout-analysis.md"
        ) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path}: byte {exc.start} is not UTF-8", hint="save the scenario as UTF-8"
        ) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    return parse_scenario(data, str(path))
