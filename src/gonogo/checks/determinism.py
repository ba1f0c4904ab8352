"""``determinism``: run a command or build an artifact several times; the outputs must match.

Each run writes into a fresh temporary folder (``{out}`` in the command), or its
``outputs`` in the working folder are copied aside after it, or its standard output is
kept. The runs are compared by digest; on a mismatch the reason names the first differing
file, opening wheels, zips and tarballs down to the member, and the first differing line
(text) or byte offset (binary).
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

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
from gonogo.gates.results import EvidenceRef, Status
from gonogo.perf import PerfError
from gonogo.perf.outputs import differing_count, digests, files_under, first_difference
from gonogo.perf.process import run, split

OUT = "{out}"
STDOUT = "(stdout)"


class DeterminismParams(CheckParams):
    """Parameters of the ``determinism`` check."""

    run: str | list[str]
    runs: int = Field(default=2, ge=2, le=20)
    outputs: list[str] = Field(default_factory=list)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("run")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if not split(value):
            raise ValueError("`run` must name a command")
        return value

    def argv(self) -> list[str]:
        """The command as an argument list (split like a shell, never run in one)."""
        return split(self.run)

    @field_validator("outputs")
    @classmethod
    def _relative(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern.strip() or Path(pattern).is_absolute():
                raise ValueError(
                    f"output {pattern!r} must be a path or glob relative to the working folder "
                    "(or to {out})"
                )
        return value

    @property
    def writes_to_out(self) -> bool:
        """Whether the command takes the ``{out}`` folder."""
        return any(OUT in part for part in self.argv())


class DeterminismCheck:
    """Runs or builds N times and compares by digest; measured: files that differ."""

    name: ClassVar[str] = "determinism"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = DeterminismParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False
    lower_is_better: ClassVar[bool] = True

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Never cached: the point is to run it again."""
        return CheckInputs(cacheable=False)

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run ``runs`` times into separate folders; compare every run with the first."""
        assert isinstance(params, DeterminismParams)  # noqa: S101 - the engine parsed it
        cwd = ctx.resolve(params.cwd) if params.cwd else ctx.root
        if not cwd.is_dir():
            raise CheckError(f"working folder {cwd} does not exist", hint="fix `cwd`")
        deadline = time.monotonic() + ctx.timeout
        with tempfile.TemporaryDirectory(prefix="gonogo-determinism-") as scratch:
            snapshots = [
                _one_run(params, cwd, Path(scratch) / f"run-{n}", n, deadline)
                for n in range(1, params.runs + 1)
            ]
            reference = snapshots[0]
            differing, difference, which = 0, None, None
            for number, snapshot in enumerate(snapshots[1:], start=2):
                count = differing_count(reference, snapshot)
                if count and difference is None:
                    difference, which = first_difference(reference, snapshot), number
                differing = max(differing, count)
            digest = sha256_json(sorted(digests(reference).items()))
        command = shlex.join(params.argv())
        return Observation(
            measured=differing,
            details={
                "command": command,
                "runs": params.runs,
                "compared": _what(params),
                "files": len(reference),
                "differing_files": differing,
                "differing_run": which,
                "first_difference": difference.to_json() if difference else None,
                "first_difference_text": (
                    difference.describe("run 1", f"run {which}") if difference else None
                ),
            },
            evidence=(EvidenceRef(kind="determinism", uri=command, sha256=digest),),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when every run produced the same outputs."""
        assert isinstance(params, DeterminismParams)  # noqa: S101 - the engine parsed it
        d = observation.details
        expected = f"{d['runs']} identical runs"
        if observation.measured == 0:
            return Judgement(
                Status.PASS,
                f"{d['runs']} runs produced identical {d['compared']} ({d['files']} file(s))",
                expected,
            )
        return Judgement(
            Status.FAIL,
            f"{d['differing_files']} of {d['files']} file(s) differ between runs; first: "
            f"{d['first_difference_text']}",
            expected,
        )


def _what(params: DeterminismParams) -> str:
    if params.writes_to_out:
        return "output folders"
    return "outputs" if params.outputs else "standard output"


def _one_run(
    params: DeterminismParams, cwd: Path, folder: Path, number: int, deadline: float
) -> dict[str, Path]:
    """Run once; return the files this run produced, kept in ``folder``."""
    out = folder / "out"
    out.mkdir(parents=True)
    argv = [part.replace(OUT, str(out)) for part in params.argv()]
    try:
        done = run(
            argv,
            cwd=cwd,
            env={**params.env, "GONOGO_OUT": str(out)},
            timeout=deadline - time.monotonic(),
        )
    except PerfError as exc:
        raise CheckError(str(exc)) from None
    if done.returncode != 0:
        detail = done.last_line()
        raise CheckError(
            f"`{shlex.join(params.argv())}` exited {done.returncode} on run {number}"
            + (f": {detail}" if detail else ""),
            hint="the build must succeed before its output can be compared",
        )
    try:
        files = _outputs(params, cwd, folder, done.stdout)
    except PerfError as exc:
        raise CheckError(str(exc)) from None
    if not files:
        where = "in {out}" if params.writes_to_out else f"matching {', '.join(params.outputs)}"
        raise CheckError(
            f"run {number} produced no files {where}: nothing to compare",
            hint="check that the command writes its artifact there, or fix `outputs`",
        )
    return files


def _outputs(params: DeterminismParams, cwd: Path, folder: Path, stdout: bytes) -> dict[str, Path]:
    """The files one run produced: in ``{out}``, its ``outputs`` kept aside, or its stdout."""
    if params.writes_to_out:
        return files_under(folder / "out", params.outputs or ["**/*"])
    if params.outputs:
        return _copy_aside(files_under(cwd, params.outputs), folder / "kept")
    kept = folder / "stdout"
    kept.write_bytes(stdout)
    return {STDOUT: kept}


def _copy_aside(files: dict[str, Path], into: Path) -> dict[str, Path]:
    """Copy a run's outputs out of the working folder before the next run overwrites them."""
    kept: dict[str, Path] = {}
    for name, path in files.items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        kept[name] = target
    return kept
