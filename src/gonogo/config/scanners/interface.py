"""What a scanner finds in one file: reads, definitions and warnings.

A **read** is code (or a script, or compose interpolation) reading a variable; a
**definition** is a config file giving a variable a value for some environment. A
scanner never raises on bad input: an unparsable file becomes a :class:`ScanWarning`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from gonogo.config.inventory import VarType
from gonogo.config.refs import ValueKind
from gonogo.errors import GonogoError


class ScanError(GonogoError):
    """The scan as a whole cannot run (the folder is missing, say)."""


class Source(StrEnum):
    """The kind of file a finding comes from."""

    PYTHON = "python"
    JAVASCRIPT = "javascript"
    GO = "go"
    SHELL = "shell"
    DOCKERFILE = "dockerfile"
    COMPOSE = "compose"
    KUBERNETES = "kubernetes"
    GITHUB_ACTIONS = "github-actions"
    DOTENV = "dotenv"


@dataclass(frozen=True)
class Read:
    """A place that reads a variable."""

    name: str
    path: str
    line: int
    source: Source
    required: bool = False
    default: str | None = None
    type: VarType | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False
    """The read itself marks it secret (a pydantic ``SecretStr`` field, say)."""

    @property
    def location(self) -> str:
        """``path:line``."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Definition:
    """A place where a config file gives a variable a value.

    ``value`` is kept in memory to classify it and is never rendered: it is left out of
    ``repr`` and of every output.
    """

    name: str
    path: str
    line: int
    source: Source
    environment: str
    kind: ValueKind
    value: str | None = field(default=None, repr=False)
    secret: bool = False
    """The way it is defined marks it secret (``secretKeyRef``, a Secret manifest)."""
    description: str = ""
    context: str = ""
    """Where in the file, for people: ``service api``, ``job deploy``, ``Secret db``."""

    @property
    def location(self) -> str:
        """``path:line``."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class ScanWarning:
    """A file the scan could not read or parse; the rest of the scan goes on."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class FileScan:
    """What one scanner found in one file."""

    reads: list[Read] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)

    def extend(self, other: FileScan) -> None:
        """Add another file's findings."""
        self.reads += other.reads
        self.definitions += other.definitions
        self.warnings += other.warnings


@dataclass(frozen=True)
class FileInput:
    """A file handed to a scanner: its path on disk, its path for people, its text."""

    path: Path
    rel: str
    text: str
    root: Path


Scanner = Callable[[FileInput], FileScan]
"""A scanner: one function per source kind, never raising on bad input."""
