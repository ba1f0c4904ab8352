"""Shared by checks that read report files: find them, digest them, map parse errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gonogo.checks.globs import glob_files, is_glob, kind_of
from gonogo.checks.interface import CheckContext, CheckError, NotReported
from gonogo.digest import sha256_file
from gonogo.errors import EvidenceError
from gonogo.gates.results import EvidenceRef

T = TypeVar("T")


def report_files(
    pattern: str | None, ctx: CheckContext, *, what: str, key: str = "path"
) -> list[Path]:
    """The report files for a criterion: ingested evidence, else ``pattern`` (a path or glob).

    Raises NotReported when there are none: the producing step has not run.
    """
    ingested = ctx.ingested()
    if ingested is not None:
        return [ingested]
    if pattern is None:
        raise NotReported(
            f"no {what} path set and nothing ingested",
            hint=f"set `{key}` or push one with `gonogo ingest {ctx.gate}.{ctx.criterion} FILE`",
        )
    if not pattern.strip():
        raise CheckError(
            f"`{key}` of the {what} is empty", hint=f"point `{key}` at the {what} file"
        )
    if is_glob(pattern):
        files = glob_files(ctx.root, pattern, key=key)
    else:
        path = ctx.resolve(pattern)
        kind = kind_of(path, key=key, shown=pattern)
        if kind == "folder":
            raise CheckError(f"{pattern} is a folder", hint=f"point `{key}` at the {what} file")
        if kind == "other":
            raise CheckError(
                f"{pattern} is not a regular file (a device, pipe or socket)",
                hint=f"point `{key}` at the {what} file",
            )
        files = [path] if kind == "file" else []
    if not files:
        raise NotReported(
            f"no {what} at {pattern}",
            hint=f"run the step that writes it first, or fix `{key}`",
        )
    return files


def parse_all(files: list[Path], parse: Callable[[Path], T]) -> list[T]:
    """Parse every file; a malformed one becomes a CheckError naming it."""
    parsed = []
    for file in files:
        try:
            parsed.append(parse(file))
        except EvidenceError as exc:
            raise CheckError(str(exc)) from None
    return parsed


def refs(files: list[Path], *, kind: str, root: Path) -> tuple[EvidenceRef, ...]:
    """Evidence references with content digests, paths relative to the project when possible."""
    out = []
    for file in files:
        try:
            uri = str(file.relative_to(root))
        except ValueError:
            uri = file.name
        out.append(EvidenceRef(kind=kind, uri=uri, sha256=sha256_file(file)))
    return tuple(out)
