"""``no-regression``: a ratchet: a count must not rise above the last passing release.

The count comes from another criterion of the same gate (its measured value or a
number in its details, such as the ``junit`` check's ``skipped``) or from a report
(lint issues, type errors, skipped or failed tests). The comparison is the engine's
relative threshold: the criterion takes ``threshold = { relative_to = "last_pass" }``,
and as a lower-is-better check its bar is the last passing release's count plus the
tolerance. The first release measured sets the baseline.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from gonogo.checks import registry
from gonogo.checks.interface import (
    Bound,
    Check,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.checks.reports import parse_all, refs, report_files
from gonogo.errors import GonogoError
from gonogo.evidence.junit import parse_junit_file
from gonogo.evidence.sarif import parse_lint_file
from gonogo.evidence.typecheck import parse_typecheck_file
from gonogo.gates.results import Status
from gonogo.policy.load import find_policy, load_policy
from gonogo.policy.model import Criterion

Count = Literal["lint-issues", "type-errors", "skipped-tests", "failed-tests"]
_WORDS: dict[Count, str] = {
    "lint-issues": "lint issues",
    "type-errors": "type errors",
    "skipped-tests": "skipped tests",
    "failed-tests": "failed tests",
}
#: what the measured value of a check type counts, for the reason line
_MEASURES = {"lint": "lint issues", "typecheck": "type errors", "tests": "tests run"}
_NEEDS_THRESHOLD = (
    'a no-regression criterion needs `threshold = { relative_to = "last_pass" }` '
    "to compare with the last passing release"
)


class NoRegressionParams(CheckParams):
    """Parameters of the ``no-regression`` check."""

    of: str | None = None
    field: str | None = None
    report: str | None = None
    count: Count | None = None

    @model_validator(mode="after")
    def _one_source(self) -> NoRegressionParams:
        if (self.of is None) == (self.report is None):
            raise ValueError("name exactly one source: `of` (a criterion) or `report` (a file)")
        if self.report is not None and self.count is None:
            raise ValueError(
                "`report` needs `count`: lint-issues, type-errors, skipped-tests or failed-tests"
            )
        if self.of is not None and self.count is not None:
            raise ValueError("`count` goes with `report`; with `of`, use `field`")
        if self.report is not None and self.field is not None:
            raise ValueError("`field` goes with `of`; with `report`, use `count`")
        return self


class NoRegressionCheck:
    """Counts lint issues, type errors or skipped tests; the measured value is the count."""

    name: ClassVar[str] = "no-regression"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = NoRegressionParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report, or what the criterion counted from depends on."""
        assert isinstance(params, NoRegressionParams)  # noqa: S101 - the engine parsed it
        if params.of is None:
            return CheckInputs(
                files=tuple(report_files(params.report, ctx, what="report", key="report"))
            )
        check, sibling, sibling_ctx = _sibling(params.of, ctx)
        found = check.inputs(sibling, sibling_ctx)
        if not found.cacheable:
            return found
        values = {
            **found.values,
            "of": params.of,
            "field": params.field,
            "check": check.name,
            "params": sibling.model_dump(mode="json"),
        }
        return CheckInputs(files=found.files, values=values)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Take the count from the other criterion or from the report."""
        assert isinstance(params, NoRegressionParams)  # noqa: S101 - the engine parsed it
        _own_criterion(ctx)  # refuses to run without a relative threshold
        if params.of is not None:
            return _from_criterion(params.of, params.field, ctx)
        kind = params.count
        assert kind is not None  # noqa: S101 - the params model requires it
        files = report_files(params.report, ctx, what="report", key="report")
        return Observation(
            measured=sum(parse_all(files, lambda f: _count(f, kind))),
            details={"counting": _WORDS[kind], "from": params.report},
            evidence=refs(files, kind=kind, root=ctx.root),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass at or below the last passing release's count (plus tolerance)."""
        assert isinstance(params, NoRegressionParams)  # noqa: S101 - the engine parsed it
        value = observation.measured
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CheckError(f"the count is {value!r}, not a number")
        what = f"{value:g} {observation.details.get('counting', 'counted')}"
        if bound is None:
            return Judgement(Status.PASS, f"{what}: recorded as the baseline", None)
        if bound.admits(value):
            return Judgement(Status.PASS, f"{what}, not above the last pass", bound.describe())
        return Judgement(
            Status.FAIL,
            f"{what}: more than the last passing release allows ({bound.describe()})",
            bound.describe(),
        )


def _count(file: Path, count: Count) -> int:
    if count == "lint-issues":
        return len(parse_lint_file(file).at_least("warning"))
    if count == "type-errors":
        return len(parse_typecheck_file(file).errors)
    summary = parse_junit_file(file)
    return summary.skipped if count == "skipped-tests" else summary.failures + summary.errors


def _own_criterion(ctx: CheckContext) -> Criterion:
    criterion = _criterion(ctx, ctx.criterion)
    if criterion.threshold is None or criterion.threshold.relative_to != "last_pass":
        raise CheckError(_NEEDS_THRESHOLD, hint=f"add it to {ctx.gate}.{ctx.criterion}")
    return criterion


def _criterion(ctx: CheckContext, criterion_id: str) -> Criterion:
    try:
        policy = load_policy(find_policy(ctx.root)).policy
    except GonogoError as exc:
        raise CheckError(f"cannot read the policy: {exc}") from None
    gate = policy.gate(ctx.gate)
    found = next((c for c in gate.criteria if c.id == criterion_id), None) if gate else None
    if found is None:
        known = ", ".join(c.id for c in gate.criteria) if gate else "none"
        raise CheckError(
            f"gate {ctx.gate} has no criterion {criterion_id!r}", hint=f"criteria: {known}"
        )
    return found


def _sibling(of: str, ctx: CheckContext) -> tuple[Check, Any, CheckContext]:
    if of == ctx.criterion:
        raise CheckError("a no-regression criterion cannot count itself", hint="fix `of`")
    criterion = _criterion(ctx, of)
    if criterion.check == NoRegressionCheck.name:
        raise CheckError(f"{ctx.gate}.{of} is itself a no-regression criterion", hint="fix `of`")
    if criterion.source == "ingest":
        raise CheckError(
            f"{ctx.gate}.{of} takes ingested evidence, which only the engine can read",
            hint="count from its report file with `report` and `count` instead",
        )
    check = registry.load(criterion.check)
    params = check.params_model.model_validate(criterion.params)
    return check, params, replace(ctx, criterion=of, timeout=criterion.timeout)


def _from_criterion(of: str, field: str | None, ctx: CheckContext) -> Observation:
    check, params, sibling_ctx = _sibling(of, ctx)
    observed = check.collect(params, sibling_ctx)
    value = observed.measured if field is None else observed.details.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        available = ", ".join(k for k, v in observed.details.items() if _is_number(v)) or "none"
        where = "its measured value" if field is None else f"its detail {field!r}"
        raise CheckError(
            f"{ctx.gate}.{of} ({check.name}) gives no number as {where}",
            hint=f"numeric details: {available}",
        )
    noun = field or _MEASURES.get(check.name, "measured value")
    counting = f"{noun} ({ctx.gate}.{of})"
    return Observation(
        measured=value,
        details={"counting": counting, "from": f"{ctx.gate}.{of}"},
        evidence=observed.evidence,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
