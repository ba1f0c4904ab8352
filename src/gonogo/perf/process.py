"""Run a command with a deadline, stopping its whole process group when time runs out."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gonogo.checks.command import kill_group
from gonogo.perf import PerfError

_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Completed:
    """What one run of a command did."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float

    def last_line(self) -> str:
        """The last non-empty line of stderr (else stdout), shortened, for a reason."""
        for stream in (self.stderr, self.stdout):
            lines = stream[-_TAIL_BYTES:].decode("utf-8", errors="replace").strip().splitlines()
            if lines:
                return lines[-1][:160]
        return ""


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float,
) -> Completed:
    """Run ``argv`` (never through a shell); time it with the monotonic clock.

    Raises :class:`PerfError` when the command cannot start or runs past ``timeout``.
    """
    command = shlex.join(argv)
    full_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise PerfError(f"command not found: {argv[0]}", hint="install it or fix `run`") from None
    except PermissionError:
        raise PerfError(f"not allowed to run {argv[0]}", hint="check its permissions") from None
    except OSError as exc:
        raise PerfError(
            f"cannot run {argv[0]}: {exc.strerror or exc}",
            hint="add a #! line or run it through its interpreter",
        ) from None
    try:
        stdout, stderr = proc.communicate(timeout=max(timeout, 0.001))
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise PerfError(
            f"`{command}` ran past the criterion's timeout and was stopped",
            hint="raise `timeout` on the criterion, lower `runs`, or find what hangs",
        ) from None
    seconds = time.perf_counter() - started
    return Completed(tuple(argv), proc.returncode, stdout, stderr, seconds)


def split(command: str | Sequence[str]) -> list[str]:
    """A command from the policy as an argument list (a string is split like a shell does)."""
    return shlex.split(command) if isinstance(command, str) else list(command)
