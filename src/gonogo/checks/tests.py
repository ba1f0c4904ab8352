"""``tests``: run the project's test command and read the JUnit XML it writes (or only read it).

Running is the ``command`` check's (deadline, process-group kill, output tail);
reading and judging the report is the ``junit`` check's. On top, a command that
exits non-zero while its report shows no failure fails the criterion: something
other than a test broke (a crash after the report, a coverage floor, a plugin).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from gonogo.checks.command import CommandCheck, CommandParams
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.checks.junit import JUnitCheck, JUnitParams
from gonogo.checks.tool import command_argv
from gonogo.gates.results import Status

_COMMAND = CommandCheck()
_JUNIT = JUnitCheck()


class RunTestsParams(CheckParams):
    """Parameters of the ``tests`` check."""

    run: str | list[str] | None = None
    path: str | None = None
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    min_tests: int = Field(default=1, ge=0)
    max_failures: int = Field(default=0, ge=0)
    max_errors: int = Field(default=0, ge=0)
    max_skipped: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _run_writes_path(self) -> RunTestsParams:
        if self.run is None:
            return self
        if not command_argv(self.run):
            raise ValueError("`run` must name a command")
        if self.path is None:
            raise ValueError(
                "`run` needs `path`: the JUnit XML file the command writes "
                "(e.g. pytest --junitxml=reports/junit.xml)"
            )
        if any(ch in self.path for ch in "*?["):
            raise ValueError("`path` must be one file when gonogo runs the tests (no glob)")
        return self

    def junit(self) -> JUnitParams:
        """The ``junit`` check's parameters for the report."""
        return JUnitParams(
            path=self.path,
            min_tests=self.min_tests,
            max_failures=self.max_failures,
            max_errors=self.max_errors,
            max_skipped=self.max_skipped,
        )

    def command(self) -> CommandParams:
        """The ``command`` check's parameters for the test run."""
        assert self.run is not None  # noqa: S101 - only called when running
        return CommandParams(run=self.run, cwd=self.cwd, env=self.env, inputs=self.inputs)


class RunTestsCheck:
    """Runs the test command, then reads its JUnit XML; the measured value is tests run."""

    name: ClassVar[str] = "tests"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = RunTestsParams
    accepts_threshold: ClassVar[bool] = True
    reads_evidence_files: ClassVar[bool] = True
    lower_is_better: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """The report, or (when running) the files the policy lists in ``inputs``, else none."""
        assert isinstance(params, RunTestsParams)  # noqa: S101 - the engine parsed it
        if params.run is None or ctx.ingested() is not None:
            return _JUNIT.inputs(params.junit(), ctx)
        if not params.inputs:
            return CheckInputs(cacheable=False)
        found = _COMMAND.inputs(params.command(), ctx)
        # the report the command writes is output, not input
        report = ctx.resolve(params.path or "")
        return CheckInputs(
            files=tuple(f for f in found.files if f != report),
            values={**found.values, "junit": params.path},
        )

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run the tests (when ``run`` is set), then parse the report."""
        assert isinstance(params, RunTestsParams)  # noqa: S101 - the engine parsed it
        if params.run is None or ctx.ingested() is not None:
            return _JUNIT.collect(params.junit(), ctx)
        report = ctx.resolve(params.path or "")
        report.unlink(missing_ok=True)  # a report from an earlier run is never read
        ran = _COMMAND.collect(params.command(), ctx)
        code = ran.measured
        tail = str(ran.details.get("tail", ""))
        if not report.is_file():
            last = tail.strip().splitlines()[-1][:160] if tail.strip() else "no output"
            raise CheckError(
                f"`{ran.details['command']}` exited {code} and wrote no JUnit report at "
                f"{params.path}: {last}",
                hint="make the command write it (pytest --junitxml=PATH), or fix `path`",
            )
        observed = _JUNIT.collect(params.junit(), ctx)
        # the log varies run to run, so it is kept but (like the command check's) never binds
        command_output = tuple(e for e in ran.evidence if e.kind == "command-output")
        return Observation(
            measured=observed.measured,
            details={
                **observed.details,
                "command": ran.details["command"],
                "exit": code,
                "tail": tail[-2000:],
            },
            evidence=(*observed.evidence, *command_output),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """The ``junit`` check's judgement; a non-zero exit without failed tests fails too."""
        assert isinstance(params, RunTestsParams)  # noqa: S101 - the engine parsed it
        judgement = _JUNIT.judge(observation, params.junit(), bound)
        code = observation.details.get("exit")
        if judgement.status is Status.PASS and code not in (None, 0):
            lines = str(observation.details.get("tail", "")).strip().splitlines()
            last = f": {lines[-1][:160]}" if lines else ""
            return Judgement(
                Status.FAIL,
                f"the test command exited {code} although the report shows no failure{last}",
                judgement.expected,
            )
        return judgement
