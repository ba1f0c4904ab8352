"""Run a developer tool (ruff, mypy, pyright) and keep its stdout apart from its stderr.

Linters and type checkers print their machine-readable report on stdout and their
complaints on stderr, so unlike the ``command`` check this keeps the two apart. The
deadline and the process-group kill are the ``command`` check's own.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, model_validator

from gonogo.checks.command import kill_group
from gonogo.checks.globs import glob_files
from gonogo.checks.interface import CheckContext, CheckError, CheckInputs, CheckParams
from gonogo.checks.reports import refs, report_files
from gonogo.digest import sha256_bytes
from gonogo.errors import EvidenceError
from gonogo.gates.results import EvidenceRef

_MAX_STDERR_CHARS = 4000


@dataclass(frozen=True)
class ToolRun:
    """What one tool run printed and how it exited."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: str
    seconds: float

    @property
    def command(self) -> str:
        """The command line, quoted like a shell would need it."""
        return shlex.join(self.argv)

    def last_words(self) -> str:
        """The last non-blank line the tool printed on stderr (else stdout), for a reason."""
        for text in (self.stderr, self.stdout[-4000:].decode("utf-8", "replace")):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                return lines[-1][:200]
        return "no output"


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> ToolRun:
    """Run ``argv`` in ``cwd`` within ``timeout`` seconds; raises CheckError when it cannot."""
    if not argv:
        raise CheckError("no command to run", hint="set `run`")
    if not cwd.is_dir():
        raise CheckError(f"working folder {cwd} does not exist", hint="fix `cwd`")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise CheckError(
            f"command not found: {argv[0]}", hint=f"install {argv[0]} or fix `run`"
        ) from None
    except PermissionError:
        raise CheckError(f"not allowed to run {argv[0]}", hint="check its permissions") from None
    except OSError as exc:
        raise CheckError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        if proc.stderr is not None:
            proc.stderr.close()
        raise CheckError(
            f"`{shlex.join(argv)}` timed out after {timeout:g}s and was stopped",
            hint="raise `timeout` on the criterion or find what hangs",
        ) from None
    return ToolRun(
        argv=tuple(argv),
        returncode=proc.returncode,
        stdout=out,
        stderr=err.decode("utf-8", "replace")[-_MAX_STDERR_CHARS:],
        seconds=round(time.monotonic() - started, 3),
    )


def command_argv(run: str | list[str]) -> list[str]:
    """A ``run`` parameter as an argument list (split like a shell, never run in one)."""
    return shlex.split(run) if isinstance(run, str) else list(run)


def working_folder(cwd: str | None, ctx: CheckContext) -> Path:
    """The folder a tool runs in: ``cwd`` relative to the project, else the project."""
    return ctx.resolve(cwd) if cwd else ctx.root


def project_path(reported: str, *, base: Path, root: Path) -> str:
    """A path a tool reported, relative to the project root when it lies inside it.

    Tools print paths relative to where they ran (``base``), as absolute paths, or as
    ``file://`` URIs; gonogo compares and shows them relative to the project.
    """
    text = reported.removeprefix("file://")
    path = Path(text)
    if not path.is_absolute():
        path = base / path
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return text


@dataclass(frozen=True)
class ToolOutput:
    """A tool's report: the files read or the text it printed, and where it came from."""

    sources: tuple[tuple[str, bytes], ...]
    """(name for messages, content) of every report."""
    evidence: tuple[EvidenceRef, ...]
    base: Path
    """The folder relative paths in the report are relative to."""
    run: ToolRun | None = None

    def details(self) -> dict[str, object]:
        """What to keep about the run in a result's details."""
        if self.run is None:
            return {}
        return {
            "command": self.run.command,
            "exit": self.run.returncode,
            "seconds": self.run.seconds,
        }

    def parse_error(self, error: EvidenceError) -> CheckError:
        """A report that does not parse, as the check's one-line error."""
        if self.run is None:
            return CheckError(str(error))
        return CheckError(
            f"`{self.run.command}` exited {self.run.returncode} without a readable report "
            f"({error.message}): {self.run.last_words()}"
        )


def tool_output(
    argv: list[str] | None,
    *,
    path: str | None,
    cwd: Path,
    ctx: CheckContext,
    what: str,
    ok_exits: frozenset[int] = frozenset({0, 1}),
    env: Mapping[str, str] | None = None,
) -> ToolOutput:
    """Run ``argv`` and take its stdout (or the file at ``path`` it writes), or only read ``path``.

    Evidence pushed with ``gonogo ingest`` wins over both. A tool that exits with a
    code outside ``ok_exits`` (ruff, mypy and pyright use 2 and up for "could not run")
    or that should have written ``path`` and did not is a CheckError.
    """
    if ctx.ingested() is not None or argv is None:
        files = report_files(path, ctx, what=what)
        sources = []
        for file in files:
            try:
                sources.append((str(file), file.read_bytes()))
            except OSError as exc:
                raise CheckError(f"{file}: cannot read {what} ({exc.strerror or exc})") from None
        return ToolOutput(tuple(sources), refs(files, kind=what, root=ctx.root), base=ctx.root)
    target = ctx.resolve(path) if path else None
    if target is not None:
        target.unlink(missing_ok=True)  # a report left from an earlier run is never read
    run = run_tool(argv, cwd=cwd, timeout=ctx.timeout, env=env)
    if run.returncode not in ok_exits:
        raise CheckError(f"`{run.command}` exited {run.returncode}: {run.last_words()}")
    if target is None:
        content = run.stdout
        name = f"output of `{run.command}`"
    else:
        try:
            content = target.read_bytes()
        except OSError:
            raise CheckError(
                f"`{run.command}` exited {run.returncode} and wrote no {what} at {path}: "
                f"{run.last_words()}",
                hint="make the command write the report there, or fix `path`",
            ) from None
        name = str(target)
    evidence = EvidenceRef(kind=what, uri=run.command, sha256=sha256_bytes(content), binding=False)
    return ToolOutput(((name, content),), (evidence,), base=cwd, run=run)


class ToolParams(CheckParams):
    """What lint and typecheck share: a command or a report, where, and what it depends on."""

    run: str | list[str] | None = None
    path: str | None = None
    cwd: str | None = None
    targets: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _plain_path_when_running(self) -> ToolParams:
        if self.run is not None and not command_argv(self.run):
            raise ValueError("`run` must name a command")
        if self.path and any(ch in self.path for ch in "*?[") and self.will_run():
            raise ValueError("`path` must be one file when gonogo runs the tool (no glob)")
        return self

    def will_run(self) -> bool:
        """Whether gonogo runs a tool (``run``, or the default tool when no ``path``)."""
        return self.run is not None or self.path is None


def tool_inputs(params: ToolParams, argv: list[str], ctx: CheckContext) -> CheckInputs:
    """Cache key: the report files, or, when the tool runs, the ``inputs`` globs (else none)."""
    if ctx.ingested() is not None or not params.will_run():
        return CheckInputs(files=tuple(report_files(params.path, ctx, what="report")))
    if not params.inputs:
        return CheckInputs(cacheable=False)
    files = []
    for pattern in params.inputs:
        files.extend(glob_files(ctx.root, pattern, key="inputs"))
    return CheckInputs(files=tuple(files), values={"argv": argv, "cwd": params.cwd})
