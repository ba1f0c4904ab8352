"""Scan a project: find its files, hand each to its scanner, collect what they found.

Nothing here raises on a bad file: an unreadable, binary, oversized or unparsable file
becomes a warning naming it, and the scan goes on.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gonogo.config.inventory import name_problem
from gonogo.config.scanners.docker import scan_compose, scan_dockerfile
from gonogo.config.scanners.dotenv import scan_dotenv
from gonogo.config.scanners.github_actions import scan_workflow
from gonogo.config.scanners.go import scan_go
from gonogo.config.scanners.interface import (
    Definition,
    FileInput,
    FileScan,
    Read,
    ScanError,
    ScanWarning,
    Source,
)
from gonogo.config.scanners.javascript import scan_javascript
from gonogo.config.scanners.kubernetes import looks_like_manifest, scan_kubernetes
from gonogo.config.scanners.python import scan_python
from gonogo.config.scanners.shell import scan_shell
from gonogo.secrets import printable

#: folders never scanned: tools' caches, dependencies, version control
SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".gonogo",
        "site-packages",
        ".terraform",
        "vendor",
        ".next",
        ".nuxt",
        "htmlcov",
        ".idea",
        ".vscode",
    }
)
MAX_BYTES = 2 * 1024 * 1024
_JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"})
_SHELL_SUFFIXES = frozenset({".sh", ".bash", ".ksh", ".zsh"})
_SHEBANG = re.compile(rb"^#!\s*\S*(?:/|env\s+)(?:ba|k|z|da)?sh\b")
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml$")
_DOCKERFILE = re.compile(r"^(?:(?:Docker|Container)file(?:\.[\w-]+)?|[\w-]+\.[Dd]ockerfile)$")

_SCANNERS: dict[Source, Callable[[FileInput], FileScan]] = {
    Source.PYTHON: scan_python,
    Source.JAVASCRIPT: scan_javascript,
    Source.GO: scan_go,
    Source.SHELL: scan_shell,
    Source.DOCKERFILE: scan_dockerfile,
    Source.COMPOSE: scan_compose,
    Source.GITHUB_ACTIONS: scan_workflow,
    Source.DOTENV: scan_dotenv,
}


@dataclass
class ScanResult:
    """Everything a scan found, in file order."""

    root: Path
    reads: list[Read] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)
    files: list[tuple[str, Source]] = field(default_factory=list)

    @property
    def read_names(self) -> frozenset[str]:
        """Every variable something reads."""
        return frozenset(r.name for r in self.reads)

    def unread(self) -> dict[str, list[Definition]]:
        """Variables config files define that no scanned code reads."""
        names = self.read_names
        found: dict[str, list[Definition]] = {}
        for definition in self.definitions:
            if definition.name not in names:
                found.setdefault(definition.name, []).append(definition)
        return dict(sorted(found.items()))


def source_of(rel: str, path: Path) -> Source | None:
    """Which scanner reads the file at ``rel`` (None: not a file the scan reads)."""
    pure = PurePosixPath(rel)
    name, suffix = pure.name, pure.suffix.lower()
    if suffix == ".py":
        return Source.PYTHON
    if suffix in _JS_SUFFIXES and not name.endswith((".min.js", ".d.ts")):
        return Source.JAVASCRIPT
    if suffix == ".go":
        return Source.GO
    if suffix in _SHELL_SUFFIXES:
        return Source.SHELL
    if _DOCKERFILE.match(name):
        return Source.DOCKERFILE
    if name == ".env" or name.startswith(".env.") or (suffix == ".env" and name != ".env"):
        return Source.DOTENV
    if suffix in {".yml", ".yaml"}:
        if _COMPOSE.match(name):
            return Source.COMPOSE
        if pure.parent.as_posix().endswith(".github/workflows"):
            return Source.GITHUB_ACTIONS
        return Source.KUBERNETES  # confirmed by content when read
    if not suffix and _has_shell_shebang(path):
        return Source.SHELL
    return None


def _has_shell_shebang(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return _SHEBANG.match(handle.read(128)) is not None
    except OSError:
        return False


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel, p.rstrip("/") + "/*") for p in patterns
    )


def discover(root: Path, exclude: Sequence[str] = ()) -> list[tuple[Path, str, Source]]:
    """The files under ``root`` a scanner reads, sorted by path."""
    found: list[tuple[Path, str, Source]] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        rel_base = base.relative_to(root).as_posix()
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_FOLDERS
            and not _excluded(d if rel_base == "." else f"{rel_base}/{d}", exclude)
            and not _helm_templates(base, d)
        )
        for name in files:
            rel = name if rel_base == "." else f"{rel_base}/{name}"
            if _excluded(rel, exclude):
                continue
            source = source_of(rel, base / name)
            if source is not None:
                # rel is reported and written to the inventory: a byte that is not
                # UTF-8, or a control character, in a name is shown as its escape
                found.append((base / name, printable(rel), source))
    return sorted(found, key=lambda item: item[1])


def _helm_templates(base: Path, folder: str) -> bool:
    """Helm chart templates are Go templates, not YAML: skip them."""
    return folder == "templates" and (base / "Chart.yaml").is_file()


def _read(path: Path, rel: str) -> tuple[str | None, ScanWarning | None]:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            mib = size / 1024 / 1024
            return None, ScanWarning(rel, f"too large to scan ({mib:.1f} MiB); skipped")
        data = path.read_bytes()
    except OSError as exc:
        return None, ScanWarning(rel, f"cannot read ({exc.strerror or exc}); skipped")
    if b"\0" in data[:8192]:
        return None, ScanWarning(rel, "binary file; skipped")
    return data.decode("utf-8-sig", errors="replace"), None


def scan_tree(root: Path, *, exclude: Sequence[str] = ()) -> ScanResult:
    """Scan every file under ``root``; ScanError only when ``root`` is no folder."""
    if not root.is_dir():
        raise ScanError(f"{root} is not a folder", hint="name the project folder to scan")
    root = root.resolve()
    result = ScanResult(root=root)
    manifests: list[FileInput] = []
    for path, rel, source in discover(root, exclude):
        text, warning = _read(path, rel)
        if warning is not None:
            result.warnings.append(warning)
            continue
        assert text is not None  # noqa: S101 - _read returns text or a warning
        file = FileInput(path=path, rel=rel, text=text, root=root)
        if source is Source.KUBERNETES:
            if looks_like_manifest(text):
                manifests.append(file)
                result.files.append((rel, source))
            continue
        result.files.append((rel, source))
        _merge(result, _SCANNERS[source](file))
    if manifests:
        _merge(result, scan_kubernetes(manifests))
    result.definitions = _unique(result.definitions)
    return result


def _merge(result: ScanResult, found: FileScan) -> None:
    result.reads += [r for r in found.reads if _usable(r, result)]
    result.definitions += [d for d in found.definitions if _usable(d, result)]
    result.warnings += found.warnings


def _usable(item: Read | Definition, result: ScanResult) -> bool:
    """Whether ``item`` names a variable an environment can hold; a warning when not."""
    problem = name_problem(item.name)
    if problem is None:
        return True
    shown = f"'{printable(item.name)}'"
    result.warnings.append(ScanWarning(item.path, f"line {item.line}: {shown} {problem}; skipped"))
    return False


def _unique(definitions: Iterable[Definition]) -> list[Definition]:
    """One definition per name, place and environment (a compose env_file is also a dotenv)."""
    seen: dict[tuple[str, str, int, str], Definition] = {}
    for d in definitions:
        seen.setdefault((d.name, d.path, d.line, d.environment), d)
    return list(seen.values())
