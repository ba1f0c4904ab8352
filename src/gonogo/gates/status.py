"""Where a release stands, from what is stored: no check runs."""

from __future__ import annotations

from gonogo import __version__
from gonogo.clock import iso
from gonogo.gates import signoffs
from gonogo.gates.engine import stored_result
from gonogo.gates.results import GateResult, Outcome, RoleSignoff, RunReport, Verdict
from gonogo.scope.releases import Release
from gonogo.workspace import Workspace


def approvals(ws: Workspace, release: Release | None) -> tuple[RoleSignoff, ...]:
    """Each owner role's approval of the current policy (Phase-1 exit)."""
    loaded = ws.require_policy()
    roles = tuple(loaded.policy.owners)
    latest: dict[str, signoffs.StoredSignoff] = {}
    if release is not None:
        with ws.store.read() as conn:
            latest = signoffs.latest_by_role(
                conn, release, signoffs.POLICY, signoffs.POLICY_SUBJECT
            )
    return signoffs.states(loaded, roles, latest, digest=loaded.digest, release=release)


def status(ws: Workspace, release: Release | None) -> RunReport:
    """Every gate's newest stored evaluation, sign-offs and verdict, plus policy approvals."""
    loaded = ws.require_policy()
    gates: list[GateResult] = []
    for gate in loaded.policy.gates:
        result = stored_result(ws, release, gate.id)
        if result is None:
            result = GateResult(
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
                reasons=("not evaluated yet: run `gonogo check`",),
            )
        gates.append(result)
    return RunReport(
        project=loaded.policy.project.name,
        release=release.version if release else None,
        generated_at=iso(ws.clock.now()),
        policy_digest=loaded.digest,
        gates=tuple(gates),
        audit_head=ws.audit_head(),
        tool_version=__version__,
        approvals=approvals(ws, release),
    )
