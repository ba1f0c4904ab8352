"""``http-probe``: a running service's headers, cookies, access control, JWTs, logout and errors."""

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
from gonogo.security.httpclient import redact_url
from gonogo.security.policy import HttpProbeParams
from gonogo.security.probe import run


class HttpProbeCheck:
    """Probes the service at ``url``; measured = findings at or above ``fail_on``."""

    name: ClassVar[str] = "http-probe"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = HttpProbeParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """A live service: never cached."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run the probe; an unreachable service is an error, not a failure."""
        assert isinstance(params, HttpProbeParams)  # noqa: S101 - the engine parsed it
        settings = params.model_copy(update={"ca_file": _resolve(params.ca_file, ctx)})
        try:
            report = run(params.url, settings, os.environ)
        except GonogoError as exc:
            raise CheckError(str(exc)) from None
        digest = sha256_json(
            {
                "findings": [f.to_json() for f in report.findings],
                "passed": [p.rule for p in report.passed],
            }
        )
        evidence = (EvidenceRef(kind="http-probe", uri=redact_url(params.url), sha256=digest),)
        return observe(report, params.fail_on, evidence)

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on findings at or above ``fail_on``."""
        checked = len(observation.details.get("passed", []))
        return judge_findings(observation, f"{checked} probe(s) passed, no findings")


def _resolve(path: str | None, ctx: CheckContext) -> str | None:
    return None if path is None else str(ctx.resolve(path))
