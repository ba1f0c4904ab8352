"""``least-privilege``: Kubernetes RBAC manifests and AWS IAM policies grant no more than needed.

Also home of the two helpers the other security checks share: :func:`observe` turns a
findings report into an observation, :func:`judge_findings` judges it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

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
from gonogo.gates.results import EvidenceRef, Status
from gonogo.security.findings import Report, SecurityInputError, Severity
from gonogo.security.privileges import find_files, scan

#: findings kept in an observation's details (the count is always complete)
DETAIL_LIMIT = 50


class LeastPrivilegeParams(CheckParams):
    """Parameters of the ``least-privilege`` check."""

    paths: tuple[str, ...] = Field(min_length=1)
    fail_on: Severity = Severity.MEDIUM


def observe(report: Report, fail_on: Severity, evidence: tuple[EvidenceRef, ...]) -> Observation:
    """An observation of a findings report: measured = findings at or above ``fail_on``."""
    failing = report.failing(fail_on)
    return Observation(
        measured=len(failing),
        details={
            "fail_on": fail_on.value,
            "findings": [f.to_json() for f in report.findings[:DETAIL_LIMIT]],
            "total": len(report.findings),
            "passed": [p.to_json() for p in report.passed],
            "skipped": [p.to_json() for p in report.skipped],
        },
        evidence=evidence,
    )


def judge_findings(observation: Observation, what: str) -> Judgement:
    """fail on findings at or above ``fail_on``; warn on findings below it; else pass."""
    details = observation.details
    fail_on = details["fail_on"]
    findings = details["findings"]
    failing = [f for f in findings if Severity(f["severity"]).at_least(Severity(fail_on))]
    expected = f"no finding at or above {fail_on}"
    if failing or observation.measured:
        shown = "; ".join(_brief(f) for f in failing[:3])
        more = f" (+{int(observation.measured or 0) - 3} more)" if len(failing) > 3 else ""
        return Judgement(
            Status.FAIL,
            f"{observation.measured} finding(s) at or above {fail_on}: {shown}{more}",
            expected,
        )
    if details["total"]:
        return Judgement(
            Status.WARN,
            f"{details['total']} finding(s) below {fail_on}: {_brief(findings[0])}",
            expected,
        )
    return Judgement(Status.PASS, what, expected)


def _brief(finding: dict[str, Any]) -> str:
    where = f"{finding['file']}:{finding['line']}" if finding.get("line") else finding["file"]
    return f"{where} {finding['rule']} ({finding['severity']}): {finding['reason']}"


class LeastPrivilegeCheck:
    """Reads RBAC manifests and IAM policies; measured = findings at or above ``fail_on``."""

    name: ClassVar[str] = "least-privilege"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = LeastPrivilegeParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The manifest and policy files (their content keys the cache)."""
        assert isinstance(params, LeastPrivilegeParams)  # noqa: S101 - the engine parsed it
        try:
            return CheckInputs(files=tuple(find_files(params.paths, ctx.root)))
        except SecurityInputError:
            return CheckInputs(cacheable=False)  # collect reports it

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Scan every file."""
        assert isinstance(params, LeastPrivilegeParams)  # noqa: S101 - the engine parsed it
        try:
            files = find_files(params.paths, ctx.root)
            if not files:
                raise NotReported(
                    f"no manifest or policy file matches {', '.join(params.paths)}",
                    hint="fix `paths` (files, folders or globs of YAML and JSON)",
                )
            report = scan(files, ctx.root)
        except SecurityInputError as exc:
            raise CheckError(str(exc)) from None
        return observe(report, params.fail_on, refs(files, kind="manifest", root=ctx.root))

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on findings at or above ``fail_on``."""
        files = len(observation.evidence)
        return judge_findings(observation, f"no least-privilege findings in {files} file(s)")
