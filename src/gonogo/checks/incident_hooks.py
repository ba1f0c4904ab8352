"""``incident-hooks``: each incident hook (PagerDuty, Alertmanager, Slack) accepts a test event."""

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
from gonogo.security.hooks import check_hooks
from gonogo.security.policy import IncidentHooksParams


class IncidentHooksCheck:
    """Sends a test event to each hook; measured = hooks that did not accept it."""

    name: ClassVar[str] = "incident-hooks"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = IncidentHooksParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Live hooks: never cached."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Send the test events."""
        assert isinstance(params, IncidentHooksParams)  # noqa: S101 - the engine parsed it
        try:
            report = check_hooks(params.hooks, os.environ, timeout=params.timeout)
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        digest = sha256_json(
            {
                "hooks": [h.name for h in params.hooks],
                "failing": [f.subject for f in report.findings],
            }
        )
        evidence = (EvidenceRef(kind="incident-hooks", uri=report.target, sha256=digest),)
        return observe(report, Severity.LOW, evidence)

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail when any hook refused its test event or could not be reached."""
        hooks = len(observation.details.get("passed", []))
        return judge_findings(observation, f"{hooks} hook(s) accepted a test event")
