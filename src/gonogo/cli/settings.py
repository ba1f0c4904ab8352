"""Configuration precedence in one place: flags > environment > policy file > defaults.

Every flag that has an environment twin declares it with Typer's ``envvar=``,
so ``--help`` names it; this module resolves what Typer does not.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from pathlib import Path

from gonogo.errors import ConfigError, SignoffError
from gonogo.store.db import default_url

ENV_PROJECT = "GONOGO_PROJECT"
ENV_DATABASE_URL = "GONOGO_DATABASE_URL"
ENV_USER = "GONOGO_USER"
ENV_RELEASE = "GONOGO_RELEASE"
ENV_LOCK_TIMEOUT = "GONOGO_LOCK_TIMEOUT"
ENV_JOBS = "GONOGO_JOBS"


def project_root(flag: Path | None) -> Path:
    """The project folder: ``--project``/GONOGO_PROJECT, else the current folder."""
    root = (flag or Path.cwd()).expanduser()
    if not root.is_dir():
        raise ConfigError(
            f"project folder {root} does not exist", hint="fix --project / GONOGO_PROJECT"
        )
    return root.resolve()


def database_url(flag: str | None, root: Path) -> str:
    """The store URL: ``--database-url``/GONOGO_DATABASE_URL, else ``<root>/.gonogo/state.db``."""
    return flag or default_url(root / ".gonogo")


def lock_timeout() -> float:
    """Seconds a writer waits for the store's lock (GONOGO_LOCK_TIMEOUT, default 15)."""
    raw = os.environ.get(ENV_LOCK_TIMEOUT)
    if raw is None or raw == "":
        return 15.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(
            f"{ENV_LOCK_TIMEOUT}={raw!r} is not a number of seconds", hint="use e.g. 15 or 0.5"
        )
    return value


def identity(root: Path) -> str | None:
    """Who is acting: GONOGO_USER, else git's ``user.email`` for the project."""
    explicit = os.environ.get(ENV_USER, "").strip()
    if explicit:
        return explicit
    try:
        found = subprocess.run(
            ["git", "config", "user.email"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    email = found.stdout.strip()
    return email or None


def require_identity(root: Path) -> str:
    """The acting identity, or a one-line error saying how to set it."""
    who = identity(root)
    if who is None:
        raise SignoffError(
            "cannot tell who you are",
            hint="set GONOGO_USER=you@example.com or `git config user.email you@example.com`",
        )
    return who


def actor(root: Path) -> str:
    """The audit actor: the identity when known, else the local account."""
    who = identity(root)
    if who:
        return who
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (unverified)"
