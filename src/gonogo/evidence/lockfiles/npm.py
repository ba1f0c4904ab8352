"""npm's ``package-lock.json`` (and ``npm-shrinkwrap.json``): v2/v3 ``packages``, v1
``dependencies``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gonogo.evidence.lockfiles.model import (
    Dependency,
    Ecosystem,
    LineFinder,
    LockfileError,
    normalise,
)
from gonogo.evidence.lockfiles.python_locks import read_text

_MODULES = "node_modules/"


def parse_package_lock(path: Path) -> list[Dependency]:
    """Every installed package of an npm lockfile, with the line of its entry."""
    text = read_text(path, "package-lock.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(f"{path}: not valid JSON: {exc}", hint="run `npm install`") from None
    if not isinstance(data, dict) or "lockfileVersion" not in data:
        raise LockfileError(
            f"{path}: no `lockfileVersion`: this is not an npm lockfile", hint="run `npm install`"
        )
    lines = LineFinder(text)
    packages = data.get("packages")
    if isinstance(packages, dict):
        return list(_from_packages(packages, path, lines))
    dependencies = data.get("dependencies", {})
    if not isinstance(dependencies, dict):
        raise LockfileError(f"{path}: `dependencies` is not an object")
    return list(_from_dependencies(dependencies, path, lines))


def _from_packages(packages: dict[str, Any], path: Path, lines: LineFinder) -> Iterator[Dependency]:
    for key, entry in packages.items():
        if not isinstance(entry, dict):
            raise LockfileError(f"{path}: packages[{key!r}] is not an object")
        line = lines.find(json.dumps(key) + ":")
        if _MODULES not in key or entry.get("link"):
            continue  # the root project, a workspace folder, or a symlink to one
        name = entry.get("name") or key.rsplit(_MODULES, 1)[1]
        version = entry.get("version")
        if not isinstance(name, str) or (version is not None and not isinstance(version, str)):
            raise LockfileError(f"{path}: packages[{key!r}] has a malformed name or version")
        yield Dependency(
            Ecosystem.NPM,
            normalise(Ecosystem.NPM, name),
            version,
            str(path),
            line,
            "" if version else "no version",
        )


def _from_dependencies(
    dependencies: dict[str, Any], path: Path, lines: LineFinder
) -> Iterator[Dependency]:
    for name, entry in dependencies.items():
        if not isinstance(entry, dict):
            raise LockfileError(f"{path}: dependencies[{name!r}] is not an object")
        line = lines.find(json.dumps(name) + ":")
        version = entry.get("version")
        if not isinstance(version, str):
            raise LockfileError(f"{path}: dependencies[{name!r}] has no version")
        pinned = None if ":" in version else version  # "file:…", "git+…" name no release
        yield Dependency(
            Ecosystem.NPM,
            normalise(Ecosystem.NPM, name),
            pinned,
            str(path),
            line,
            "" if pinned else version,
        )
        nested = entry.get("dependencies")
        if isinstance(nested, dict):
            yield from _from_dependencies(nested, path, lines)
