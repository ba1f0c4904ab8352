"""``lint``: lint findings from ruff (its JSON) or any linter that writes SARIF."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from pydantic import Field

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.checks.tool import (
    ToolOutput,
    ToolParams,
    command_argv,
    project_path,
    tool_inputs,
    tool_output,
    working_folder,
)
from gonogo.digest import sha256_json
from gonogo.errors import EvidenceError
from gonogo.evidence.sarif import Finding, Level, LintFormat, LintReport, parse_lint
from gonogo.gates.results import EvidenceRef, Status

#: how many findings a result keeps in its details (and the CI's SARIF shows)
KEPT_FINDINGS = 50


class LintParams(ToolParams):
    """Parameters of the ``lint`` check."""

    format: LintFormat = "auto"
    max_issues: int = Field(default=0, ge=0)
    min_level: Level = "warning"


class LintCheck:
    """Runs ruff (or reads its JSON, or any SARIF); the measured value is the issue count."""

    name: ClassVar[str] = "lint"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = LintParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report files, or the ``inputs`` globs when the linter runs."""
        assert isinstance(params, LintParams)  # noqa: S101 - the engine parsed it
        return tool_inputs(params, _argv(params), ctx)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run the linter or read its report; count the findings at ``min_level`` or above."""
        assert isinstance(params, LintParams)  # noqa: S101 - the engine parsed it
        cwd = working_folder(params.cwd, ctx)
        argv = _argv(params) if params.will_run() else None
        output = tool_output(argv, path=params.path, cwd=cwd, ctx=ctx, what="lint report")
        report = _parse(output, params)
        counted = report.at_least(params.min_level)
        findings = [_relative(f, output, ctx) for f in counted]
        return Observation(
            measured=len(findings),
            details={
                "issues": len(findings),
                "tools": list(report.tools),
                "by_rule": dict(list(LintReport.by_rule(tuple(findings)).items())[:20]),
                "suppressed": report.suppressed,
                "below_level": len(report.findings) - len(counted),
                "findings": [f.to_json() for f in findings[:KEPT_FINDINGS]],
                **output.details(),
            },
            evidence=(*output.evidence, _findings_ref(findings)),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass with at most ``max_issues`` findings, or within the criterion's threshold."""
        assert isinstance(params, LintParams)  # noqa: S101 - the engine parsed it
        bar = bound if bound is not None else Bound(max=params.max_issues)
        issues = int(observation.measured or 0)
        counted = f"{issues} lint issue{'' if issues == 1 else 's'}"
        if bar.admits(issues):
            return Judgement(Status.PASS, counted if issues else "no lint issues", bar.describe())
        rules = ", ".join(f"{r}: {n}" for r, n in list(observation.details["by_rule"].items())[:4])
        first = observation.details["findings"][0] if observation.details["findings"] else None
        where = f"; first: {_where(first)}" if first else ""
        return Judgement(
            Status.FAIL, f"{counted} ({rules}), expected {bar.describe()}{where}", bar.describe()
        )


def _argv(params: LintParams) -> list[str]:
    if params.run is not None:
        return command_argv(params.run)
    return ["ruff", "check", "--output-format", "json", *params.args, *params.targets]


def _parse(output: ToolOutput, params: LintParams) -> LintReport:
    tools: list[str] = []
    findings: list[Finding] = []
    suppressed = 0
    for name, content in output.sources:
        try:
            report = parse_lint(content, source=name, fmt=params.format)
        except EvidenceError as error:
            raise output.parse_error(error) from None
        tools.extend(report.tools)
        findings.extend(report.findings)
        suppressed += report.suppressed
    return LintReport(tuple(dict.fromkeys(tools)), tuple(findings), suppressed)


def _relative(finding: Finding, output: ToolOutput, ctx: CheckContext) -> Finding:
    if finding.path is None:
        return finding
    path = project_path(finding.path, base=output.base, root=ctx.root)
    return replace(finding, path=path)


def _findings_ref(findings: list[Finding]) -> EvidenceRef:
    """The findings themselves (paths relative to the project) bind a sign-off."""
    listed = sorted([f.path or "", f.line or 0, f.rule, f.message] for f in findings)
    return EvidenceRef(
        kind="lint-findings", uri=f"{len(findings)} findings", sha256=sha256_json(listed)
    )


def _where(finding: dict[str, Any]) -> str:
    place = finding.get("path") or "?"
    if finding.get("line"):
        place += f":{finding['line']}"
    return f"{place} {finding.get('rule')} {finding.get('message')}"[:200]
