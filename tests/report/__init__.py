"""Tests of the report renderers, with a small factory of hand-built run reports."""

from __future__ import annotations

from gonogo.gates.results import (
    PASSING,
    AuditHead,
    CriterionResult,
    EvidenceRef,
    GateResult,
    Outcome,
    RoleSignoff,
    RunReport,
    Scalar,
    SignoffState,
    Status,
    Verdict,
    evaluation_digest,
)

AUDIT_HASH = "3fa9c1d2e4b5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f"


def criterion(
    criterion_id: str = "unit-tests",
    *,
    gate: str = "quality",
    status: Status = Status.PASS,
    reason: str = "120 of 120 tests passed",
    measured: Scalar = 0.98,
    expected: str | None = ">= 0.95",
    title: str | None = None,
    cached: bool = False,
    blocking: bool = True,
    duration: float = 1.25,
    evidence_digest: str | None = "ab" * 32,
) -> CriterionResult:
    """One criterion result; by default a passing unit-test criterion with evidence."""
    evidence: tuple[EvidenceRef, ...] = ()
    if evidence_digest is not None:
        evidence = (EvidenceRef("junit", f"reports/{criterion_id}.xml", evidence_digest),)
    return CriterionResult(
        gate=gate,
        criterion=criterion_id,
        check="junit",
        title=title if title is not None else criterion_id.replace("-", " ").capitalize(),
        status=status,
        reason=reason,
        measured=measured,
        expected=expected,
        evidence=evidence,
        blocking=blocking,
        duration=duration,
        cached=cached,
        input_digest="cd" * 32,
    )


def signoff(
    role: str,
    state: SignoffState = SignoffState.VALID,
    identity: str | None = "quinn@example.com",
) -> RoleSignoff:
    """One role's sign-off; who and when are set unless it is missing."""
    if state is SignoffState.MISSING:
        return RoleSignoff(role=role, state=state)
    return RoleSignoff(role=role, state=state, identity=identity, signed_at="2026-11-27T10:00:00Z")


def gate(
    gate_id: str = "quality",
    *,
    criteria: tuple[CriterionResult, ...] | None = None,
    owners: tuple[str, ...] = ("qa",),
    signoffs: tuple[RoleSignoff, ...] | None = None,
    score: float | None = None,
    phase: int = 1,
    reasons: tuple[str, ...] = (),
    digest: str | None = None,
) -> GateResult:
    """A gate whose outcome and verdict follow from its criteria and sign-offs."""
    if criteria is None:
        criteria = (criterion(gate=gate_id),)
    if signoffs is None:
        signoffs = tuple(signoff(role) for role in owners)
    blocking = [c for c in criteria if c.blocking]
    if any(c.status not in PASSING for c in blocking):
        outcome = Outcome.FAIL
    elif any(c.status is Status.WARN for c in criteria):
        outcome = Outcome.WARN
    else:
        outcome = Outcome.PASS
    signed = all(s.state is SignoffState.VALID for s in signoffs)
    verdict = Verdict.GO if outcome is not Outcome.FAIL and signed else Verdict.NO_GO
    return GateResult(
        gate=gate_id,
        title=gate_id.capitalize(),
        phase=phase,
        owners=owners,
        criteria=criteria,
        outcome=outcome,
        score=score,
        digest=digest or evaluation_digest(gate_id, criteria),
        signoffs=signoffs,
        verdict=verdict,
        reasons=reasons,
    )


def report(
    *gates: GateResult,
    release: str | None = "1.4.0",
    audit_seq: int | None = 12,
    approvals: tuple[RoleSignoff, ...] = (),
) -> RunReport:
    """A run report of ``gates`` for project ``shop``."""
    return RunReport(
        approvals=approvals,
        project="shop",
        release=release,
        generated_at="2026-11-27T12:00:00Z",
        policy_digest="9e" * 32,
        gates=gates,
        audit_head=AuditHead(audit_seq, AUDIT_HASH) if audit_seq is not None else None,
        tool_version="0.1.0",
    )


def go_report() -> RunReport:
    """Every gate go: four gates, criteria pass or warn, all sign-offs valid."""
    return report(
        gate("features", criteria=(criterion("stories-done", gate="features"),), owners=("pm",)),
        gate("quality", owners=("qa",), score=0.92),
        gate(
            "security",
            phase=5,
            criteria=(criterion("vulns", gate="security", status=Status.WARN, measured=1),),
            owners=("security",),
        ),
        gate("operations", phase=6, owners=()),
    )


def mixed_report() -> RunReport:
    """No-go: every status appears, with stale, missing and invalid sign-offs."""
    quality = (
        criterion("unit-tests", status=Status.PASS, cached=True),
        criterion(
            "coverage",
            status=Status.FAIL,
            measured=0.81,
            expected=">= 0.90",
            reason="coverage 81% < 90% | in src/pay\nsee report & fix",
        ),
        criterion("lint", status=Status.WARN, measured=3, expected="0", reason="3 warnings"),
        criterion("perf", status=Status.NOT_REPORTED, measured=None, reason="no result ingested"),
        criterion("flaky", status=Status.WAIVED, reason="waived until 2026-12-01", blocking=False),
    )
    security = (
        criterion(
            "vulns", gate="security", status=Status.ERROR, measured=None, reason="OSV db missing"
        ),
        criterion(
            "sbom",
            gate="security",
            status=Status.NOT_APPLICABLE,
            measured=None,
            reason="no artifacts",
        ),
    )
    return report(
        gate(
            "quality",
            criteria=quality,
            owners=("qa", "dev"),
            signoffs=(signoff("qa", SignoffState.STALE, "quinn"), signoff("dev")),
            score=0.71,
            reasons=("coverage failed", "qa sign-off is stale"),
        ),
        gate(
            "security",
            phase=5,
            criteria=security,
            owners=("security", "ops"),
            signoffs=(
                signoff("security", SignoffState.MISSING),
                signoff("ops", SignoffState.INVALID),
            ),
            reasons=("vulns errored",),
        ),
        gate("features", criteria=(criterion("stories", gate="features"),), owners=("pm",)),
    )


def table_rows(markdown: str) -> list[str]:
    """Body rows of every criteria table (header and delimiter rows left out)."""
    return [
        line
        for line in markdown.split("\n")  # Markdown's lines, not str.splitlines'
        if line.startswith("| ") and not line.startswith(("| status ", "| --- "))
    ]


def cells(row: str) -> list[str]:
    """A row's cells, split on unescaped pipes."""
    parts: list[str] = [""]
    escaped = False
    for char in row.strip()[1:-1]:
        if char == "|" and not escaped:
            parts.append("")
        else:
            parts[-1] += char
        escaped = char == "\\" and not escaped
    return [part.strip() for part in parts]
