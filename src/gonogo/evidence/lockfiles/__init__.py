"""Dependencies declared in lockfiles, requirements files, manifests or an installed environment.

Each parser yields :class:`Dependency` values (ecosystem, normalised name, version,
``file:line``); a malformed file raises :class:`LockfileError` naming it.

| file | ecosystem | what is read |
| --- | --- | --- |
| ``requirements*.txt`` (any pip requirements file) | PyPI | pins, ``-r``/``-c``, markers, hashes |
| ``pyproject.toml`` | PyPI | PEP 621 dependencies; ranges are reported as unpinned |
| ``poetry.lock``, ``uv.lock``, ``pylock.toml`` | PyPI | every locked package |
| ``Pipfile.lock`` | PyPI | ``default`` and ``develop`` |
| ``package-lock.json``, ``npm-shrinkwrap.json`` | npm | v2/v3 ``packages``, v1 ``dependencies`` |
"""

from __future__ import annotations

from pathlib import Path

from gonogo.evidence.lockfiles.installed import installed_packages
from gonogo.evidence.lockfiles.model import (
    Dependency,
    Ecosystem,
    LineFinder,
    LockfileError,
    normalise,
)
from gonogo.evidence.lockfiles.npm import parse_package_lock
from gonogo.evidence.lockfiles.python_locks import (
    parse_locked_packages,
    parse_pipfile_lock,
    parse_pyproject,
)
from gonogo.evidence.lockfiles.requirements import parse_requirements

__all__ = [
    "Dependency",
    "Ecosystem",
    "LineFinder",
    "LockfileError",
    "discover",
    "installed_packages",
    "load_all",
    "normalise",
    "parse_lockfile",
]

_PYTHON_LOCKS = ("poetry.lock", "uv.lock", "pylock.toml", "Pipfile.lock")
_NPM_LOCKS = ("npm-shrinkwrap.json", "package-lock.json")  # shrinkwrap wins when both exist


def parse_lockfile(path: Path) -> list[Dependency]:
    """The dependencies of one file, by its name; an unknown name is read as pip requirements."""
    name = path.name
    if path.is_dir():
        raise LockfileError(f"{path} is a folder", hint="name a lockfile, or audit the folder")
    if name == "poetry.lock":
        return parse_locked_packages(path, what="poetry.lock", key="package")
    if name == "uv.lock":
        return parse_locked_packages(path, what="uv.lock", key="package")
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return parse_locked_packages(path, what="pylock.toml", key="packages")
    if name == "Pipfile.lock":
        return parse_pipfile_lock(path)
    if name in _NPM_LOCKS:
        return parse_package_lock(path)
    if name == "pyproject.toml":
        return parse_pyproject(path)
    return parse_requirements(path)


def discover(paths: list[Path]) -> list[Path]:
    """The files to audit: files as given; in a folder, the lockfiles found there.

    In a folder, a Python lockfile or requirements file makes ``pyproject.toml``
    redundant (its ranges say less than the lock), so it is read only when
    nothing better is there. Raises LockfileError for a path that does not exist.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += _in_folder(path)
        else:
            raise LockfileError(f"{path}: no such file or folder", hint="check the path")
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def _in_folder(folder: Path) -> list[Path]:
    python = [folder / n for n in _PYTHON_LOCKS if (folder / n).is_file()]
    python += sorted(p for p in folder.glob("pylock.*.toml") if p.is_file())
    python += sorted(p for p in folder.glob("requirements*.txt") if p.is_file())
    python += sorted(p for p in (folder / "requirements").glob("*.txt") if p.is_file())
    if not python and (folder / "pyproject.toml").is_file():
        python.append(folder / "pyproject.toml")
    npm = [folder / n for n in _NPM_LOCKS if (folder / n).is_file()][:1]
    return python + npm


def load_all(files: list[Path]) -> list[Dependency]:
    """The dependencies of every file, in order."""
    out: list[Dependency] = []
    for file in files:
        out += parse_lockfile(file)
    return out
