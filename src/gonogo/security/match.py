"""Is this version affected? Which release fixes it?

PyPI versions compare by PEP 440 (``packaging.version``); npm versions by
semver precedence (:mod:`gonogo.security.semver`). An OSV ``affected`` entry
matches when the version is in its explicit ``versions`` list or inside one of
its ``ECOSYSTEM``/``SEMVER`` ranges, evaluated as the OSV schema prescribes:
events sorted by version, ``introduced`` opens, ``fixed`` closes (exclusive),
``last_affected`` closes (inclusive), ``limit`` caps. ``GIT`` ranges name
commits, which lockfiles do not record: they are left to the ``versions`` list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from gonogo.evidence.lockfiles import Ecosystem
from gonogo.security.osv import Affected, Range
from gonogo.security.semver import InvalidSemver, Semver


class Comparable(Protocol):
    """A parsed version."""

    def __lt__(self, other: Any, /) -> bool: ...


Parser = Callable[[str], Any]

_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})


class UnknownEcosystem(ValueError):
    """No version order is known for this ecosystem."""


def parser_for(ecosystem: str) -> Parser:
    """The version parser of ``ecosystem``; UnknownEcosystem for others."""
    if ecosystem == Ecosystem.PYPI.value:
        return Version
    if ecosystem == Ecosystem.NPM.value:
        return Semver.parse
    raise UnknownEcosystem(f"unknown ecosystem {ecosystem!r} (known: PyPI, npm)")


def _parse(parse: Parser, text: str) -> Any | None:
    try:
        return parse(text)
    except (InvalidVersion, InvalidSemver):
        return None


@dataclass(frozen=True)
class _Event:
    zero: bool
    version: Any
    kind: str
    order: int


def _events(events: Iterable[tuple[str, str]], parse: Parser) -> list[_Event] | None:
    """The range's events parsed and sorted, or None when a version cannot be parsed."""
    out = []
    for order, (kind, raw) in enumerate(events):
        if kind == "introduced" and raw == "0":
            out.append(_Event(zero=True, version=None, kind=kind, order=order))
            continue
        version = _parse(parse, raw)
        if version is None:
            return None
        out.append(_Event(zero=False, version=version, kind=kind, order=order))
    zero = [e for e in out if e.zero]
    rest = sorted((e for e in out if not e.zero), key=lambda e: (e.version, e.order))
    return zero + rest


def in_range(version: Any, rng: Range, parse: Parser) -> bool | None:
    """Whether ``version`` lies in ``rng``; None when the range cannot be evaluated."""
    if rng.type not in _RANGE_TYPES:
        return None
    events = _events(rng.events, parse)
    if events is None:
        return None
    affected = False
    for event in events:
        if event.kind == "introduced" and (event.zero or not version < event.version):
            affected = True
        elif (event.kind == "fixed" and not version < event.version) or (
            event.kind == "last_affected" and event.version < version
        ):
            affected = False
        elif event.kind == "limit" and not version < event.version:
            return False
    return affected


def is_affected(ecosystem: str, version: str, affected: Affected) -> bool:
    """Whether ``version`` of the package is affected according to ``affected``."""
    parse = parser_for(ecosystem)
    parsed = _parse(parse, version)
    if parsed is None:
        # an unparsable installed version can still be listed verbatim
        return version in affected.versions
    for listed in affected.versions:
        other = _parse(parse, listed)
        if (other is not None and other == parsed) or listed == version:
            return True
    return any(in_range(parsed, rng, parse) for rng in affected.ranges)


def fixed_after(ecosystem: str, version: str, affected: Affected) -> list[Any]:
    """Every ``fixed`` version of ``affected`` above ``version``, parsed, ascending."""
    parse = parser_for(ecosystem)
    parsed = _parse(parse, version)
    out = []
    for rng in affected.ranges:
        if rng.type not in _RANGE_TYPES:
            continue
        for kind, raw in rng.events:
            fixed = _parse(parse, raw) if kind == "fixed" else None
            if fixed is not None and (parsed is None or parsed < fixed):
                out.append(fixed)
    return sorted(set(out))


def smallest_fix(ecosystem: str, version: str, affected: Affected) -> str | None:
    """The smallest fixed version above ``version``, as text; None when none is known."""
    fixes = fixed_after(ecosystem, version, affected)
    return str(fixes[0]) if fixes else None


def upgrade_target(ecosystem: str, version: str, matches: list[Affected]) -> str | None:
    """The smallest fixed version above ``version`` that none of ``matches`` affects."""
    candidates = sorted({fix for a in matches for fix in fixed_after(ecosystem, version, a)})
    for candidate in candidates:
        text = str(candidate)
        if not any(is_affected(ecosystem, text, a) for a in matches):
            return text
    return None
