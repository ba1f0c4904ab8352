"""``coverage``: overall and per-module minimums from coverage.py JSON or Cobertura XML."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

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
from gonogo.evidence.coverage import parse_coverage_file
from gonogo.gates.results import Status


class CoverageParams(CheckParams):
    """Parameters of the ``coverage`` check."""

    path: str | None = None
    min: float | None = Field(default=None, ge=0, le=100)
    modules: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=dict)


class CoverageCheck:
    """Reads a coverage report; the measured value is the overall percent."""

    name: ClassVar[str] = "coverage"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = CoverageParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report file."""
        assert isinstance(params, CoverageParams)  # noqa: S101 - the engine parsed it
        return CheckInputs(files=tuple(report_files(params.path, ctx, what="coverage report")))

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Parse the report; measure overall and each named module."""
        assert isinstance(params, CoverageParams)  # noqa: S101 - the engine parsed it
        files = report_files(params.path, ctx, what="coverage report")[:1]
        (report,) = parse_all(files, parse_coverage_file)
        modules = {pattern: report.percent_for(pattern) for pattern in params.modules}
        return Observation(
            measured=round(report.percent, 2),
            details={
                "format": report.format,
                "files": len(report.files),
                "modules": {
                    k: (round(v, 2) if v is not None else None) for k, v in modules.items()
                },
            },
            evidence=refs(files, kind="coverage", root=ctx.root),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Fail when overall or any critical module is below its minimum."""
        assert isinstance(params, CoverageParams)  # noqa: S101 - the engine parsed it
        overall = float(observation.measured or 0.0)
        if bound is None:
            bound = Bound(min=params.min) if params.min is not None else None
        elif params.min is not None:
            bound = Bound(min=max(bound.min or 0.0, params.min), max=bound.max)
        expected_parts = [f"overall {bound.describe()}"] if bound else []
        expected_parts += [f"{k} >= {v:g}" for k, v in params.modules.items()]
        expected = "; ".join(expected_parts) or None
        problems = []
        if bound is not None and not bound.admits(overall):
            problems.append(f"overall {overall:.2f}% is not {bound.describe()}")
        measured_modules = observation.details.get("modules", {})
        for pattern, minimum in params.modules.items():
            value = measured_modules.get(pattern)
            if value is None:
                problems.append(f"{pattern} is not in the report")
            elif value < minimum:
                problems.append(f"{pattern} {value:.2f}% < {minimum:g}%")
        if problems:
            return Judgement(Status.FAIL, "; ".join(problems), expected)
        return Judgement(Status.PASS, f"overall {overall:.2f}%", expected)
