"""The rollout plan: the ``[rollout]`` section of the policy, as typed values.

A plan says how a release candidate reaches production: the staging checks it must pass
with no production traffic, the canary steps (weights with warm-up and dwell limits), the
metrics compared with the baseline (each with its direction and non-inferiority
tolerance), the hard guardrails, the judge, the limits on inconclusive results and on
metric-source errors, and the deployer, router and metric source that carry it out::

    [rollout]
    judge = "sequential"
    alpha = 0.01
    interval_s = 5

    [rollout.staging]
    gates = ["staging"]
    smoke_requests = 20

    [[rollout.steps]]
    weight = 5
    warmup_s = 10
    min_dwell_s = 30
    max_dwell_s = 300

    [[rollout.guardrails]]
    metric = "error_rate"
    max = 0.05

    [rollout.deployer]
    type = "local"
    command = "python -m gonogo.rollout.sample --version {version} --port {port}"

See docs/rollout.md.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.rollout.analysis.guardrails import Guardrail
from gonogo.rollout.analysis.interface import Direction, JudgeError, MetricKind
from gonogo.rollout.analysis.metrics import (
    ALL_QUANTILES,
    MetricSpec,
    default_metrics,
    group_clash,
)
from gonogo.strict import StrictModel

_NAME = r"^[a-z][a-z0-9_.-]*$"

#: validation context of a plan read back from the store: checks added since are skipped
STORED = "stored"


class StagingPlan(StrictModel):
    """Checks the candidate passes before any production traffic reaches it.

    The candidate is deployed as the canary with 0% of the traffic; ``gates`` are run by
    the gate engine with ``GONOGO_CANARY_URL`` set to its address, and ``smoke_requests``
    requests to ``smoke_path`` must all answer below 500.
    """

    gates: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")], ...] = ()
    smoke_requests: int = Field(default=10, ge=0, le=100_000)
    smoke_path: Annotated[str, Field(pattern=r"^/")] = "/"
    timeout_s: float = Field(default=600.0, gt=0, le=MAX_WAIT_S)


class StepPlan(StrictModel):
    """One canary step: the canary's share of traffic in percent and its timings."""

    weight: float = Field(gt=0, lt=100)
    warmup_s: float = Field(default=0.0, ge=0)
    min_dwell_s: float = Field(default=0.0, ge=0)
    max_dwell_s: float = Field(default=600.0, gt=0)

    @field_validator("weight")
    @classmethod
    def _hundredths(cls, weight: float) -> float:
        hundredths = weight * 100
        if abs(hundredths - round(hundredths)) > 1e-6:
            raise ValueError(
                f"weight {weight:g} has more than two decimals: the routers split "
                "traffic in hundredths of a percent (e.g. 0.25)"
            )
        return weight

    @model_validator(mode="after")
    def _dwell(self) -> StepPlan:
        if self.min_dwell_s > self.max_dwell_s:
            raise ValueError(
                f"min_dwell_s {self.min_dwell_s:g} exceeds max_dwell_s {self.max_dwell_s:g}"
            )
        if self.warmup_s >= self.max_dwell_s:
            raise ValueError(
                f"warmup_s {self.warmup_s:g} leaves no time for analysis before "
                f"max_dwell_s {self.max_dwell_s:g}"
            )
        return self


