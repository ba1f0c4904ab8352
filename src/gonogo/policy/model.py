"""The policy: what "production ready" means for one project, as typed values.

Parsed from ``gonogo.toml`` (or ``[tool.gonogo]`` in ``pyproject.toml``) and
validated here. Every model is frozen: a loaded policy never changes.
"""

from __future__ import annotations

import math
import re
from datetime import date
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.policy.credentials import Security
from gonogo.policy.environments import EnvPolicy
from gonogo.rollout.plan import RolloutPlan
from gonogo.strict import StrictModel

IDENT = r"^[a-z][a-z0-9_-]*$"
ident_pattern = re.compile(IDENT)

Ident = Annotated[str, Field(pattern=IDENT, max_length=64)]

STANDARD_ROLES = ("engineering", "qa", "security", "operations")


Located = tuple[tuple[str | int, ...], str]
"""A problem found after parsing: the key path (relative to the model) and the message."""


class LocatedErrors(ValueError):
    """Cross-field problems of one model, each at the key path it is about.

    Pydantic reports a model validator's error at the model itself; the loader
    reads ``problems`` from the error's context to point at the exact key and line.
    """

    def __init__(self, problems: list[Located]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


class Aggregation(StrEnum):
    """How a gate combines its criteria."""

    ALL = "all"
    WEIGHTED = "weighted"


class Threshold(StrictModel):
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


class AppliesIf(StrictModel):
    """A criterion applies only when one of these globs matches a path in the project."""

    exists: tuple[str, ...] = Field(min_length=1)

    @field_validator("exists")
    @classmethod
    def _globs(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if not pattern or PurePosixPath(pattern).is_absolute():
                raise ValueError(
                    f"{pattern!r} is not a path in the project: give a relative path or glob"
                )
            if any(part != "**" and "**" in part for part in PurePosixPath(pattern).parts):
                raise ValueError(
                    f"{pattern!r}: `**` must be a whole path segment, as in src/**/*.py"
                )
        return patterns


class Criterion(StrictModel):
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
    timeout: float = Field(default=300.0, gt=0, le=MAX_WAIT_S)

    @field_validator("params")
    @classmethod
    def _finite_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _has_non_finite(value):
            raise ValueError("params must not hold nan or inf (they have no JSON form)")
        return value


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


class Gate(StrictModel):
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
        found: list[Located] = []
        seen: set[str] = set()
        for index, criterion in enumerate(self.criteria):
            if criterion.id in seen:
                found.append(
                    (
                        ("criteria", index, "id"),
                        f"criterion id {criterion.id!r} appears twice in gate {self.id!r}",
                    )
                )
            seen.add(criterion.id)
        if self.warn_score > self.pass_score:
            found.append(
                (
                    ("warn_score",),
                    f"`warn_score` must not be above `pass_score` "
                    f"(found {self.warn_score:g} > {self.pass_score:g})",
                )
            )
        if found:
            raise LocatedErrors(found)
        return self


class Waiver(StrictModel):
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


class Signing(StrictModel):
    """Optional cryptographic sign-offs (ssh-keygen -Y, git's allowed_signers)."""

    allowed_signers: str | None = None
    required: bool = False
    namespace: str = "gonogo-signoff"


class DepsException(StrictModel):
    """An approved, time-boxed exception for one vulnerability advisory (id or alias)."""

    id: Annotated[str, Field(min_length=3, max_length=128, pattern=r"^\S+$")]
    reason: Annotated[str, Field(min_length=3)]
    approver: Ident
    expires: date

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an exception needs a reason")
        return value


class Deps(StrictModel):
    """Dependency-vulnerability audit: threshold, unscored advisories, database, exceptions."""

    threshold: Literal["low", "medium", "high", "critical"] = "high"
    fail_unscored: bool = True
    db: str | None = None
    exceptions: tuple[DepsException, ...] = ()


class Project(StrictModel):
    """Project-level settings."""

    name: Annotated[str, Field(min_length=1)]
    jobs: int = Field(default=4, ge=1, le=64)


class Policy(StrictModel):
    """The whole release policy."""

    version: Literal[1] = 1
    project: Project
    owners: dict[Ident, tuple[Annotated[str, Field(min_length=1)], ...]]
    gates: tuple[Gate, ...] = Field(min_length=1)
    waivers: tuple[Waiver, ...] = ()
    signing: Signing = Signing()
    deps: Deps = Deps()
    rollout: RolloutPlan | None = None
    env: EnvPolicy = EnvPolicy()
    security: Security = Security()

    @model_validator(mode="after")
    def _cross_references(self) -> Policy:
        found: list[Located] = []
        roles = ", ".join(self.owners) or "none"
        first_at: dict[str, int] = {}
        for gi, gate in enumerate(self.gates):
            if gate.id in first_at:
                found.append(
                    (
                        ("gates", gi, "id"),
                        f"gate id {gate.id!r} appears twice (first at gates[{first_at[gate.id]}])",
                    )
                )
            first_at.setdefault(gate.id, gi)
            for ri, role in enumerate(gate.owners):
                if role not in self.owners:
                    found.append(
                        (
                            ("gates", gi, "owners", ri),
                            f"gate {gate.id!r} names owner role {role!r}, which is not under "
                            f"[owners] (roles there: {roles})",
                        )
                    )
        known = {f"{g.id}.{c.id}" for g in self.gates for c in g.criteria}
        for wi, waiver in enumerate(self.waivers):
            if waiver.criterion not in known:
                found.append(
                    (
                        ("waivers", wi, "criterion"),
                        f"waiver names criterion {waiver.criterion!r}, which no gate has "
                        "(expected GATE.CRITERION of a criterion in this policy)",
                    )
                )
            if waiver.approver not in self.owners:
                found.append(
                    (
                        ("waivers", wi, "approver"),
                        f"waiver approver {waiver.approver!r} is not an owner role "
                        f"(roles: {roles})",
                    )
                )
        for ei, exception in enumerate(self.deps.exceptions):
            if exception.approver not in self.owners:
                found.append(
                    (
                        ("deps", "exceptions", ei, "approver"),
                        f"exception approver {exception.approver!r} is not an owner role "
                        f"(roles: {roles})",
                    )
                )
        found.extend(self.security.role_problems(self.owners))
        found.extend(self._rollout_references())
        if found:
            raise LocatedErrors(found)
        return self

    def _rollout_references(self) -> list[Located]:
        if self.rollout is None:
            return []
        gate_ids = {g.id for g in self.gates}
        return [
            (
                ("rollout", "staging", "gates", si),
                f"staging gate {gate_id!r} is not a gate of this policy "
                f"(gates: {', '.join(sorted(gate_ids))})",
            )
            for si, gate_id in enumerate(self.rollout.staging.gates)
            if gate_id not in gate_ids
        ]

    def gate(self, gate_id: str) -> Gate | None:
        """The gate with this id, or None."""
        return next((g for g in self.gates if g.id == gate_id), None)

    def roles_of(self, identity: str) -> tuple[str, ...]:
        """The owner roles that list this identity."""
        return tuple(role for role, people in self.owners.items() if identity in people)
