"""``typecheck``: type errors from mypy or pyright, overall and per critical module."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, ClassVar, Literal

from pydantic import Field

from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
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
from gonogo.evidence.typecheck import Diagnostic, TypeFormat, TypeReport, parse_typecheck
from gonogo.gates.results import EvidenceRef, Status

#: how many diagnostics a result keeps in its details (and the CI's SARIF shows)
KEPT_DIAGNOSTICS = 50


class TypecheckParams(ToolParams):
    """Parameters of the ``typecheck`` check."""

    tool: Literal["mypy", "pyright"] = "mypy"
    format: TypeFormat = "auto"
    max_errors: int = Field(default=0, ge=0)
    modules: dict[str, int] = Field(default_factory=dict)
    """Critical modules (path, folder, glob or dotted name) and the errors each may have."""


class TypecheckCheck:
    """Runs mypy or pyright, or reads their output; the measured value is the error count."""

    name: ClassVar[str] = "typecheck"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = TypecheckParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report files, or the ``inputs`` globs when the type checker runs."""
        assert isinstance(params, TypecheckParams)  # noqa: S101 - the engine parsed it
        return tool_inputs(params, _argv(params, json=True), ctx)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run the type checker or read its output; count errors overall and per module."""
        assert isinstance(params, TypecheckParams)  # noqa: S101 - the engine parsed it
        output = _output(params, ctx)
        report = _parse(output, params)
        errors = [_relative(d, output, ctx) for d in report.errors]
        per_module = {
            pattern: sum(1 for d in errors if in_module(d.path, pattern))
            for pattern in params.modules
        }
        return Observation(
            measured=len(errors),
            details={
                "tool": report.tool,
                "errors": len(errors),
                "warnings": len(report.warnings),
                "modules": per_module,
                "findings": [d.to_json() for d in errors[:KEPT_DIAGNOSTICS]],
                **output.details(),
            },
            evidence=(*output.evidence, _errors_ref(errors)),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail above ``max_errors`` (or the threshold) or above any critical module's limit."""
        assert isinstance(params, TypecheckParams)  # noqa: S101 - the engine parsed it
        bar = bound if bound is not None else Bound(max=params.max_errors)
        errors = int(observation.measured or 0)
        modules: dict[str, int] = observation.details.get("modules", {})
        expected = "; ".join(
            [f"overall {bar.describe()}", *(f"{m} <= {n}" for m, n in params.modules.items())]
        )
        problems = [
            f"{pattern} has {modules.get(pattern, 0)} (at most {limit})"
            for pattern, limit in params.modules.items()
            if modules.get(pattern, 0) > limit
        ]
        if not bar.admits(errors):
            problems.insert(0, f"{_errors(errors)}, expected {bar.describe()}")
        if problems:
            first = observation.details["findings"][0] if observation.details["findings"] else None
            where = f"; first: {_where(first)}" if first else ""
            return Judgement(Status.FAIL, "; ".join(problems) + where, expected)
        return Judgement(Status.PASS, _errors(errors) if errors else "no type errors", expected)


def in_module(path: str, pattern: str) -> bool:
    """Whether ``path`` (relative to the project) lies in ``pattern``.

    ``pattern`` is a file or folder path (``src/gonogo/audit``), a glob
    (``src/gonogo/audit/*.py``) or a dotted module name (``gonogo.audit``); a path or
    name may match below leading folders, so ``gonogo/audit`` selects
    ``src/gonogo/audit/chain.py``.
    """
    text = pattern.strip().replace("\\", "/").removeprefix("./").rstrip("/")
    if any(ch in text for ch in "*?["):
        return fnmatchcase(path, text)
    if "/" not in text and not text.endswith(".py"):
        text = text.replace(".", "/")
    wanted = text.split("/")
    parts = path.replace("\\", "/").split("/")
    for start in range(len(parts) - len(wanted) + 1):
        window = parts[start : start + len(wanted)]
        if window[:-1] != wanted[:-1]:
            continue
        last, name = wanted[-1], window[-1]
        is_file = start + len(wanted) == len(parts)
        if name == last and not is_file:
            return True  # a folder on the path
        if is_file and name in (last, f"{last}.py", f"{last}.pyi"):
            return True
    return False


def _errors(count: int) -> str:
    return f"{count} type error{'' if count == 1 else 's'}"


def _argv(params: TypecheckParams, *, json: bool) -> list[str]:
    if params.run is not None:
        return command_argv(params.run)
    if params.tool == "pyright":
        return ["pyright", "--outputjson", *params.args, *params.targets]
    fmt = ["--output", "json"] if json else ["--no-pretty", "--no-color-output"]
    return ["mypy", *fmt, "--no-error-summary", *params.args, *params.targets]


def _output(params: TypecheckParams, ctx: CheckContext) -> ToolOutput:
    cwd = working_folder(params.cwd, ctx)
    if not params.will_run():
        return tool_output(None, path=params.path, cwd=cwd, ctx=ctx, what="type-checker report")
    try:
        return tool_output(
            _argv(params, json=True), path=params.path, cwd=cwd, ctx=ctx, what="type-checker report"
        )
    except CheckError as error:
        # mypy before 1.11 has no `--output json`: fall back to its text format
        if (
            params.run is not None
            or params.tool != "mypy"
            or "unrecognized arguments" not in str(error)
        ):
            raise
    return tool_output(
        _argv(params, json=False), path=params.path, cwd=cwd, ctx=ctx, what="type-checker report"
    )


def _parse(output: ToolOutput, params: TypecheckParams) -> TypeReport:
    found: list[Diagnostic] = []
    tool: Literal["mypy", "pyright"] = params.tool
    for name, content in output.sources:
        try:
            report = parse_typecheck(content, source=name, fmt=params.format)
        except EvidenceError as error:
            raise output.parse_error(error) from None
        tool = report.tool
        found.extend(report.diagnostics)
    return TypeReport(tool, tuple(found))


def _relative(diagnostic: Diagnostic, output: ToolOutput, ctx: CheckContext) -> Diagnostic:
    path = project_path(diagnostic.path, base=output.base, root=ctx.root)
    return Diagnostic(
        path, diagnostic.line, diagnostic.severity, diagnostic.message, diagnostic.code
    )


def _errors_ref(errors: list[Diagnostic]) -> EvidenceRef:
    """The errors themselves (paths relative to the project) bind a sign-off."""
    listed = sorted([d.path, d.line or 0, d.code or "", d.message] for d in errors)
    return EvidenceRef(kind="type-errors", uri=f"{len(errors)} errors", sha256=sha256_json(listed))


def _where(finding: dict[str, Any]) -> str:
    place = str(finding.get("path") or "?")
    if finding.get("line"):
        place += f":{finding['line']}"
    return f"{place} {finding.get('message')} [{finding.get('rule')}]"[:200]
