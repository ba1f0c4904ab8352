"""What a lockfile parser yields: one dependency with the file and line it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from gonogo.errors import EvidenceError


class Ecosystem(StrEnum):
    """The package ecosystems gonogo audits, spelled as OSV spells them."""

    PYPI = "PyPI"
    NPM = "npm"


class LockfileError(EvidenceError):
    """A lockfile or requirements file is unreadable or malformed."""


_PEP503 = re.compile(r"[-_.]+")


def normalise(ecosystem: Ecosystem | str, name: str) -> str:
    """A package name in its ecosystem's canonical form.

    PyPI: PEP 503 (lower case, runs of ``-``, ``_`` and ``.`` become one ``-``).
    npm: lower case (the registry refuses new names with capitals; old ones compare so).
    """
    if str(ecosystem) == Ecosystem.PYPI.value:
        return _PEP503.sub("-", name.strip()).lower()
    return name.strip().lower()


@dataclass(frozen=True)
class Dependency:
    """One package a project uses, where it was declared.

    ``version`` is None when the file does not pin one (a range in ``pyproject.toml``,
    a URL or a folder); ``spec`` then holds what it said instead.
    """

    ecosystem: Ecosystem
    name: str
    version: str | None
    source: str
    line: int | None = None
    spec: str = ""

    @property
    def pinned(self) -> bool:
        """Whether the file names one exact version (only these are matched)."""
        return self.version is not None

    @property
    def location(self) -> str:
        """``file:line`` (or just the file)."""
        return f"{self.source}:{self.line}" if self.line else self.source


class LineFinder:
    """Line numbers of successive snippets in a text, searched from a moving cursor.

    Parsers of TOML and JSON lockfiles walk entries in file order; each entry's
    snippet (``name = "flask"``) is searched after the previous one, so repeated
    names get their own lines.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._cursor = 0

    def find(self, *needles: str, line_start: bool = False) -> int | None:
        """The 1-based line of the first needle found after the cursor; moves the cursor.

        ``line_start``: only where the needle begins its line (after indentation),
        so ``name = "x"`` of a ``[[package]]`` table is found, not an inline table's.
        """
        best = -1
        for needle in needles:
            if line_start:
                pattern = re.compile(r"^[ \t]*" + re.escape(needle), re.MULTILINE)
                match = pattern.search(self._text, self._cursor)
                at = match.start() if match else -1
            else:
                at = self._text.find(needle, self._cursor)
            if at >= 0 and (best < 0 or at < best):
                best = at
        if best < 0:
            return None
        self._cursor = best + 1
        return self._text.count("\n", 0, best) + 1
