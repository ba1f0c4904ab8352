"""``env-parity``: two environments differ only where the policy allows it, with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.config.inventory import FILENAME, Inventory, load_inventory
from gonogo.config.parity.compare import compare
from gonogo.config.parity.model import EnvironmentDefinition
from gonogo.config.parity.sources import load_environment
from gonogo.digest import sha256_file
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status
from gonogo.policy.environments import EnvPolicy
from gonogo.policy.load import LoadedPolicy, find_policy, load_policy

_SHOWN = 20


class EnvParityParams(CheckParams):
    """Parameters of the ``env-parity`` check."""

    environments: list[str] = Field(
        default_factory=lambda: ["staging", "production"], min_length=2, max_length=2
    )
    inventory: str | None = None

    @field_validator("environments")
    @classmethod
    def _two_different(cls, value: list[str]) -> list[str]:
        if value[0] == value[1]:
            raise ValueError("name two different environments")
        return value


def project_policy(ctx: CheckContext) -> LoadedPolicy:
    """The policy of the project the check runs in; CheckError when it cannot be read."""
    try:
        return load_policy(find_policy(ctx.root))
    except GonogoError as exc:
        raise CheckError(f"cannot read the policy: {exc}") from None


def _inventory_file(params: EnvParityParams, ctx: CheckContext) -> Path:
    return ctx.resolve(params.inventory or FILENAME)


def _load(
    params: EnvParityParams, ctx: CheckContext
) -> tuple[LoadedPolicy, EnvironmentDefinition, EnvironmentDefinition, Inventory | None]:
    loaded = project_policy(ctx)
    env: EnvPolicy = loaded.policy.env
    file = _inventory_file(params, ctx)
    try:
        inventory = load_inventory(file) if params.inventory or file.is_file() else None
        left, right = (load_environment(ctx.root, env, name) for name in params.environments)
    except GonogoError as exc:
        raise CheckError(exc.message, hint=exc.hint) from None
    return loaded, left, right, inventory


class EnvParityCheck:
    """Compares two environments; the measured value is the number of undeclared differences."""

    name: ClassVar[str] = "env-parity"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = EnvParityParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The policy, the inventory and every definition file of both environments."""
        assert isinstance(params, EnvParityParams)  # noqa: S101 - the engine parsed it
        loaded, left, right, _ = _load(params, ctx)
        files = dict.fromkeys([*left.files, *right.files])
        return CheckInputs(
            files=(loaded.file, _inventory_file(params, ctx), *(ctx.root / f for f in files)),
            values={"files": list(files)},
        )

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Load both environments and list their differences (a secret's value never)."""
        assert isinstance(params, EnvParityParams)  # noqa: S101 - the engine parsed it
        loaded, left, right, inventory = _load(params, ctx)
        report = compare(left, right, loaded.policy.env, inventory)
        undeclared = report.undeclared
        files = list(dict.fromkeys([*left.files, *right.files]))
        return Observation(
            measured=len(undeclared),
            details={
                "environments": list(params.environments),
                "undeclared": [d.describe() for d in undeclared[:_SHOWN]],
                "keys": [d.key for d in undeclared[:_SHOWN]],
                "more": max(0, len(undeclared) - _SHOWN),
                "allowed": [f"{d.key}: {d.reason}" for d in report.allowed[:_SHOWN]],
                "files": len(files),
                "warnings": [*left.warnings, *right.warnings][:_SHOWN],
            },
            evidence=tuple(
                EvidenceRef(kind="definition", uri=f, sha256=sha256_file(ctx.root / f))
                for f in files
            ),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when every difference is one the policy allows."""
        details = observation.details
        left, right = details["environments"]
        count = int(observation.measured or 0)
        allowed = len(details["allowed"])
        noted = f" ({allowed} allowed by the policy)" if allowed else ""
        if count == 0:
            return Judgement(
                Status.PASS, f"{left} and {right} are in parity{noted}", "0 undeclared differences"
            )
        listed = ", ".join(details["keys"][:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        noun = "difference" if count == 1 else "differences"
        return Judgement(
            Status.FAIL,
            f"{count} undeclared {noun} between {left} and {right}: {listed}{more}",
            "0 undeclared differences",
        )
