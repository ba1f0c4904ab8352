"""``audit-log``: the service writes one structured (JSON) audit line per declared event."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.checks.least_privilege import judge_findings, observe
from gonogo.digest import sha256_json
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef
from gonogo.security.findings import Severity
from gonogo.security.hooks import check_audit_log
from gonogo.security.policy import AuditLogParams


class AuditLogCheck:
    """Exercises the service and reads its audit log; measured = findings (missing events …)."""

    name: ClassVar[str] = "audit-log"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = AuditLogParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """A live service: never cached."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Send the requests, then read the lines the log gained."""
        assert isinstance(params, AuditLogParams)  # noqa: S101 - the engine parsed it
        log = ctx.resolve(params.log)
        try:
            report = check_audit_log(params, log, os.environ, label=params.log)
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        digest = sha256_json({"findings": [f.to_json() for f in report.findings]})
        evidence = (EvidenceRef(kind="audit-log", uri=params.log, sha256=digest),)
        return observe(report, Severity.LOW, evidence)

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on any finding: a missing event, an unstructured line, a secret in the log."""
        events = len(observation.details.get("passed", []))
        return judge_findings(observation, f"{events} audit event(s) logged as JSON")
