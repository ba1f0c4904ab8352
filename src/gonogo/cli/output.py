"""Writing results: to stdout or ``--output FILE``; colour only on a terminal."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

from gonogo.errors import UsageError
from gonogo.files import write_atomic


def is_terminal() -> bool:
    """Whether stdout is an interactive terminal."""
    return sys.stdout.isatty()


def use_color() -> bool:
    """Colour on a terminal unless NO_COLOR is set."""
    return is_terminal() and not os.environ.get("NO_COLOR")


def width() -> int:
    """Rendering width for text output."""
    return max(60, min(shutil.get_terminal_size((120, 40)).columns, 200))


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` or stdout.

    A file is replaced atomically (through a symbolic link, the file it points to: the
    link stays); a device or a pipe (``/dev/null``, ``/dev/stderr``, a FIFO) is written
    to as it is, never replaced by a file.
    """
    body = text if text.endswith("\n") else text + "\n"
    if output is None:
        sys.stdout.write(body)
        sys.stdout.flush()
        return
    target = output.expanduser()
    if target.is_dir():
        raise UsageError(f"--output {output} is a folder", hint="name a file")
    try:
        try:
            mode: int | None = target.stat().st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            with target.open("w", encoding="utf-8") as stream:
                stream.write(body)
            return
        write_atomic(target, body)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}", hint="check the path") from None


def info(message: str) -> None:
    """A one-line note on stderr (kept out of piped reports)."""
    sys.stderr.write(message + "\n")
