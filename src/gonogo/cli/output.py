"""Writing results: to stdout or ``--output FILE``; colour only on a terminal."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from gonogo.errors import UsageError


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
    """Write ``text`` to ``output`` (atomically) or stdout."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    target = output.expanduser()
    if target.is_dir():
        raise UsageError(f"--output {output} is a folder", hint="name a file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp")
        temp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        temp.replace(target)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}", hint="check the path") from None


def info(message: str) -> None:
    """A one-line note on stderr (kept out of piped reports)."""
    sys.stderr.write(message + "\n")
