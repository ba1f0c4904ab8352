"""``gate``: another gate must be go."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckInputs,
    CheckParams,
    Judgement,
    NotReported,
    Observation,
)
from gonogo.gates.results import EvidenceRef, Status, Verdict


class GateParams(CheckParams):
    """Parameters of the ``gate`` check."""

    gate: str = Field(min_length=1)


class GateCheck:
    """Passes when the named gate's verdict is go (criteria and sign-offs)."""

    name: ClassVar[str] = "gate"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = GateParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Depends on store state, so never cached."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Read the other gate's verdict from this run or the store."""
        assert isinstance(params, GateParams)  # noqa: S101 - the engine parsed it
        verdict = ctx.gates.verdict(params.gate)
        if verdict is None:
            raise NotReported(
                f"gate {params.gate} has not been evaluated for this release",
                hint=f"run `gonogo check --gate {params.gate}`",
            )
        return Observation(
            measured=verdict.value,
            evidence=(EvidenceRef(kind="gate", uri=params.gate),),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Go passes; anything else fails."""
        assert isinstance(params, GateParams)  # noqa: S101 - the engine parsed it
        if observation.measured == Verdict.GO.value:
            return Judgement(Status.PASS, f"gate {params.gate} is go", "go")
        return Judgement(Status.FAIL, f"gate {params.gate} is {observation.measured}", "go")
