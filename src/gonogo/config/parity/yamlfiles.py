"""Read YAML definition files; a syntax error names the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gonogo.config.parity.model import DefinitionError

MAX_BYTES = 8 * 1024 * 1024


def relative(path: Path, root: Path) -> str:
    """``path`` relative to the project root when it is inside it, POSIX style."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_text(path: Path, root: Path) -> str:
    """A definition file's text; DefinitionError naming it when it cannot be read."""
    rel = relative(path, root)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DefinitionError(f"{rel} is larger than {MAX_BYTES // 2**20} MiB; not read")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"{rel} does not exist") from None
    except UnicodeDecodeError:
        raise DefinitionError(f"cannot read {rel}: it is not UTF-8 text") from None
    except OSError as exc:
        raise DefinitionError(f"cannot read {rel}: {exc.strerror}") from None


def parse_documents(text: str, name: str) -> list[Any]:
    """The non-empty documents of a YAML text; ``name`` (file, or file and what) in errors."""
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError(
            f"{where}: invalid YAML: {problem}", hint="fix the syntax at that line"
        ) from None
    except RecursionError:
        raise DefinitionError(f"{name}: invalid YAML: nested too deeply") from None


def load_documents(path: Path, root: Path) -> list[Any]:
    """The non-empty documents of a YAML file."""
    return parse_documents(read_text(path, root), relative(path, root))
