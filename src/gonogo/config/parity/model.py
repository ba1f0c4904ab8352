"""What an environment's definitions hold: variables, compared facts, toggles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gonogo.config.refs import ValueKind
from gonogo.errors import ConfigError
from gonogo.policy.environments import ParityKind


class DefinitionError(ConfigError):
    """An environment definition (env file, manifest, overlay, values) is missing or invalid."""


@dataclass(frozen=True)
class Setting:
    """A value an environment gives a variable.

    ``value`` is kept to compare and classify; it is never rendered for a secret.
    """

    name: str
    where: str
    """``path:line`` or ``path``: the file that gives the value."""
    kind: ValueKind
    value: str | None = field(default=None, repr=False)
    secret: bool = False
    """Defined as a secret: a ``secretKeyRef``, a ``Secret``'s data, a ``secretGenerator``."""
    origin: str = ""
    """Where inside the definitions, for people: ``ConfigMap app``, ``Secret api, key token``."""


@dataclass(frozen=True)
class Fact:
    """One compared property that is not a variable: topology, or a Helm value.

    ``compare`` is what is compared (a normalised quantity, say); ``value`` is shown,
    unless ``secret``.
    """

    key: str
    kind: ParityKind
    value: str = field(repr=False)
    where: str
    compare: str = field(default="", repr=False)
    secret: bool = False
    value_kind: ValueKind = ValueKind.LITERAL

    @property
    def comparable(self) -> str:
        """The form two environments' facts are compared in."""
        return self.compare or self.value


Toggle = bool | int | float | str


@dataclass(frozen=True)
class EnvironmentDefinition:
    """Everything one environment's definitions declare."""

    name: str
    variables: Mapping[str, Setting]
    facts: Mapping[str, Fact]
    toggles: Mapping[str, Toggle]
    files: tuple[str, ...]
    """Every file read, relative to the project root, in reading order."""
    warnings: tuple[str, ...] = ()
