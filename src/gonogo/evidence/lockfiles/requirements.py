"""pip requirements files: pins, hashes, ``-r`` includes, ``-c`` constraints, markers.

What pip would install on this interpreter is what is reported: a line whose
environment marker is false here (``; python_version < "3.8"``) is left out, a
requirement pinned only by a constraints file takes the constraint's version, and
every per-requirement option (``--hash=…``) is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement

from gonogo.evidence.lockfiles.model import Dependency, Ecosystem, LockfileError, normalise

_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION_TAIL = re.compile(r"\s+--?[A-Za-z]")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(.+)$")
# options that take a value and do not name a requirement
_GLOBAL_OPTIONS = re.compile(
    r"^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--no-binary|"
    r"--only-binary|--use-feature|--config-settings|--global-option)\b"
)
_FLAGS = frozenset({"--pre", "--no-index", "--prefer-binary", "--require-hashes"})
_MAX_DEPTH = 20


@dataclass
class _State:
    requirements: list[Dependency] = field(default_factory=list)
    constraints: dict[str, Dependency] = field(default_factory=dict)
    seen: set[Path] = field(default_factory=set)


def parse_requirements(path: Path) -> list[Dependency]:
    """Every requirement of ``path`` and the files it includes, pinned where possible."""
    state = _State()
    _read(path, state, constraint=False, depth=0)
    out = []
    for dep in state.requirements:
        pin = state.constraints.get(dep.name)
        if dep.version is None and pin is not None and pin.version is not None:
            out.append(
                Dependency(dep.ecosystem, dep.name, pin.version, pin.source, pin.line, dep.spec)
            )
        else:
            out.append(dep)
    return out


def _read(path: Path, state: _State, *, constraint: bool, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise LockfileError(f"{path}: includes nested more than {_MAX_DEPTH} deep")
    resolved = path.resolve()
    if resolved in state.seen:
        return  # an include cycle, or a file included twice: read once
    state.seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockfileError(
            f"{path}: requirements file not found", hint="check the path or the -r/-c line"
        ) from None
    except UnicodeDecodeError as exc:
        raise LockfileError(
            f"{path}: cannot read the requirements file: byte {exc.start} is not UTF-8",
            hint="save it as UTF-8, or name the right file",
        ) from None
    except OSError as exc:
        raise LockfileError(
            f"{path}: cannot read the requirements file: {exc.strerror or exc}",
            hint="check the path or the -r/-c line",
        ) from None
    for number, line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include:
            target = path.parent / include.group(2).strip()
            is_constraint = include.group(1) in ("-c", "--constraint")
            _read(target, state, constraint=constraint or is_constraint, depth=depth + 1)
            continue
        dep = _requirement(line, path, number)
        if dep is None:
            continue
        if constraint:
            state.constraints.setdefault(dep.name, dep)
        else:
            state.requirements.append(dep)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each logical line: comments gone, continuations joined."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        if joined:
            yield start, joined
    if pending:
        joined = " ".join(part.strip() for part in pending).strip()
        if joined:
            yield start, joined


def _requirement(line: str, path: Path, number: int) -> Dependency | None:
    if line in _FLAGS or _GLOBAL_OPTIONS.match(line):
        return None
    if line.startswith(("-e", "--editable")):
        return None  # a local checkout in development mode: nothing to match
    if line.startswith((".", "/", "~")) or (line.startswith(("http:", "https:", "file:"))):
        return None  # a bare path or archive URL names no project
    if line.startswith("-"):
        raise LockfileError(
            f"{path}:{number}: unknown option {line.split(maxsplit=1)[0]!r}",
            hint="pip requirements files take requirements, -r, -c and pip's global options",
        )
    requirement_text = _OPTION_TAIL.split(line, maxsplit=1)[0]
    try:
        req = Requirement(requirement_text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise LockfileError(
            f"{path}:{number}: not a valid requirement: {first}",
            hint="each line is a PEP 508 requirement such as `flask==3.0.3`",
        ) from None
    if req.marker is not None:
        try:
            if not req.marker.evaluate():
                return None
        except (UndefinedComparison, UndefinedEnvironmentName):
            pass  # keep what we cannot decide: reporting too much beats hiding a package
    name = normalise(Ecosystem.PYPI, req.name)
    if req.url:
        return Dependency(Ecosystem.PYPI, name, None, str(path), number, req.url)
    return Dependency(
        Ecosystem.PYPI, name, pinned_version(req), str(path), number, str(req.specifier)
    )


def pinned_version(req: Requirement) -> str | None:
    """The one version ``req`` allows (``==1.2.3`` or ``===1.2.3``), or None for a range."""
    specs = list(req.specifier)
    if len(specs) != 1:
        return None
    spec = specs[0]
    if spec.operator in ("==", "===") and "*" not in spec.version:
        return spec.version
    return None
