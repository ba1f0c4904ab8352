"""``vulns``: known vulnerabilities in the project's dependencies (offline OSV database).

Reads lockfiles, requirements files, ``pyproject.toml`` or an installed
environment, matches them against an OSV folder and fails when a vulnerability
at or above the threshold has no exception in force. The threshold, the
unscored rule, the database and the exceptions come from the policy's
``[deps]`` table unless the criterion's parameters say otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    NotReported,
    Observation,
)
from gonogo.checks.reports import refs
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status
from gonogo.policy.load import find_policy, load_policy
from gonogo.policy.model import Deps
from gonogo.security.audit_inputs import audit_policy, gather, resolve_db, run

_LISTED = 10


class VulnsParams(CheckParams):
    """Parameters of the ``vulns`` check."""

    paths: tuple[str, ...] = (".",)
    installed: bool = False
    python: str | None = None
    db: str | None = None
    threshold: Literal["low", "medium", "high", "critical"] | None = None
    ignore_unscored: bool | None = None


def _policy_deps(root: Path) -> Deps:
    try:
        return load_policy(find_policy(root)).policy.deps
    except GonogoError:
        return Deps()  # the engine validated the policy already; a bare run uses defaults


def _db_fingerprint(db: Path) -> list[tuple[str, int, int]]:
    """Names, sizes and modification times of the database files (not their content:
    a full OSV snapshot is hundreds of MB)."""
    if not db.is_dir():
        return []
    out = []
    for path in sorted(db.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out.append((str(path.relative_to(db)), stat.st_size, stat.st_mtime_ns))
    return out


class VulnsCheck:
    """Audits dependencies; the measured value is the number of blocking vulnerabilities."""

    name: ClassVar[str] = "vulns"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = VulnsParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def _paths(self, params: VulnsParams, ctx: CheckContext) -> list[Path]:
        return [ctx.resolve(p) for p in params.paths]

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The dependency files, the database listing, the rules and today's date
        (exceptions expire)."""
        assert isinstance(params, VulnsParams)  # noqa: S101 - the engine parsed it
        if params.installed:
            return CheckInputs(cacheable=False)  # an environment changes without a file
        deps = _policy_deps(ctx.root)
        db = resolve_db(Path(params.db) if params.db else None, deps, ctx.root)
        try:
            files = gather(self._paths(params, ctx)).files
        except GonogoError:
            return CheckInputs(cacheable=False)
        return CheckInputs(
            files=files,
            values={
                "deps": deps.model_dump(mode="json"),
                "db": _db_fingerprint(db),
                "today": datetime.now(UTC).date().isoformat(),
            },
        )

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Audit the dependencies against the database."""
        assert isinstance(params, VulnsParams)  # noqa: S101 - the engine parsed it
        deps = _policy_deps(ctx.root)
        db = resolve_db(Path(params.db) if params.db else None, deps, ctx.root)
        fail_unscored = None if params.ignore_unscored is None else not params.ignore_unscored
        try:
            policy = audit_policy(deps, threshold=params.threshold, fail_unscored=fail_unscored)
            inputs = gather(
                self._paths(params, ctx), python=params.python, installed=params.installed
            )
        except GonogoError as exc:
            missing = [p for p in params.paths if not ctx.resolve(p).exists()]
            if missing and not params.installed:
                raise NotReported(
                    f"no dependency file at {', '.join(missing)}", hint=exc.hint
                ) from None
            raise CheckError(str(exc)) from None
        try:
            report = run(inputs, db, policy, today=datetime.now(UTC).date())
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        blocking = report.blocking
        evidence: tuple[EvidenceRef, ...] = refs(list(inputs.files), kind="lockfile", root=ctx.root)
        return Observation(
            measured=len(blocking),
            details={
                "threshold": str(policy.threshold),
                "fail_unscored": policy.fail_unscored,
                "packages": len(report.scanned),
                "vulnerabilities": len(report.findings),
                "blocking": len(blocking),
                "excepted": sum(1 for f in report.findings if f.excepted),
                "listed": [
                    f"{f.dependency.name} {f.dependency.version} {f.advisory.id} "
                    f"({f.rating.severity})"
                    for f in blocking[:_LISTED]
                ],
                "advisories": report.advisories,
                "database": str(db),
            },
            evidence=evidence,
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on any blocking vulnerability; pass otherwise (the reason gives the counts)."""
        d = observation.details
        rule = "" if d["fail_unscored"] else ", unscored allowed"
        expected = f"no vulnerability at or above {d['threshold']} without an exception{rule}"
        summary = (
            f"{d['vulnerabilities']} vulnerabilities in {d['packages']} packages, "
            f"{d['excepted']} excepted"
        )
        if d["blocking"]:
            listed = ", ".join(d["listed"][:3])
            return Judgement(
                Status.FAIL, f"{d['blocking']} blocking ({listed}); {summary}", expected
            )
        return Judgement(Status.PASS, summary, expected)
