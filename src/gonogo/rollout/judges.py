"""Judge types: how the plan's ``judge`` key becomes a judge.

Found through the ``gonogo.judges`` entry-point group (see :mod:`gonogo.rollout.registry`),
where the built-ins register too. Guardrails are applied by the controller for every
judge; a judge sees the metric source's per-variant increments and decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from gonogo.rollout import registry
from gonogo.rollout.analysis.interface import Judge
from gonogo.rollout.analysis.mannwhitney import MannWhitneyConfig, MannWhitneyJudge
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge
from gonogo.rollout.analysis.threshold import ThresholdConfig, ThresholdJudge
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
