"""Configuration precedence in one place: flags > environment > policy file > defaults.

Every flag that has an environment twin declares it with Typer's ``envvar=``,
so ``--help`` names it; this module resolves what Typer does not.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import unicodedata
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gonogo.errors import ConfigError, SignoffError
from gonogo.store.db import default_url

ENV_PROJECT = "GONOGO_PROJECT"
ENV_DATABASE_URL = "GONOGO_DATABASE_URL"
ENV_USER = "GONOGO_USER"
ENV_RELEASE = "GONOGO_RELEASE"
ENV_LOCK_TIMEOUT = "GONOGO_LOCK_TIMEOUT"
ENV_JOBS = "GONOGO_JOBS"

#: the longest identity: the longest e-mail address a mail server forwards (RFC 5321)
IDENTITY_MAX = 254


def project_root(flag: Path | None) -> Path:
    """The project folder: ``--project``/GONOGO_PROJECT, else the current folder."""
    root = (flag or Path.cwd()).expanduser()
    if not root.is_dir():
        raise ConfigError(
            f"project folder {root} does not exist", hint="fix --project / GONOGO_PROJECT"
        )
    return root.resolve()


def database_url(flag: str | None, root: Path) -> str:
    """The store URL: ``--database-url``/GONOGO_DATABASE_URL, else ``<root>/.gonogo/state.db``.

    An in-memory SQLite store is refused: it would forget every change when the command
    ends, while the audit checkpoint beside the project remembered them.
    """
    if not flag:
        return default_url(root / ".gonogo")
    try:
        parsed = make_url(flag)
    except (ArgumentError, ValueError, UnicodeError):
        return flag  # the store says what is wrong with it, without the password
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError(
            "an in-memory store forgets everything when the command ends",
            hint="name a file: sqlite:///path/state.db (or unset --database-url / "
            "GONOGO_DATABASE_URL for <project>/.gonogo/state.db)",
        )
    return flag


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
    """Who is acting: GONOGO_USER, else git's ``user.email`` for the project.

    Either must be a valid identity (see :func:`check_identity`): it lands in the audit
    trail and in every report that quotes a sign-off.
    """
    explicit = os.environ.get(ENV_USER, "").strip()
    if explicit:
        return check_identity(explicit, source=ENV_USER)
    try:
        found = subprocess.run(
            ["git", "config", "user.email"],
            cwd=root,
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    email = found.stdout.strip()
    return check_identity(email, source="git config user.email") if email else None


def identity_problem(text: str) -> str | None:
    """What keeps ``text`` from being an identity, or None when it is one.

    An identity is one line of printable text (usually an e-mail address) of at most
    IDENTITY_MAX characters: no control characters, no invisible formatting characters
    (bidirectional overrides, zero-width spaces: they make a name read other than it is),
    no bytes that are not UTF-8.
    """
    if not text:
        return "is empty"
    if len(text) > IDENTITY_MAX:
        return f"is {len(text)} characters long (at most {IDENTITY_MAX})"
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\r" or category in {"Zl", "Zp"}:
            return "spans several lines"
        if category == "Cs":
            return "is not valid UTF-8 text"
        if category in {"Cc", "Cf"}:
            return f"holds the invisible or control character U+{ord(char):04X}"
    return None


def check_identity(text: str, *, source: str) -> str:
    """``text`` when it is a valid identity, else a one-line ConfigError naming ``source``."""
    problem = identity_problem(text)
    if problem is None:
        return text
    fix = (
        f"set {ENV_USER}=you@example.com"
        if source == ENV_USER
        else "run `git config user.email you@example.com` or set GONOGO_USER"
    )
    raise ConfigError(
        f"the identity from {source} {problem}",
        hint=f"{fix}: one line of printable text, at most {IDENTITY_MAX} characters",
    )


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
    local = f"{user}@{socket.gethostname()}"
    # the account and host names come from the environment too: never record a bad one
    if identity_problem(local) is not None:
        local = "unknown"
    return f"{local} (unverified)"
