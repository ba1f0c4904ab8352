"""Drive a check the way the engine does: parse params, take inputs, collect, judge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gonogo.checks import registry
from gonogo.checks.interface import Bound, CheckContext, CheckInputs, Judgement, Observation
from gonogo.gates.results import SignoffState, Verdict


@dataclass
class FakeGates:
    """Other gates' state as a run would see it."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    signoffs: dict[str, dict[str, SignoffState]] = field(default_factory=dict)

    def verdict(self, gate: str) -> Verdict | None:
        return self.verdicts.get(gate)

    def signoff_states(self, gate: str) -> Mapping[str, SignoffState]:
        return self.signoffs.get(gate, {})


def context(
    root: Path,
    *,
    timeout: float = 60.0,
    ingested: Path | None = None,
    gates: FakeGates | None = None,
) -> CheckContext:
    """The context of criterion ``quality.tests`` in the project at ``root``."""
    return CheckContext(
        root=root,
        gate="quality",
        criterion="tests",
        timeout=timeout,
        gates=gates or FakeGates(),
        ingested=lambda: ingested,
    )


def inputs(name: str, params: dict[str, Any], ctx: CheckContext) -> CheckInputs:
    check = registry.load(name)
    return check.inputs(check.params_model.model_validate(params), ctx)


def collect(name: str, params: dict[str, Any], ctx: CheckContext) -> Observation:
    check = registry.load(name)
    return check.collect(check.params_model.model_validate(params), ctx)


def judge(
    name: str, params: dict[str, Any], observation: Observation, bound: Bound | None = None
) -> Judgement:
    check = registry.load(name)
    return check.judge(observation, check.params_model.model_validate(params), bound)


def evaluate(
    name: str, params: dict[str, Any], ctx: CheckContext, bound: Bound | None = None
) -> tuple[Observation, Judgement]:
    """Collect, then judge: what one criterion of a run does."""
    observation = collect(name, params, ctx)
    return observation, judge(name, params, observation, bound)
