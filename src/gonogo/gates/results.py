"""Typed values the gate engine produces: criterion results, gate verdicts, a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gonogo.digest import sha256_json


class Status(StrEnum):
    """Outcome of one criterion. *error* and *not_reported* are never *fail*."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    NOT_REPORTED = "not_reported"
    WAIVED = "waived"


#: statuses that let a blocking criterion through
PASSING = frozenset({Status.PASS, Status.WARN, Status.WAIVED, Status.NOT_APPLICABLE})


class Outcome(StrEnum):
    """What a gate's criteria add up to, before sign-offs."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"


class Verdict(StrEnum):
    """The gate's answer: go only when criteria pass and every owner has signed."""

    GO = "go"
    NO_GO = "no-go"


class SignoffState(StrEnum):
    """State of one owner role's sign-off on a gate."""

    VALID = "valid"
    STALE = "stale"
    MISSING = "missing"
    INVALID = "invalid"


@dataclass(frozen=True)
class EvidenceRef:
    """A piece of evidence a result rests on, with its content digest."""

    kind: str
    uri: str
    sha256: str | None = None
    excerpt: str | None = None
    binding: bool = True
    """Whether a sign-off binds to this digest. Output that differs run to run
    (a command's log) is kept as evidence but does not make sign-offs stale."""

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "uri": self.uri,
            "sha256": self.sha256,
            "excerpt": self.excerpt,
            "binding": self.binding,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvidenceRef:
        """Inverse of :meth:`to_json`."""
        return cls(
            kind=str(data["kind"]),
            uri=str(data["uri"]),
            sha256=data.get("sha256"),
            excerpt=data.get("excerpt"),
            binding=bool(data.get("binding", True)),
        )


Scalar = float | int | str | bool | None


@dataclass(frozen=True)
class CriterionResult:
    """The judged result of one criterion."""

    gate: str
    criterion: str
    check: str
    title: str
    status: Status
    reason: str
    measured: Scalar = None
    expected: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceRef, ...] = ()
    blocking: bool = True
    duration: float = 0.0
    cached: bool = False
    input_digest: str | None = None
    waiver: dict[str, str] | None = None

    @property
    def ref(self) -> str:
        """``gate.criterion``, the id waivers and ingest use."""
        return f"{self.gate}.{self.criterion}"

    def fingerprint(self) -> dict[str, Any]:
        """What a sign-off approves: outcome and evidence, not timing or cache state."""
        return {
            "criterion": self.criterion,
            "check": self.check,
            "status": self.status.value,
            "measured": self.measured,
            "expected": self.expected,
            "evidence": sorted((e.kind, e.uri, e.sha256 or "") for e in self.evidence if e.binding),
            "waiver": self.waiver,
        }

    def to_json(self) -> dict[str, Any]:
        """JSON form (stable: documented in docs/json.md)."""
        return {
            "gate": self.gate,
            "criterion": self.criterion,
            "check": self.check,
            "title": self.title,
            "status": self.status.value,
            "reason": self.reason,
            "measured": self.measured,
            "expected": self.expected,
            "details": self.details,
            "evidence": [e.to_json() for e in self.evidence],
            "blocking": self.blocking,
            "duration": round(self.duration, 6),
            "cached": self.cached,
            "input_digest": self.input_digest,
            "waiver": self.waiver,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CriterionResult:
        """Inverse of :meth:`to_json`."""
        return cls(
            gate=str(data["gate"]),
            criterion=str(data["criterion"]),
            check=str(data["check"]),
            title=str(data["title"]),
            status=Status(data["status"]),
            reason=str(data["reason"]),
            measured=data.get("measured"),
            expected=data.get("expected"),
            details=dict(data.get("details") or {}),
            evidence=tuple(EvidenceRef.from_json(e) for e in data.get("evidence") or ()),
            blocking=bool(data.get("blocking", True)),
            duration=float(data.get("duration", 0.0)),
            cached=bool(data.get("cached", False)),
            input_digest=data.get("input_digest"),
            waiver=data.get("waiver"),
        )


@dataclass(frozen=True)
class RoleSignoff:
    """One owner role's sign-off state on a gate."""

    role: str
    state: SignoffState
    identity: str | None = None
    signed_at: str | None = None
    signed: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "role": self.role,
            "state": self.state.value,
            "identity": self.identity,
            "signed_at": self.signed_at,
            "cryptographic": self.signed,
            "note": self.note,
        }


@dataclass(frozen=True)
class GateResult:
    """A gate's evaluation: its criteria, their outcome, sign-offs and verdict."""

    gate: str
    title: str
    phase: int
    owners: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]
    outcome: Outcome
    score: float | None
    digest: str
    signoffs: tuple[RoleSignoff, ...]
    verdict: Verdict
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.gate,
            "title": self.title,
            "phase": self.phase,
            "owners": list(self.owners),
            "outcome": self.outcome.value,
            "score": self.score,
            "digest": self.digest,
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "signoffs": [s.to_json() for s in self.signoffs],
            "criteria": [c.to_json() for c in self.criteria],
        }


def evaluation_digest(gate: str, criteria: tuple[CriterionResult, ...]) -> str:
    """Digest of a gate's evaluation: what a sign-off binds to."""
    return sha256_json({"gate": gate, "criteria": [c.fingerprint() for c in criteria]})


@dataclass(frozen=True)
class AuditHead:
    """The newest event of the audit trail, quoted in every report."""

    seq: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"seq": self.seq, "hash": self.hash}


@dataclass(frozen=True)
class RunReport:
    """Everything one ``gonogo check`` or ``gonogo status`` reports."""

    project: str
    release: str | None
    generated_at: str
    policy_digest: str
    gates: tuple[GateResult, ...]
    audit_head: AuditHead | None
    tool_version: str
    approvals: tuple[RoleSignoff, ...] = ()
    """Phase-1 approvals of the policy itself, per owner role (status reports)."""

    @property
    def verdict(self) -> Verdict:
        """go only when every reported gate is go."""
        if self.gates and all(g.verdict is Verdict.GO for g in self.gates):
            return Verdict.GO
        return Verdict.NO_GO

    def counts(self) -> dict[str, int]:
        """Number of criteria per status."""
        counts = {s.value: 0 for s in Status}
        for gate in self.gates:
            for criterion in gate.criteria:
                counts[criterion.status.value] += 1
        return counts
