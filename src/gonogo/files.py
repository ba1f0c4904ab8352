"""Files written whole or not at all.

A reader (another gonogo, nginx, a CI job) must never see half a report, baseline or
config, and a crash must not leave the old content truncated. :func:`write_atomic`
writes beside the target under a unique name, flushes to disk and renames over the
target, which POSIX makes atomic on one file system. Each caller turns the
:class:`OSError` into its own error, with its own hint.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

__all__ = ["temp_beside", "write_atomic"]

#: new files are readable by all (reports, baselines and configs to commit or serve)
DEFAULT_MODE = 0o644


def temp_beside(target: Path, text: str, *, mode: int = DEFAULT_MODE) -> Path:
    """``text`` in a new temporary file beside ``target``, on disk, for a later rename.

    For a caller that checks the new content before it replaces the old (nginx tests a
    config first); the caller renames it over ``target`` or removes it. Raises
    :class:`OSError`; on failure no temporary file is left.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        os.fchmod(handle, mode)  # mkstemp makes 0600
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp


def write_atomic(path: Path, text: str, *, mode: int = DEFAULT_MODE) -> None:
    """Replace ``path``'s content with ``text`` in one step (a symlink keeps pointing at it).

    Creates missing parent folders. Raises :class:`OSError` (a folder, no permission, a
    symlink loop); on failure the old content is untouched and no temporary file is left.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if path.is_symlink() and target.is_symlink():  # realpath stops inside a loop
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    temp = temp_beside(target, text, mode=mode)
    try:
        temp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
