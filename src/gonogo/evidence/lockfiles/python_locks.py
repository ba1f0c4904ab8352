"""TOML files of the Python world: PEP 621 ``pyproject.toml``, ``poetry.lock``, ``uv.lock``,
``pylock.toml`` (PEP 751); and Pipfile's JSON ``Pipfile.lock``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from gonogo.evidence.lockfiles.model import (
    Dependency,
    Ecosystem,
    LineFinder,
    LockfileError,
    normalise,
)
from gonogo.evidence.lockfiles.requirements import pinned_version


def read_text(path: Path, what: str) -> str:
    """The file's text, or a LockfileError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockfileError(f"{path}: {what} not found", hint="check the path") from None
    except UnicodeDecodeError as exc:
        raise LockfileError(
            f"{path}: cannot read the {what}: byte {exc.start} is not UTF-8",
            hint="save it as UTF-8, or name the right file",
        ) from None
    except OSError as exc:
        raise LockfileError(
            f"{path}: cannot read the {what}: {exc.strerror or exc}", hint="check the path"
        ) from None


def _toml(path: Path, what: str) -> tuple[str, dict[str, Any]]:
    text = read_text(path, what)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(
            f"{path}: not valid TOML: {exc}", hint=f"regenerate the {what}"
        ) from None


def _table_list(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise LockfileError(f"{path}: `{key}` is not an array of tables")
    return entries


def _str(entry: dict[str, Any], key: str, path: Path, index: int, *, required: bool) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise LockfileError(f"{path}: entry {index + 1} has no valid `{key}` (found {value!r})")
    return value


def parse_locked_packages(path: Path, *, what: str, key: str) -> list[Dependency]:
    """``poetry.lock`` / ``uv.lock`` (``[[package]]``) and ``pylock.toml`` (``[[packages]]``)."""
    text, data = _toml(path, what)
    if key not in data:
        raise LockfileError(
            f"{path}: no [[{key}]] entries: this does not look like a {what}",
            hint=f"pass the {what} its tool wrote",
        )
    lines = LineFinder(text)
    out = []
    for index, entry in enumerate(_table_list(data, key, path)):
        name = _str(entry, "name", path, index, required=True)
        assert name is not None  # noqa: S101 - required=True never returns None
        version = _str(entry, "version", path, index, required=False)
        line = lines.find(f'name = "{name}"', f"name = '{name}'", line_start=True)
        source = entry.get("source")
        if isinstance(source, dict) and ({"editable", "virtual"} & source.keys()):
            continue  # the project itself (uv): not a published package
        spec = "" if version else "no version (a folder, VCS or URL source)"
        out.append(
            Dependency(
                Ecosystem.PYPI, normalise(Ecosystem.PYPI, name), version, str(path), line, spec
            )
        )
    return out


def parse_pyproject(path: Path) -> list[Dependency]:
    """PEP 621 ``[project] dependencies`` and optional dependencies, and PEP 735 groups.

    Only ``==`` pins carry a version; ranges are reported as unpinned.
    """
    text, data = _toml(path, "pyproject.toml")
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise LockfileError(f"{path}: [project] is not a table")
    found: list[str] = []
    found += _strings(project.get("dependencies", []), path, "project.dependencies")
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise LockfileError(f"{path}: [project.optional-dependencies] is not a table")
    for extra, items in optional.items():
        found += _strings(items, path, f"project.optional-dependencies.{extra}")
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        for group, items in groups.items():
            if isinstance(items, list):
                found += [i for i in items if isinstance(i, str)]  # skip {include-group = …}
            else:
                raise LockfileError(f"{path}: dependency-groups.{group} is not an array")
    lines = LineFinder(text)
    out = []
    for item in found:
        line = lines.find(f'"{item}"', f"'{item}'")
        try:
            req = Requirement(item)
        except InvalidRequirement as exc:
            where = f"{path}:{line}" if line else str(path)
            first = str(exc).splitlines()[0]
            raise LockfileError(f"{where}: not a valid requirement {item!r}: {first}") from None
        name = normalise(Ecosystem.PYPI, req.name)
        version = None if req.url else pinned_version(req)
        spec = req.url or str(req.specifier) or "any version"
        out.append(Dependency(Ecosystem.PYPI, name, version, str(path), line, spec))
    return out


def _strings(value: Any, path: Path, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LockfileError(f"{path}: {key} is not an array of strings")
    return list(value)


def parse_pipfile_lock(path: Path) -> list[Dependency]:
    """``Pipfile.lock``: the ``default`` and ``develop`` sections, versions as ``==X``."""
    text = read_text(path, "Pipfile.lock")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(f"{path}: not valid JSON: {exc}", hint="run `pipenv lock`") from None
    if not isinstance(data, dict) or not ({"default", "develop"} & data.keys()):
        raise LockfileError(
            f"{path}: no `default` or `develop` section: this is not a Pipfile.lock",
            hint="run `pipenv lock`",
        )
    lines = LineFinder(text)
    out = []
    for section in ("default", "develop"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise LockfileError(f"{path}: `{section}` is not an object")
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise LockfileError(f"{path}: {section}.{name} is not an object")
            raw = entry.get("version")
            line = lines.find(json.dumps(name) + ":")
            version = raw[2:] if isinstance(raw, str) and raw.startswith("==") else None
            spec = "" if version else str(entry.get("git") or entry.get("path") or raw or "")
            out.append(
                Dependency(
                    Ecosystem.PYPI, normalise(Ecosystem.PYPI, name), version, str(path), line, spec
                )
            )
    return out
