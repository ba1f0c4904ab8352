"""The security sign-off report (Phase-5 exit): every security result, its evidence, the
owners' sign-offs and the verdict.

The report reads the newest stored evaluation of the policy's security gates (those of
phase 5, or the ones named) for a release, or evaluates them first (:func:`evaluate`).
Their criteria are grouped by the six questions of Phase 5: dependency vulnerabilities,
credential rotation, least privilege, auth/session/token and input handling, audit
logging, incident hooks. A question no criterion answers is listed as not covered. The
verdict is the gates' own: go only when every security gate's criteria pass and every
owner role of the gate (the security owner) has a valid sign-off on that evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gonogo import __version__
from gonogo.clock import iso
from gonogo.errors import UsageError
from gonogo.gates import plan
from gonogo.gates.engine import Engine, latest_evaluation, stored_result
from gonogo.gates.results import (
    PASSING,
    AuditHead,
    CriterionResult,
    GateResult,
    Outcome,
    Verdict,
)
from gonogo.policy.model import Gate
from gonogo.scope.releases import Release
from gonogo.workspace import Workspace

SCHEMA = "gonogo.security-report/v1"
SECURITY_PHASE = 5


@dataclass(frozen=True)
class Area:
    """One question of Phase 5 and the check types that answer it."""

    id: str
    title: str
    checks: tuple[str, ...]
    command: str


AREAS: tuple[Area, ...] = (
    Area("dependencies", "Dependency vulnerabilities", ("vulns",), "gonogo deps audit"),
    Area("credentials", "Credential rotation", ("credentials",), "gonogo security credentials"),
    Area("least-privilege", "Least privilege", ("least-privilege",), "gonogo security privileges"),
    Area(
        "probe",
        "Auth, session, token and input handling",
        ("http-probe",),
        "gonogo security probe URL",
    ),
    Area("audit-log", "Audit logging", ("audit-log",), "gonogo security hooks"),
    Area("incident-hooks", "Incident response hooks", ("incident-hooks",), "gonogo security hooks"),
)


@dataclass(frozen=True)
class AreaResult:
    """The criteria of the security gates that answer one area."""

    area: Area
    criteria: tuple[CriterionResult, ...]

    @property
    def status(self) -> str:
        """``not_covered`` (no criterion), ``pass`` (every one lets the gate through), ``fail``."""
        if not self.criteria:
            return "not_covered"
        return "pass" if all(c.status in PASSING for c in self.criteria) else "fail"

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.area.id,
            "title": self.area.title,
            "checks": list(self.area.checks),
            "status": self.status,
            "criteria": [c.ref for c in self.criteria],
        }


@dataclass(frozen=True)
class GateSection:
    """A security gate's newest evaluation (or its absence) with its verdict."""

    result: GateResult
    evaluated_at: str | None

    def to_json(self) -> dict[str, Any]:
        """The gate as in the JSON report, plus when it was evaluated."""
        return {**self.result.to_json(), "evaluated_at": self.evaluated_at}


@dataclass(frozen=True)
class SecurityReport:
    """Everything ``gonogo security report`` shows."""

    project: str
    release: str | None
    generated_at: str
    tool_version: str
    policy_digest: str
    audit_head: AuditHead
    gates: tuple[GateSection, ...]
    areas: tuple[AreaResult, ...]
    others: tuple[CriterionResult, ...]

    @property
    def verdict(self) -> Verdict:
        """go only when every security gate is go (green and signed off)."""
        if self.gates and all(g.result.verdict is Verdict.GO for g in self.gates):
            return Verdict.GO
        return Verdict.NO_GO

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why a gate is no-go, each prefixed with the gate."""
        return tuple(
            f"{g.result.gate}: {reason}"
            for g in self.gates
            if g.result.verdict is Verdict.NO_GO
            for reason in g.result.reasons
        )

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        """Every criterion of the security gates, in gate order."""
        return tuple(c for g in self.gates for c in g.result.criteria)

    def to_json(self) -> dict[str, Any]:
        """The ``gonogo.security-report/v1`` document."""
        return {
            "schema": SCHEMA,
            "project": self.project,
            "release": self.release,
            "generated_at": self.generated_at,
            "tool_version": self.tool_version,
            "policy_digest": self.policy_digest,
            "audit_head": self.audit_head.to_json(),
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "areas": [a.to_json() for a in self.areas],
            "other_criteria": [c.ref for c in self.others],
            "gates": [g.to_json() for g in self.gates],
        }


def security_gates(ws: Workspace, gate_ids: Sequence[str] = ()) -> tuple[Gate, ...]:
    """The named gates, else every gate of phase 5; a one-line error when there are none."""
    policy = ws.require_policy().policy
    if gate_ids:
        known = ", ".join(g.id for g in policy.gates)
        chosen = []
        for gate_id in gate_ids:
            gate = policy.gate(gate_id)
            if gate is None:
                raise UsageError(f"no gate named {gate_id!r}", hint=f"gates are: {known}")
            chosen.append(gate)
        return tuple(chosen)
    found = tuple(g for g in policy.gates if g.phase == SECURITY_PHASE)
    if not found:
        raise UsageError(
            "the policy has no security gate (no gate with phase = 5)",
            hint="add one, or name the gate with --gate GATE",
        )
    return found


def evaluate(ws: Workspace, release: Release | None, gates: Iterable[Gate]) -> None:
    """Evaluate the gates now and store the evaluations, as ``gonogo check --gate`` does."""
    loaded = ws.require_policy()
    run_plan = plan.build(loaded, gate_ids=[g.id for g in gates])
    Engine(ws, release, jobs=loaded.policy.project.jobs).run(run_plan)


def gather(ws: Workspace, release: Release | None, gates: Iterable[Gate]) -> SecurityReport:
    """The report from the newest stored evaluation of each gate; nothing runs."""
    loaded = ws.require_policy()
    sections = tuple(_section(ws, release, gate) for gate in gates)
    criteria = [c for s in sections for c in s.result.criteria]
    covered = {check for area in AREAS for check in area.checks}
    return SecurityReport(
        project=loaded.policy.project.name,
        release=release.version if release else None,
        generated_at=iso(ws.clock.now()),
        tool_version=__version__,
        policy_digest=loaded.digest,
        audit_head=ws.audit_head(),
        gates=sections,
        areas=tuple(
            AreaResult(area, tuple(c for c in criteria if c.check in area.checks)) for area in AREAS
        ),
        others=tuple(c for c in criteria if c.check not in covered),
    )


def _section(ws: Workspace, release: Release | None, gate: Gate) -> GateSection:
    result = stored_result(ws, release, gate.id)
    if result is None:
        return GateSection(
            GateResult(
                gate=gate.id,
                title=gate.title,
                phase=gate.phase,
                owners=gate.owners,
                criteria=(),
                outcome=Outcome.FAIL,
                score=None,
                digest="",
                signoffs=(),
                verdict=Verdict.NO_GO,
                reasons=(
                    f"not evaluated yet: run `gonogo check --gate {gate.id}`, "
                    "or `gonogo security report --run`",
                ),
            ),
            evaluated_at=None,
        )
    with ws.store.read() as conn:
        stored = latest_evaluation(conn, release, gate.id)
    return GateSection(result, stored.created_at if stored else None)
