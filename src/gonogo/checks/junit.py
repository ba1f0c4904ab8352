"""``junit``: test results from JUnit XML (pytest, Maven Surefire, Go, Jest)."""

from __future__ import annotations

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
from gonogo.checks.reports import parse_all, refs, report_files
from gonogo.evidence.junit import merge, parse_junit_file
from gonogo.gates.results import Status


class JUnitParams(CheckParams):
    """Parameters of the ``junit`` check."""

    path: str | None = None
    min_tests: int = Field(default=1, ge=0)
    max_failures: int = Field(default=0, ge=0)
    max_errors: int = Field(default=0, ge=0)
    max_skipped: int | None = Field(default=None, ge=0)


class JUnitCheck:
    """Reads JUnit XML; the measured value is the number of tests that ran."""

    name: ClassVar[str] = "junit"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = JUnitParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report files."""
        assert isinstance(params, JUnitParams)  # noqa: S101 - the engine parsed it
        return CheckInputs(files=tuple(report_files(params.path, ctx, what="JUnit report")))

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Parse and merge every report file."""
        assert isinstance(params, JUnitParams)  # noqa: S101 - the engine parsed it
        files = report_files(params.path, ctx, what="JUnit report")
        summary = merge(parse_all(files, parse_junit_file))
        return Observation(
            measured=summary.tests,
            details={
                "tests": summary.tests,
                "passed": summary.passed,
                "failures": summary.failures,
                "errors": summary.errors,
                "skipped": summary.skipped,
                "seconds": round(summary.time, 3),
                "failing": list(summary.failing(10)),
            },
            evidence=refs(files, kind="junit", root=ctx.root),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail on too few tests, failures, errors or skips beyond the limits."""
        assert isinstance(params, JUnitParams)  # noqa: S101 - the engine parsed it
        d = observation.details
        tests, failures, errors, skipped = d["tests"], d["failures"], d["errors"], d["skipped"]
        expected = f">= {params.min_tests} tests, <= {params.max_failures} failures, " + (
            f"<= {params.max_errors} errors"
        )
        summary = f"{d['passed']} passed, {failures} failed, {errors} errors, {skipped} skipped"
        failing = ", ".join(d.get("failing", [])[:3])
        if failures > params.max_failures or errors > params.max_errors:
            return Judgement(Status.FAIL, f"{summary}: {failing}", expected)
        if tests < params.min_tests:
            return Judgement(
                Status.FAIL,
                f"only {tests} tests ran, at least {params.min_tests} expected",
                expected,
            )
        if params.max_skipped is not None and skipped > params.max_skipped:
            return Judgement(
                Status.FAIL,
                f"{skipped} tests skipped, at most {params.max_skipped} allowed",
                expected,
            )
        if bound is not None and not bound.admits(tests):
            return Judgement(
                Status.FAIL, f"{tests} tests ran, expected {bound.describe()}", bound.describe()
            )
        return Judgement(Status.PASS, summary, expected)
