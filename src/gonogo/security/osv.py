"""An offline OSV advisory database: a folder of OSV JSON or YAML files, or OSV's
``all.zip`` ecosystem archives, read recursively and indexed by package.

A malformed file is skipped with a warning (one per file, kept on the database);
a folder with no advisory at all is an error, never "no vulnerabilities".
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gonogo.evidence.lockfiles import normalise
from gonogo.security import AdvisoryDatabaseError

# libyaml's loader is several times faster on a full PyPI snapshot; the pure one works too
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SUFFIXES = (".json", ".yaml", ".yml")


class AdvisoryFormatError(ValueError):
    """One OSV record is malformed (the loader turns it into a warning)."""


@dataclass(frozen=True)
class Range:
    """One ``affected[].ranges[]`` entry: its type and ordered ``(kind, version)`` events."""

    type: str
    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Affected:
    """What one advisory says about one package."""

    ecosystem: str
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    database_severity: str | None = None


@dataclass(frozen=True)
class Advisory:
    """One OSV record, reduced to what the audit needs."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    affected: tuple[Affected, ...]
    severity: tuple[tuple[str, str], ...] = ()
    database_severity: str | None = None
    modified: str = ""
    published: str = ""
    source: str = ""
    references: tuple[str, ...] = ()

    @property
    def ids(self) -> frozenset[str]:
        """The id and every alias, upper case (how exceptions are matched)."""
        return frozenset(i.upper() for i in (self.id, *self.aliases))


@dataclass
class AdvisoryDatabase:
    """Advisories indexed by ``(ecosystem, normalised name)``, with load warnings."""

    root: Path
    index: dict[tuple[str, str], list[tuple[Advisory, Affected]]] = field(default_factory=dict)
    advisories: int = 0
    files: int = 0
    warnings: list[str] = field(default_factory=list)
    declared: set[str] = field(default_factory=set)

    def lookup(self, ecosystem: str, name: str) -> list[tuple[Advisory, Affected]]:
        """The advisories that name this package (normalised as the ecosystem does)."""
        return self.index.get((ecosystem, normalise(ecosystem, name)), [])

    def add(self, advisory: Advisory) -> None:
        """Index one advisory under every package it names."""
        self.advisories += 1
        for affected in advisory.affected:
            key = (affected.ecosystem, normalise(affected.ecosystem, affected.name))
            self.index.setdefault(key, []).append((advisory, affected))

    def ecosystems(self) -> set[str]:
        """The ecosystems present (also those of records skipped unparsed)."""
        return {eco for eco, _ in self.index} | {e.split(":", 1)[0] for e in self.declared}


_ECOSYSTEM = re.compile(rb"""ecosystem["']?\s*:\s*["']?([A-Za-z][\w.-]*)""")


def _name_filter(packages: Iterable[tuple[str, str]]) -> re.Pattern[bytes]:
    """A pattern that finds any of these package names (any case and PEP 503 spelling)."""
    names = sorted({name for _, name in packages}, key=len, reverse=True)
    alternatives = [
        "[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", name.lower()))
        for name in names
    ]
    body = "|".join(alternatives) or "(?!)"
    return re.compile(f"(?<![a-z0-9._-])(?:{body})(?![a-z0-9._-])".encode())


def load_database(
    root: Path, packages: Iterable[tuple[str, str]] | None = None
) -> AdvisoryDatabase:
    """Read every advisory under ``root`` (files and ``*.zip`` archives, recursively).

    With ``packages`` (``(ecosystem, name)`` pairs), only records that mention one
    of those names are parsed: the rest are counted, and their ecosystems noted,
    without the cost of decoding them. Raises AdvisoryDatabaseError when ``root``
    is missing or holds no advisory; malformed files become warnings on the
    result. A record whose id was seen before (the same advisory in a zip and a
    folder) is read once.
    """
    if not root.exists():
        raise AdvisoryDatabaseError(
            f"advisory database {root} does not exist",
            hint="run `gonogo deps sync --db DIR` or pass --db with a folder of OSV files",
        )
    if not root.is_dir():
        raise AdvisoryDatabaseError(f"advisory database {root} is not a folder")
    db = AdvisoryDatabase(root=root)
    seen: set[str] = set()
    wanted = None if packages is None else _name_filter(packages)
    for label, raw in _documents(root, db.warnings):
        db.files += 1
        if wanted is not None:
            db.declared.update(m.decode() for m in _ECOSYSTEM.findall(raw[:20_000]))
            if not wanted.search(raw.lower()):
                continue
        try:
            advisory = parse_advisory(_decode(label, raw), source=label)
        except (AdvisoryFormatError, ValueError, yaml.YAMLError) as exc:
            db.warnings.append(f"{label}: skipped, not a valid OSV record: {_one_line(exc)}")
            continue
        if advisory.id in seen:
            continue
        seen.add(advisory.id)
        db.add(advisory)
    if db.advisories == 0 and (wanted is None or db.files == 0):
        detail = f" ({len(db.warnings)} files skipped as malformed)" if db.warnings else ""
        raise AdvisoryDatabaseError(
            f"advisory database {root} holds no advisories{detail}",
            hint="an empty database would hide every vulnerability: run `gonogo deps sync`",
        )
    return db


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def _documents(root: Path, warnings: list[str]) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        suffix = path.suffix.lower()
        if suffix in _SUFFIXES:
            try:
                yield str(path), path.read_bytes()
            except OSError as exc:
                warnings.append(f"{path}: skipped, cannot read: {exc.strerror}")
        elif suffix == ".zip":
            yield from _zip_members(path, warnings)


