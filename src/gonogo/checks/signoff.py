"""``signoff``: named roles hold valid sign-offs on another gate."""

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
from gonogo.gates.results import EvidenceRef, SignoffState, Status


class SignoffParams(CheckParams):
    """Parameters of the ``signoff`` check."""

    gate: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)


class SignoffCheck:
    """Passes when every listed role's sign-off on the gate is valid (not stale)."""

    name: ClassVar[str] = "signoff"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = SignoffParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Depends on store state, so never cached."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Read the sign-off state of each role."""
        assert isinstance(params, SignoffParams)  # noqa: S101 - the engine parsed it
        states = ctx.gates.signoff_states(params.gate)
        if not states and ctx.gates.verdict(params.gate) is None:
            raise NotReported(
                f"gate {params.gate} has not been evaluated for this release",
                hint=f"run `gonogo check --gate {params.gate}`",
            )
        found = {role: states.get(role, SignoffState.MISSING).value for role in params.roles}
        valid = sum(1 for v in found.values() if v == SignoffState.VALID.value)
        return Observation(
            measured=valid,
            details={"roles": found},
            evidence=(EvidenceRef(kind="signoffs", uri=params.gate),),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Every listed role must be valid."""
        assert isinstance(params, SignoffParams)  # noqa: S101 - the engine parsed it
        roles = dict(observation.details.get("roles", {}))
        bad = [f"{r} {s}" for r, s in roles.items() if s != SignoffState.VALID.value]
        expected = f"valid sign-off by {', '.join(params.roles)} on {params.gate}"
        if bad:
            return Judgement(Status.FAIL, "sign-off " + ", ".join(bad), expected)
        return Judgement(Status.PASS, f"signed by {', '.join(params.roles)}", expected)
