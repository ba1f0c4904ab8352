"""Semantic Versioning 2.0.0 versions and their order, as npm compares them.

Precedence (semver.org, item 11): major, minor and patch compare numerically; a
pre-release sorts before its release; pre-release identifiers compare one by
one, numeric ones numerically and below alphanumeric ones, which compare in
ASCII order, and a shorter list sorts first when all else is equal. Build
metadata (``+…``) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


class InvalidSemver(ValueError):
    """The text is not a semantic version."""


@total_ordering
@dataclass(frozen=True)
class Semver:
    """A parsed semantic version; ``<`` is semver precedence."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> Semver:
        """Parse ``1.2.3``, ``v1.2.3-rc.1+build.5``; raise InvalidSemver otherwise."""
        match = _SEMVER.match(text.strip())
        if match is None:
            raise InvalidSemver(f"not a semantic version: {text!r}")
        major, minor, patch, pre, build = match.groups()
        identifiers: tuple[int | str, ...] = ()
        if pre:
            identifiers = tuple(int(p) if p.isdigit() else p for p in pre.split("."))
        return cls(int(major), int(minor), int(patch), identifiers, build or "")

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # a release (no pre-release) sorts after every pre-release of the same triple
        pre = tuple(
            (0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Semver):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Semver):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(p) for p in self.prerelease)
        if self.build:
            text += "+" + self.build
        return text
