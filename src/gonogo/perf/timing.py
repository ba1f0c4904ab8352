"""Timings gonogo takes itself: run a command N times after a warm-up, on the monotonic clock."""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from gonogo.perf import PerfError
from gonogo.perf.process import run


def time_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    runs: int,
    warmup: int,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> tuple[float, ...]:
    """Wall-clock seconds of ``runs`` runs of ``argv``, after ``warmup`` untimed runs.

    Every run must exit 0: a failing command measures nothing. ``timeout`` bounds all
    runs together. Raises :class:`PerfError` with the run and the command's last line.
    """
    if runs < 1 or warmup < 0:
        raise PerfError(f"cannot time {runs} runs after {warmup} warm-up runs")
    deadline = time.monotonic() + timeout
    command = shlex.join(argv)
    samples: list[float] = []
    for index in range(warmup + runs):
        done = run(argv, cwd=cwd, env=env, timeout=deadline - time.monotonic())
        if done.returncode != 0:
            which = "warm-up run" if index < warmup else "run"
            number = index + 1 if index < warmup else index - warmup + 1
            detail = done.last_line()
            raise PerfError(
                f"`{command}` exited {done.returncode} on {which} {number}"
                + (f": {detail}" if detail else ""),
                hint="a benchmark command must succeed; fix it or `run`",
            )
        if index >= warmup:
            samples.append(done.seconds)
    return tuple(samples)
