"""``command``: run a command; pass on the expected exit status, keep the output tail."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from gonogo.checks.globs import glob_files
from gonogo.checks.interface import (
    Bound,
    CheckContext,
    CheckError,
    CheckInputs,
    CheckParams,
    Judgement,
    Observation,
)
from gonogo.digest import sha256_bytes, sha256_file, sha256_json
from gonogo.gates.results import EvidenceRef, Status

_MAX_TAIL_BYTES = 64 * 1024
_GRACE_SECONDS = 3.0


class CommandParams(CheckParams):
    """Parameters of the ``command`` check."""

    run: str | list[str]
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    expect_exit: int = 0
    tail: int = Field(default=30, ge=0, le=1000)

    @field_validator("run")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        argv = shlex.split(value) if isinstance(value, str) else value
        if not argv:
            raise ValueError("`run` must name a command")
        return value

    def argv(self) -> list[str]:
        """The command as an argument list (split like a shell, but never run in one)."""
        return shlex.split(self.run) if isinstance(self.run, str) else list(self.run)


class CommandCheck:
    """Runs the team's own command; exit status decides, output tail is evidence."""

    name: ClassVar[str] = "command"
    version: ClassVar[str] = "1"
    params_model: ClassVar[type[CheckParams]] = CommandParams
    accepts_threshold: ClassVar[bool] = False
    reads_evidence_files: ClassVar[bool] = False

    def inputs(self, params: Any, ctx: CheckContext) -> CheckInputs:
        """Cacheable only when the policy lists the files the command depends on."""
        assert isinstance(params, CommandParams)  # noqa: S101 - the engine parsed it
        if not params.inputs:
            return CheckInputs(cacheable=False)
        files: list[Path] = []
        for pattern in params.inputs:
            files.extend(glob_files(ctx.root, pattern, key="inputs"))
        return CheckInputs(
            files=tuple(files),
            values={"argv": params.argv(), "cwd": params.cwd, "env": params.env},
        )

    def collect(self, params: Any, ctx: CheckContext) -> Observation:
        """Run the command with the criterion's timeout; kill its whole process group on expiry."""
        assert isinstance(params, CommandParams)  # noqa: S101 - the engine parsed it
        argv = params.argv()
        cwd = ctx.resolve(params.cwd) if params.cwd else ctx.root
        if not cwd.is_dir():
            raise CheckError(f"working folder {cwd} does not exist", hint="fix `cwd`")
        env = {**os.environ, **params.env}
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise CheckError(
                f"command not found: {argv[0]}", hint="install it or fix `run`"
            ) from None
        except PermissionError:
            raise CheckError(
                f"not allowed to run {argv[0]}", hint="check its permissions"
            ) from None
        except OSError as exc:  # e.g. a script without a #! line: "Exec format error"
            raise CheckError(
                f"cannot run {argv[0]}: {exc.strerror or exc}",
                hint="add a #! line or run it through its interpreter",
            ) from None
        try:
            output, _ = proc.communicate(timeout=ctx.timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise CheckError(
                f"`{shlex.join(argv)}` timed out after {ctx.timeout:g}s and was stopped",
                hint="raise `timeout` on the criterion or find what hangs",
            ) from None
        elapsed = time.monotonic() - started
        text = output[-_MAX_TAIL_BYTES:].decode("utf-8", errors="replace")
        lines = text.splitlines()[-params.tail :] if params.tail else []
        tail = "\n".join(lines)
        evidence = [
            EvidenceRef(
                kind="command-output",
                uri=shlex.join(argv),
                sha256=sha256_bytes(output),
                excerpt=tail[-2000:] or None,
                binding=False,
            )
        ]
        if params.inputs:
            # what the command read binds a sign-off; its log does not
            files = self.inputs(params, ctx).files
            digests = [[_shown(f, ctx.root), sha256_file(f)] for f in files]
            evidence.append(
                EvidenceRef(
                    kind="command-inputs", uri=", ".join(params.inputs), sha256=sha256_json(digests)
                )
            )
        return Observation(
            measured=proc.returncode,
            details={"command": shlex.join(argv), "seconds": round(elapsed, 3), "tail": tail},
            evidence=tuple(evidence),
        )

    def judge(self, observation: Observation, params: Any, bound: Bound | None) -> Judgement:
        """Pass when the exit status is the expected one."""
        assert isinstance(params, CommandParams)  # noqa: S101 - the engine parsed it
        code = observation.measured
        expected = f"exit {params.expect_exit}"
        if code == params.expect_exit:
            return Judgement(Status.PASS, f"exited {code}", expected)
        last = str(observation.details.get("tail", "")).strip().splitlines()
        hint = f": {last[-1][:160]}" if last else ""
        return Judgement(Status.FAIL, f"exited {code}{hint}", expected)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the command and everything it started: TERM, a grace period, then KILL."""
    deadline = time.monotonic() + _GRACE_SECONDS
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_GRACE_SECONDS)
    # children may outlive the command itself (or ignore TERM): the rest of the grace, then KILL
    while _signal_group(proc.pid, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()  # communicate() never finished, so the pipes are still open


def _signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to the process group; False when no process is left in it."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def _shown(path: Path, root: Path) -> str:
    """A path relative to the project, or as it is when it lies outside (``../x``, ``/etc/x``)."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
