"""The policy: what "production ready" means for one project, as typed values.

Parsed from ``gonogo.toml`` (or ``[tool.gonogo]`` in ``pyproject.toml``) and
validated here. Every model is frozen: a loaded policy never changes.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IDENT = r"^[a-z][a-z0-9_-]*$"
ident_pattern = re.compile(IDENT)

Ident = Annotated[str, Field(pattern=IDENT, max_length=64)]

STANDARD_ROLES = ("engineering", "qa", "security", "operations")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Aggregation(StrEnum):
    """How a gate combines its criteria."""

    ALL = "all"
    WEIGHTED = "weighted"


class Threshold(_Frozen):
    """The bar a criterion's measured value must clear.

    Absolute: ``min`` and/or ``max``. Relative: ``relative_to = "last_pass"``
    compares with the value of the last release whose evaluation passed, with
    ``tolerance`` the allowed move in the worse direction.
    """

    min: float | None = None
    max: float | None = None
    relative_to: Literal["last_pass"] | None = None
    tolerance: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Threshold:
        if self.relative_to is None and self.min is None and self.max is None:
            raise ValueError('a threshold needs `min`, `max` or `relative_to = "last_pass"`')
        return self


class AppliesIf(_Frozen):
    """A criterion applies only when one of these globs matches a path in the project."""

    exists: tuple[str, ...] = Field(min_length=1)


class Criterion(_Frozen):
    """One measurable criterion of a gate."""

    id: Ident
    check: Annotated[str, Field(min_length=1)]
    title: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    threshold: Threshold | None = None
    blocking: bool = True
    key: bool = False
    weight: float = Field(default=1.0, gt=0)
    applies_if: AppliesIf | None = None
    source: Literal["run", "ingest"] = "run"
    timeout: float = Field(default=300.0, gt=0, le=86_400)


class Gate(_Frozen):
    """A named set of criteria with owner roles who sign off."""

    id: Ident
    title: str
    phase: int = Field(ge=1, le=8)
    owners: tuple[Ident, ...] = ()
    aggregation: Aggregation = Aggregation.ALL
    pass_score: float = Field(default=0.8, ge=0, le=1)
    warn_score: float = Field(default=0.6, ge=0, le=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Gate:
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion.id in seen:
                raise ValueError(f"criterion id {criterion.id!r} appears twice in gate {self.id!r}")
            seen.add(criterion.id)
        if self.warn_score > self.pass_score:
            raise ValueError("`warn_score` must not be above `pass_score`")
        return self


class Waiver(_Frozen):
    """A time-boxed exception for one criterion, approved by an owner role."""

    criterion: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]*$")]
    reason: Annotated[str, Field(min_length=3)]
    approver: Ident
    expires: date

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a waiver needs a reason")
        return value


class Signing(_Frozen):
    """Optional cryptographic sign-offs (ssh-keygen -Y, git's allowed_signers)."""

    allowed_signers: str | None = None
    required: bool = False
    namespace: str = "gonogo-signoff"


class Project(_Frozen):
    """Project-level settings."""

    name: Annotated[str, Field(min_length=1)]
    jobs: int = Field(default=4, ge=1, le=64)


class Policy(_Frozen):
    """The whole release policy."""

    version: Literal[1] = 1
    project: Project
    owners: dict[Ident, tuple[Annotated[str, Field(min_length=1)], ...]]
    gates: tuple[Gate, ...] = Field(min_length=1)
    waivers: tuple[Waiver, ...] = ()
    signing: Signing = Signing()

    @model_validator(mode="after")
    def _cross_references(self) -> Policy:
        gate_ids: set[str] = set()
        for gate in self.gates:
            if gate.id in gate_ids:
                raise ValueError(f"gate id {gate.id!r} appears twice")
            gate_ids.add(gate.id)
            for role in gate.owners:
                if role not in self.owners:
                    raise ValueError(
                        f"gate {gate.id!r} names owner role {role!r}, which is not under [owners]"
                    )
        known = {f"{g.id}.{c.id}" for g in self.gates for c in g.criteria}
        for waiver in self.waivers:
            if waiver.criterion not in known:
                raise ValueError(f"waiver names criterion {waiver.criterion!r}, which no gate has")
            if waiver.approver not in self.owners:
                raise ValueError(f"waiver approver {waiver.approver!r} is not an owner role")
        return self

    def gate(self, gate_id: str) -> Gate | None:
        """The gate with this id, or None."""
        return next((g for g in self.gates if g.id == gate_id), None)

    def roles_of(self, identity: str) -> tuple[str, ...]:
        """The owner roles that list this identity."""
        return tuple(role for role, people in self.owners.items() if identity in people)