class MetricPlan(StrictModel):
    """One metric compared between canary and baseline.

    ``kind``: ``errors`` (error share), ``latency`` (a quantile, ``quantile`` in (0, 1), or
    every quantile at once with ``quantile = "all"``), or ``mean`` (a numeric metric the
    source reports under ``name``, e.g. CPU per request).
    ``tolerance`` is the relative non-inferiority margin, ``tolerance_abs`` an absolute one.
    Metrics with the same ``group`` count once in the sequential judge's ``m/alpha``: it
    weighs the average of their e-values (the default latency p50/p95/p99 are one group).
    """

    name: Annotated[str, Field(pattern=_NAME, max_length=64)]
    kind: Literal["errors", "latency", "mean"]
    quantile: Annotated[float, Field(gt=0, lt=1)] | Literal["all"] | None = None
    direction: Literal["higher_is_worse", "lower_is_worse"] = "higher_is_worse"
    tolerance: float = Field(default=0.2, ge=0)
    tolerance_abs: float | None = Field(default=None, ge=0)
    query: str = ""
    group: Annotated[str, Field(pattern=_NAME, max_length=64)] | None = None

    @field_validator("quantile", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        """One clear message for a bad quantile (not one per member of the union)."""
        if value is None or value == ALL_QUANTILES:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise ValueError(f'quantile must be a number in (0, 1) or "all" (found {value!r})')
        return float(value)

    @model_validator(mode="after")
    def _quantile(self) -> MetricPlan:
        if self.kind == "latency" and self.quantile is None:
            raise ValueError(f'latency metric {self.name!r} needs a quantile, e.g. 0.99, or "all"')
        if self.kind != "latency" and self.quantile is not None:
            raise ValueError(f"only latency metrics take a quantile ({self.name!r} is {self.kind})")
        return self

    def spec(self) -> MetricSpec:
        """The analysis form."""
        return MetricSpec(
            name=self.name,
            kind=MetricKind(self.kind),
            quantile=self.quantile,
            direction=Direction(self.direction),
            tolerance=self.tolerance,
            tolerance_abs=self.tolerance_abs,
            query=self.query,
            group=self.group,
        )


class GuardrailPlan(StrictModel):
    """A hard limit on the canary: ``error_rate``, ``latency_pNN`` (ms) or a mean metric."""

    metric: Annotated[str, Field(pattern=_NAME, max_length=64)]
    max: float | None = None
    min: float | None = None
    window_s: float = Field(default=60.0, gt=0)
    min_requests: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _limit(self) -> GuardrailPlan:
        try:
            self.guardrail()
        except JudgeError as exc:
            raise ValueError(exc.message) from None
        return self

    def guardrail(self) -> Guardrail:
        """The analysis form."""
        return Guardrail(self.metric, self.max, self.min, self.window_s, self.min_requests)


def default_metric_plans() -> tuple[MetricPlan, ...]:
    """Errors and latency p50/p95/p99, as in the analysis defaults."""
    return tuple(
        MetricPlan.model_validate(
            {
                "name": spec.name,
                "kind": spec.kind.value,
                "quantile": spec.quantile,
                "tolerance": spec.tolerance,
                "tolerance_abs": spec.tolerance_abs,
                "group": spec.group,
            }
        )
        for spec in default_metrics()
    )


class ComponentPlan(StrictModel):
    """A deployer, router or metric source: its ``type`` and that type's own settings.

    The settings are validated by the implementation's config model when the rollout is
    built (``gonogo policy validate`` does it too), so each type documents its own keys.
    """

    model_config = ConfigDict(extra="allow")  # the rest of StrictModel's settings hold

    type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]

    def settings(self) -> dict[str, Any]:
        """Everything but nothing hidden: the full table including ``type``."""
        return self.model_dump()


class RolloutPlan(StrictModel):
    """The ``[rollout]`` section; see the module docstring."""

    judge: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")] = "sequential"
    """a judge type: ``sequential``, ``mannwhitney``, ``threshold`` or one a plugin installs"""
    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    interval_s: float = Field(default=5.0, ge=0.1, le=3600)
    staging: StagingPlan = StagingPlan()
    steps: tuple[StepPlan, ...] = Field(min_length=1)
    metrics: tuple[MetricPlan, ...] = Field(default_factory=default_metric_plans, min_length=1)
    guardrails: tuple[GuardrailPlan, ...] = ()
    max_inconclusive: int = Field(default=1, ge=0, le=100)
    """inconclusive step results tolerated (each re-runs the step); one more rolls back"""
    max_source_errors: int = Field(default=3, ge=0, le=10_000)
    """consecutive unreadable metric-source intervals tolerated; one more rolls back"""
    deployer: ComponentPlan = ComponentPlan(type="local")
    router: ComponentPlan = ComponentPlan(type="builtin")
    source: ComponentPlan = ComponentPlan(type="builtin")

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: tuple[StepPlan, ...]) -> tuple[StepPlan, ...]:
        for before, after in itertools.pairwise(steps):
            if after.weight <= before.weight:
                raise ValueError(
                    f"step weights must increase (found {before.weight:g} then {after.weight:g})"
                )
        return steps

    @model_validator(mode="after")
    def _looks_within_each_step(self, info: ValidationInfo) -> RolloutPlan:
        if info.context and info.context.get(STORED):
            return self  # a plan a rollout already ran under is read back as it was
        for index, step in enumerate(self.steps):
            if self.interval_s > step.max_dwell_s:
                raise ValueError(
                    f"interval_s {self.interval_s:g} exceeds steps[{index}].max_dwell_s "
                    f"{step.max_dwell_s:g}: the step would end before its first analysis; "
                    "shorten interval_s or lengthen max_dwell_s"
                )
        return self

    @field_validator("metrics")
    @classmethod
    def _unique(cls, metrics: tuple[MetricPlan, ...]) -> tuple[MetricPlan, ...]:
        names = [m.name for m in metrics]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"metric names repeat: {', '.join(repeated)}")
        clash = group_clash(tuple(m.spec() for m in metrics))
        if clash is not None:
            raise ValueError(
                f"group {clash!r} has the name of a metric outside it; rename one of them"
            )
        return metrics
