"""What both deployers share: argv templates, HTTP health probes, log tails, /proc reads.

Templates use ``{name}`` placeholders (``{{`` and ``}}`` for literal braces); a name the
deployer does not know is a :class:`DeployError` naming it, before anything runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import string
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ValidationError

from gonogo.config.classify import secret_by_name, secret_by_value
from gonogo.rollout.deploy.interface import Health
from gonogo.rollout.errors import DeployError

_TAIL_BYTES = 8192
_MAX_LINE = 200
_MIN_REDACTED = 6
_POLL_S = 0.05
_VERSION = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


def split_command(command: str | list[str], where: str) -> list[str]:
    """The command as an argument list (a string is split like a shell, never run in one)."""
    if isinstance(command, list):
        argv = list(command)
    else:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise DeployError(
                f"cannot split `{where}` into arguments: {exc}",
                hint="close the quote, or write the command as a list",
            ) from None
    if not argv or not argv[0]:
        raise DeployError(f"`{where}` names no command", hint="give the program and its arguments")
    return argv


#: a value that names a file (a key or credentials file), not the secret itself
_PATH_PREFIXES = ("/", "./", "../", "~/")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


def check_env_secrets(env: Mapping[str, str], where: str) -> None:
    """Refuse a secret written into the policy's ``env`` (``where``: its key, e.g. ``env``).

    The policy lives in the repository and the rollout plan is stored with every
    rollout, so a token there is a plaintext secret twice over. A variable whose name
    says it holds a secret (``REGISTRY_TOKEN``, ``DB_PASSWORD``) or a connection URL
    with a password is refused, unless its value is a file's path or placeholders only.
    The processes and commands inherit the controller's own environment, which is where
    such values belong.
    """
    for name, value in env.items():
        # what is written out, besides placeholders and separators ("{variant}-{version}")
        written = any(c.isalnum() for c in _PLACEHOLDER.sub("", value))
        named = secret_by_name(name) and written and not value.startswith(_PATH_PREFIXES)
        if named or secret_by_value(name, value):
            raise DeployError(
                f"`{where}.{name}` writes a secret into the policy, which every rollout stores",
                hint=f"remove it and export {name} in the controller's environment: "
                "the deployer's processes and commands inherit it",
            )


def check_template(template: str, allowed: Iterable[str], where: str) -> None:
    """Raise :class:`DeployError` when ``template`` uses a placeholder outside ``allowed``."""
    known = sorted(set(allowed))
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        raise DeployError(
            f"unbalanced brace in `{where}`",
            hint="write {{ or }} for a literal brace",
        ) from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in known or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise DeployError(
                f"unknown placeholder {shown} in `{where}`",
                hint="use " + ", ".join("{" + k + "}" for k in known),
            )


def render(template: str, values: Mapping[str, str], where: str) -> str:
    """Fill ``template``'s placeholders from ``values`` (checked by :func:`check_template`)."""
    check_template(template, values, where)
    return template.format_map(dict(values))


def check_version(version: str) -> None:
    """A version is 1 to 200 printable characters."""
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise DeployError(
            f"invalid version {version!r}",
            hint="use 1 to 200 characters without control characters, e.g. v2 or 1.4.0",
        )


def file_safe(text: str) -> str:
    """``text`` usable as part of a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:64] or "_"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value (6 characters or more) replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_REDACTED:
            text = text.replace(secret, "***")
    return text


def last_line(path: Path, *, offset: int = 0, secrets: Iterable[str] = ()) -> str:
    """The last non-empty line of ``path`` written after ``offset``, shortened and redacted."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(offset, size - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return ""
    return final_line(data, secrets=secrets)


def final_line(data: bytes, *, secrets: Iterable[str] = ()) -> str:
    """The last non-empty line of ``data``, shortened and redacted."""
    lines = data[-_TAIL_BYTES:].decode("utf-8", errors="replace").strip().splitlines()
    if not lines:
        return ""
    return redact(lines[-1].strip(), secrets)[:_MAX_LINE]


