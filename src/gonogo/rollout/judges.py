"""Judge types: how the plan's ``judge`` key (or ``rollout simulate --judge``) becomes a judge.

Found through the ``gonogo.judges`` entry-point group (see :mod:`gonogo.rollout.registry`),
where the built-ins register too. Guardrails are applied by the controller for every
judge; a judge sees the metric source's per-variant increments and decides. The simulator
runs any installed type too, built from the plan a scenario stands for
(:func:`scenario_plan`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from pydantic import ValidationError

from gonogo.errors import GonogoError
from gonogo.rollout import registry
from gonogo.rollout.analysis import simulate as simulation
from gonogo.rollout.analysis.interface import Judge, JudgeKind
from gonogo.rollout.analysis.mannwhitney import MannWhitneyConfig, MannWhitneyJudge
from gonogo.rollout.analysis.scenario import Scenario, ScenarioError
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.analysis.threshold import ThresholdConfig, ThresholdJudge
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.plan import RolloutPlan


@dataclass(frozen=True)
class JudgeType:
    """One judge type, as its entry point names it: ``build(plan)`` returns a fresh
    :class:`~gonogo.rollout.analysis.interface.Judge` for one rollout."""

    build: Callable[[RolloutPlan], Judge]


def _sequential(plan: RolloutPlan) -> Judge:
    metrics = tuple(m.spec() for m in plan.metrics)
    return SequentialJudge(SequentialConfig(alpha=plan.alpha, metrics=metrics))


def _mannwhitney(plan: RolloutPlan) -> Judge:
    return MannWhitneyJudge(
        MannWhitneyConfig(interval_s=max(plan.interval_s, 1.0), bucket_s=plan.interval_s)
    )


def _threshold(plan: RolloutPlan) -> Judge:
    checks = tuple(g.guardrail() for g in plan.guardrails)
    return ThresholdJudge(
        ThresholdConfig(checks=checks, interval_s=plan.interval_s)
        if checks
        else ThresholdConfig(interval_s=plan.interval_s)
    )


# The built-in judges, registered under these names in pyproject.toml's entry points.
SEQUENTIAL = JudgeType(_sequential)
MANNWHITNEY = JudgeType(_mannwhitney)
THRESHOLD = JudgeType(_threshold)


def judge_type(name: str) -> JudgeType:
    """The installed judge type ``name``; RolloutError naming the known ones when none."""
    return cast(JudgeType, registry.load("judge", name, JudgeType))


def make_judge(plan: RolloutPlan) -> Judge:
    """The plan's judge, fresh for one rollout."""
    return judge_type(plan.judge).build(plan)


# -- simulation ----------------------------------------------------------------------------


#: the names the simulator always had: the built-in judges and the oracle, which only a
#: simulation can run (it is told the truth)
SIMULATED = tuple(kind.value for kind in JudgeKind)


def scenario_plan(scenario: Scenario, judge: str) -> RolloutPlan:
    """The rollout plan ``scenario`` stands for, naming ``judge``.

    Its ``alpha`` and ``interval_s``; a step per weight below 100 (100 ends the analysis)
    with ``step_s`` as the maximum dwell and the scenario's warm-up and minimum dwell; the
    default metrics, no guardrails. ScenarioError when no plan could say that.
    """
    data = {
        "judge": judge,
        "alpha": scenario.alpha,
        "interval_s": scenario.interval_s,
        "steps": [
            {
                "weight": weight,
                "warmup_s": scenario.warmup_s,
                "min_dwell_s": scenario.min_dwell_s,
                "max_dwell_s": scenario.step_s,
            }
            for weight in scenario.steps
            if weight < 100
        ],
    }
    try:
        return RolloutPlan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ScenarioError(
            f"scenario {scenario.name}: the judge {judge!r} is built from a rollout plan, "
            f"and this scenario makes none: {key}: {message}",
            hint="see docs/rollout-analysis.md#simulation",
        ) from None


def simulate(scenario: Scenario, judge: str, runs: int) -> simulation.SimulationReport:
    """``runs`` seeded runs of ``scenario`` with the judge named ``judge``.

    The built-in names run as the simulator always configured them (the peers as
    docs/rollout-analysis.md says, the oracle told the truth); any other installed judge
    type is built for each run from :func:`scenario_plan`, exactly as for a live rollout,
    and runs through the same :func:`~gonogo.rollout.analysis.simulate.run_once`.
    RolloutError naming every judge (and the oracle) when ``judge`` is none.
    """
    if judge.lower() in SIMULATED:
        return simulation.simulate(scenario, simulation.builtin_kind(judge), runs)
    if judge not in registry.available("judge"):
        raise registry.unknown("judge", judge, key="--judge", also=SIMULATED)
    installed = judge_type(judge)
    plan = scenario_plan(scenario, judge)
    try:
        return simulation.simulate(scenario, judge, runs, build=lambda: installed.build(plan))
    except GonogoError:
        raise
    except Exception as exc:  # a broken plugin is the user's to fix, in one line
        raise RolloutError(
            f"the judge {judge!r} failed: {type(exc).__name__}: {exc}",
            hint="it comes from a plugin: fix or reinstall the package that provides it",
        ) from exc
