"""Canary analysis: judges that turn per-variant observations into rollout decisions.

``sequential`` (the default, anytime-valid), ``mannwhitney`` (Kayenta-style),
``threshold`` (Argo/Flagger-style) and ``oracle`` (the SPRT that knows the truth, for
benchmarks); :mod:`~gonogo.rollout.analysis.simulate` runs any of them on synthetic traffic.
See docs/rollout-analysis.md.
"""

from __future__ import annotations

from gonogo.rollout.analysis.guardrails import Guardrail
from gonogo.rollout.analysis.interface import (
    Action,
    Basis,
    Decision,
    Direction,
    Finding,
    Judge,
    JudgeError,
    JudgeKind,
    LatencyHistogram,
    MetricKind,
    Moments,
    Observation,
    Step,
    VariantSample,
)
from gonogo.rollout.analysis.metrics import MetricSpec, default_metrics
from gonogo.rollout.analysis.sequential import SequentialConfig, SequentialJudge

__all__ = [
    "Action",
    "Basis",
    "Decision",
    "Direction",
    "Finding",
    "Guardrail",
    "Judge",
    "JudgeError",
    "JudgeKind",
    "LatencyHistogram",
    "MetricKind",
    "MetricSpec",
    "Moments",
    "Observation",
    "SequentialConfig",
    "SequentialJudge",
    "Step",
    "VariantSample",
    "default_metrics",
]