def display_url(url: str) -> str:
    """``url`` without user information (a password in a URL is never shown)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def join_url(base: str, path: str) -> str:
    """``base`` (without trailing slash) followed by ``path``."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def probe(url: str, timeout_s: float, *, trust_env: bool = True) -> Health:
    """GET ``url``: healthy on a 200 answer; otherwise why not, in one line."""
    shown = display_url(url)
    try:
        response = httpx.get(url, timeout=timeout_s, trust_env=trust_env, follow_redirects=False)
    except httpx.TimeoutException:
        return Health(False, f"GET {shown} did not answer within {timeout_s:g}s")
    except httpx.HTTPError as exc:
        reason = str(exc).strip().splitlines()[-1][:_MAX_LINE] if str(exc).strip() else ""
        return Health(False, f"GET {shown} failed: {reason or type(exc).__name__}")
    if response.status_code == 200:
        return Health(True, f"GET {shown} answered 200")
    return Health(False, f"GET {shown} answered {response.status_code}")


def describe_exit(code: int) -> str:
    """``exited with code 3`` or ``was killed by signal 9 (SIGKILL)``."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = f" ({signal.Signals(-code).name})"
    except ValueError:
        name = ""
    return f"was killed by signal {-code}{name}"


@dataclass(frozen=True)
class ProcStat:
    """What ``/proc/<pid>/stat`` says about a process."""

    state: str
    """``R``, ``S``, …; ``Z`` for a zombie (exited, not yet reaped)"""
    pgrp: int
    started: int
    """start time in clock ticks after boot: a reused pid has another one"""

    @property
    def exited(self) -> bool:
        """A zombie or a dead task."""
        return self.state in {"Z", "X", "x"}


def proc_stat(pid: int) -> ProcStat | None:
    """Read ``/proc/<pid>/stat``; None when no such process exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # the command name in parentheses may hold spaces and parentheses: split after the last ")"
    fields = text[text.rindex(")") + 2 :].split()
    return ProcStat(fields[0], int(fields[2]), int(fields[19]))


def reap(pid: int) -> int | None:
    """Collect ``pid``'s exit status if it is an exited child of this process."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def group_running(pgid: int) -> bool:
    """Whether any process of group ``pgid`` still runs (zombies do not count)."""
    try:
        entries = [entry.name for entry in Path("/proc").iterdir()]
    except OSError:
        return False
    for entry in entries:
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None and stat.pgrp == pgid and not stat.exited:
                return True
    return False


def stop_group(pgid: int, started: int, *, grace_s: float, wait_s: float = 30.0) -> int | None:
    """Stop the process group led by ``pgid`` (TERM, grace, KILL) and reap its leader.

    ``started`` is the leader's start time: when ``pgid`` now names another process (the
    pid was reused) nothing is signalled. Returns the leader's exit code when this process
    reaped it. Works for groups this process did not start (adopted after a crash), which
    :func:`gonogo.checks.command.kill_group` cannot: it needs the ``Popen`` of a child.
    """
    stat = proc_stat(pgid)
    if stat is not None and stat.started != started:
        return None
    code: int | None = None

    def running() -> bool:
        nonlocal code
        leader = proc_stat(pgid)
        if leader is not None and leader.started == started and leader.exited:
            code = reap(pgid) if code is None else code
        return group_running(pgid)

    for signum, seconds in ((signal.SIGTERM, grace_s), (signal.SIGKILL, wait_s)):
        if not running():
            return code
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)
        deadline = time.monotonic() + seconds
        while running() and time.monotonic() < deadline:
            time.sleep(_POLL_S)
    if running():
        raise DeployError(
            f"process group {pgid} is still running after SIGKILL",
            hint="check it with `ps -g " + str(pgid) + "`",
        )
    return code


_M = TypeVar("_M", bound=BaseModel)


def load_saved(model: type[_M], state: Mapping[str, object], deployer: str) -> _M:
    """A deployer's saved state read back, or one DeployError naming the bad key."""
    try:
        return model.model_validate(state)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise DeployError(
            f"cannot read the {deployer} deployer's saved state: {where}: {problem['msg']}",
            hint="the store holds state from another deployer type or version",
        ) from None
