"""Process helpers for the deployer tests: marked processes, polling, free ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from gonogo.rollout.deploy.support import proc_stat

#: every process a deployer test starts carries ``MARK=<token>`` in its environment
MARK = "GONOGO_DEPLOY_TEST_MARK"
DEADLINE_S = 30.0


def wait_until(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after a generous deadline."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {deadline_s:g}s: {what}")
        time.sleep(0.05)


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not), reaping it when it is our child."""
    stat = proc_stat(pid)
    if stat is not None and stat.exited:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return stat is not None


def marked(token: str) -> list[int]:
    """Pids of the running processes whose environment holds ``MARK=token``."""
    needle = f"{MARK}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and running(int(entry.name)):
            found.append(int(entry.name))
    return found


def kill_marked(token: str) -> None:
    """SIGKILL every process started with ``MARK=token`` and wait until none runs."""
    for pid in marked(token):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not marked(token), f"processes marked {token} to exit")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refuses(url: str) -> bool:
    """Whether nothing accepts connections at ``url``."""
    try:
        httpx.get(url, timeout=5.0, trust_env=False)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False


def served_version(url: str) -> str:
    """The version the sample service at ``url`` reports in its JSON body."""
    response = httpx.get(url + "/", timeout=30.0, trust_env=False)
    return str(response.json()["version"])
