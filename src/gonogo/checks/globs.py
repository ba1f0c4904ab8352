"""Paths and globs from the policy, expanded without a crash on what pathlib refuses."""

from __future__ import annotations

from pathlib import Path

from gonogo.checks.interface import CheckError
from gonogo.errors import one_line

GLOB_CHARS = frozenset("*?[")
_GLOB_HINT = "`**` must be a whole path segment, as in reports/**/*.xml"


def is_glob(pattern: str) -> bool:
    """Whether ``pattern`` holds a glob character (``*``, ``?`` or ``[``)."""
    return bool(GLOB_CHARS.intersection(pattern))


def glob_files(root: Path, pattern: str, *, key: str) -> list[Path]:
    """The files ``pattern`` matches, sorted: relative to ``root``, or absolute from its anchor.

    ``key`` names the parameter in the error raised for a pattern that cannot be a glob
    (``a**``, an empty one) or a path the system refuses (a name too long).
    """
    path = Path(pattern)
    base, relative = root, pattern
    if path.is_absolute():
        base, relative = Path(path.anchor), str(path.relative_to(path.anchor))
    try:
        return sorted(p for p in base.glob(relative) if p.is_file())
    except (ValueError, NotImplementedError) as exc:
        raise CheckError(
            f"`{key}` {one_line(pattern)[:100]!r} is not a usable glob ({one_line(str(exc))})",
            hint=_GLOB_HINT,
        ) from None
    except OSError as exc:
        raise CheckError(
            f"`{key}` {one_line(pattern)[:100]!r} cannot be searched: {exc.strerror or exc}",
            hint=f"fix `{key}`",
        ) from None


def kind_of(path: Path, *, key: str, shown: str) -> str:
    """``file``, ``folder``, ``missing`` or ``other`` (a device, a pipe, a socket).

    A path the system refuses to look at (a name too long) is a CheckError naming ``key``.
    """
    try:
        if path.is_file():
            return "file"
        if path.is_dir():
            return "folder"
        return "other" if path.exists() else "missing"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or one_line(str(exc))
        raise CheckError(
            f"`{key}` {one_line(shown)[:100]!r} cannot be looked at: {reason}",
            hint=f"fix `{key}`",
        ) from None
