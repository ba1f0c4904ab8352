"""Running nginx and reading what it did: commands, its processes and its error log."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gonogo.rollout.errors import RouterError

_LOG_LINE = re.compile(r"\[(?P<level>\w+)\] (?P<pid>\d+)#\d+: (?P<text>.*)$")
_FAILURE_LEVELS = frozenset({"emerg", "alert", "crit"})


def run(argv: Sequence[str], timeout: float) -> tuple[int, str, int]:
    """Exit status, combined output and pid of a command.

    Output goes to a temporary file, not a pipe: ``nginx`` daemonizes, and its master
    would hold a pipe open long after the command returned.
    """
    with tempfile.TemporaryFile() as output:
        try:
            process = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=output, stderr=output
            )
        except OSError as exc:
            raise RouterError(
                f"cannot run {argv[0]!r}: {exc.strerror}",
                hint="install nginx or set nginx (or the command) to its full path",
            ) from None
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RouterError(f"{shlex.join(argv)} did not finish within {timeout:g}s") from None
        output.seek(0)
        return code, output.read().decode("utf-8", errors="replace"), process.pid


def one_line(output: str, code: int) -> str:
    """nginx's own message: its first emerg/alert/crit/error line, else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"\[(emerg|alert|crit|error)\]", line):
            return line
    return lines[-1] if lines else f"exit status {code}"


def reload_outcome(log: Path, offset: int, signaller: int, old_workers: set[int]) -> str | None:
    """``""`` once a reload took effect, the master's error once it refused, else None.

    Reads the error log from ``offset``: the master that received the SIGHUP sent by
    process ``signaller`` logs "start worker processes" or an emerg/alert/crit line; each
    old worker logs "gracefully shutting down" as it stops accepting connections. The
    reload took effect once new workers run and no old worker accepts connections.
    """
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    master: str | None = None
    started = False
    bind_error: str | None = None
    pending = {str(pid) for pid in old_workers}
    for line in text.splitlines():
        match = _LOG_LINE.search(line)
        if match is None:
            continue
        pid, message = match["pid"], match["text"]
        if master is None:
            received = re.search(r"signal 1 \(SIGHUP\) received(?: from (\d+))?", message)
            if received and received.group(1) in (None, str(signaller)):
                master = pid
        elif pid == master and not started:
            if message.startswith("start worker processes"):
                started = True
            elif message.startswith("bind() to "):
                bind_error = bind_error or message  # nginx tries five times, 500 ms apart
            elif match["level"] in _FAILURE_LEVELS:
                return bind_error if message.startswith("still could not bind") else message
        if message.startswith("gracefully shutting down"):
            pending.discard(pid)
    if not started:
        return None
    return None if any(alive(int(pid)) for pid in pending) else ""


def children(parent: int) -> set[int]:
    """Process ids whose parent is ``parent`` (empty without /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[-1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == parent:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie nobody reaped does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}
