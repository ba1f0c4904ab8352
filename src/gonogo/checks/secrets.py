"""``secrets``: no secret in the tree (or its history) beyond those a baseline accepts."""

from __future__ import annotations

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
from gonogo.digest import sha256_json
from gonogo.errors import GonogoError
from gonogo.gates.results import EvidenceRef, Status
from gonogo.secrets import ScanRequest, run_scan

_LISTED = 3


class SecretsParams(CheckParams):
    """Parameters of the ``secrets`` check."""

    path: str = "."
    history: bool = False
    baseline: str | None = None
    rules: str | None = None


class SecretsCheck:
    """Scans the project for secrets; the measured value is the number not in the baseline."""

    name: ClassVar[str] = "secrets"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = SecretsParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Never cached: the tree and its history change without a single file to digest."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run the scan; its errors (bad rules, baseline, no git for history) are *error*."""
        assert isinstance(params, SecretsParams)  # noqa: S101 - the engine parsed it
        root = ctx.resolve(params.path)
        if not root.is_dir():
            raise CheckError(f"{params.path} is not a folder", hint="fix `path`")
        request = ScanRequest(
            root=root,
            history=params.history,
            baseline=ctx.resolve(params.baseline) if params.baseline else None,
            rules=ctx.resolve(params.rules) if params.rules else None,
        )
        try:
            result = run_scan(request)
        except GonogoError as exc:
            raise CheckError(exc.message, hint=exc.hint) from None
        listed = [
            f"{f.path}:{f.line} {f.rule_id}" + (f" ({f.commit[:12]})" if f.commit else "")
            for f in result.findings
        ]
        evidence = [
            EvidenceRef(
                kind="secrets-scan",
                uri=params.path,
                sha256=sha256_json(sorted(f.fingerprint for f in result.findings)),
                excerpt=f"{len(result.findings)} finding(s), {len(result.suppressed)} baselined",
            )
        ]
        if params.baseline:
            evidence.append(
                EvidenceRef(
                    kind="secrets-baseline", uri=params.baseline, sha256=result.baseline_sha256
                )
            )
        return Observation(
            measured=len(result.findings),
            details={
                "findings": len(result.findings),
                "suppressed": len(result.suppressed),
                "files": result.files,
                "commits": result.commits,
                "warnings": [f"{n.path}: {n.message}" for n in result.warnings][:10],
                "warning_count": len(result.warnings),
                "listed": listed[:20],
                "fingerprints": [f.fingerprint for f in result.findings][:100],
                "baseline_sha256": result.baseline_sha256,
            },
            evidence=tuple(evidence),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on any finding the baseline does not list; warn when files went unread."""
        d = observation.details
        expected = "no secrets outside the baseline"
        scope = f"{d['files']} files" + (f" and {d['commits']} commits" if d["commits"] else "")
        if d["findings"]:
            shown = ", ".join(d["listed"][:_LISTED])
            more = d["findings"] - min(_LISTED, len(d["listed"]))
            tail = f" and {more} more" if more > 0 else ""
            return Judgement(
                Status.FAIL, f"{d['findings']} secret(s) found in {scope}: {shown}{tail}", expected
            )
        baselined = f" ({d['suppressed']} baselined)" if d["suppressed"] else ""
        if d["warnings"]:
            return Judgement(
                Status.WARN,
                f"no secrets in {scope}{baselined}, but {d['warning_count']} file(s) could "
                f"not be read: {d['warnings'][0]}",
                expected,
            )
        return Judgement(Status.PASS, f"no secrets in {scope}{baselined}", expected)