def _zip_members(path: Path, warnings: list[str]) -> Iterator[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.lower().endswith(_SUFFIXES):
                    continue
                yield f"{path}!{info.filename}", archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        warnings.append(f"{path}: skipped, not a readable zip archive: {_one_line(exc)}")


def _decode(label: str, raw: bytes) -> Any:
    text = raw.decode("utf-8")
    if label.lower().endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader (C or pure)


def parse_advisory(data: Any, *, source: str = "") -> Advisory:
    """One OSV record from its decoded JSON/YAML; AdvisoryFormatError when malformed."""
    if not isinstance(data, Mapping):
        raise AdvisoryFormatError("the document is not an object")
    ident = data.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise AdvisoryFormatError("no `id`")
    affected_raw = data.get("affected") or []
    if not isinstance(affected_raw, list):
        raise AdvisoryFormatError("`affected` is not a list")
    return Advisory(
        id=ident.strip(),
        aliases=tuple(_strings(data.get("aliases"), "aliases")),
        summary=_summary(data),
        affected=tuple(_affected(item) for item in affected_raw),
        severity=_severity(data.get("severity")),
        database_severity=_database_severity(data.get("database_specific")),
        modified=str(data.get("modified") or ""),
        published=str(data.get("published") or ""),
        source=source,
        references=tuple(
            str(ref["url"])
            for ref in data.get("references") or []
            if isinstance(ref, Mapping) and ref.get("url")
        ),
    )


def _summary(data: Mapping[str, Any]) -> str:
    text = data.get("summary") or data.get("details") or ""
    return " ".join(str(text).split())


def _strings(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryFormatError(f"`{key}` is not a list")
    return [str(v) for v in value]


def _severity(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AdvisoryFormatError("`severity` is not a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping) or "type" not in item or "score" not in item:
            raise AdvisoryFormatError("a `severity` entry lacks `type` or `score`")
        out.append((str(item["type"]), str(item["score"])))
    return tuple(out)


def _database_severity(value: Any) -> str | None:
    if isinstance(value, Mapping):
        severity = value.get("severity")
        if isinstance(severity, str) and severity.strip():
            return severity.strip()
    return None


def _affected(item: Any) -> Affected:
    if not isinstance(item, Mapping):
        raise AdvisoryFormatError("an `affected` entry is not an object")
    package = item.get("package")
    if not isinstance(package, Mapping):
        raise AdvisoryFormatError("an `affected` entry has no `package`")
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str) or not name:
        raise AdvisoryFormatError("an `affected.package` lacks `ecosystem` or `name`")
    ranges = []
    for raw in item.get("ranges") or []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("events"), list):
            raise AdvisoryFormatError("a range has no `events` list")
        events = []
        for event in raw["events"]:
            if not isinstance(event, Mapping) or len(event) != 1:
                raise AdvisoryFormatError("a range event is not a one-key object")
            ((kind, version),) = event.items()
            events.append((str(kind), str(version)))
        ranges.append(Range(type=str(raw.get("type", "")), events=tuple(events)))
    return Affected(
        ecosystem=ecosystem.split(":", 1)[0],
        name=name,
        ranges=tuple(ranges),
        versions=tuple(_strings(item.get("versions"), "versions")),
        severity=_severity(item.get("severity")),
        database_severity=_database_severity(item.get("database_specific")),
    )
