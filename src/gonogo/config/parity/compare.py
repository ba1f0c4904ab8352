"""Compare two environments' definitions: what differs, and what the policy allows.

Reported: a variable one environment sets and the other does not (``missing``); a flag
whose value differs (``flag``: a variable named like one, ``FEATURE_X``,
``SEARCH_ENABLED``, or one given true/false); a policy toggle that differs
(``toggle``); a secret whose *source* differs (``secret``: a vault reference against a
literal, say — never the values); every topology fact that differs (``replicas``,
``resources``, ``image``, ``dependency``); a Helm value that differs. Other values that
differ are reported only with ``[env.parity] values = "all"``.

A difference the policy allows (``[[env.parity.allow]]``) carries its reason and does
not count against parity.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gonogo.config.classify import secret_by_name, secret_by_value, words
from gonogo.config.inventory import Inventory
from gonogo.config.parity.model import EnvironmentDefinition, Fact, Setting, Toggle
from gonogo.config.parity.secret_sources import describe, signature
from gonogo.config.refs import ValueKind
from gonogo.policy.environments import EnvPolicy, ParityKind
from gonogo.secrets import looks_like_secret

SCHEMA = "gonogo.env-diff/v1"
_FLAG_WORDS = frozenset(
    {
        "FEATURE",
        "FEATURES",
        "FLAG",
        "FLAGS",
        "FF",
        "TOGGLE",
        "ENABLE",
        "ENABLED",
        "DISABLE",
        "DISABLED",
    }
)
_WORD_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off"})
_BOOLEANS = _WORD_BOOLEANS | {"1", "0"}
_SECRET_KINDS = frozenset({ValueKind.REFERENCE, ValueKind.SECRET_STORE})
_MAX_SHOWN = 80


@dataclass(frozen=True)
class Side:
    """One environment's side of a difference; ``value`` is what may be shown (never a secret)."""

    environment: str
    present: bool
    value: str | None = None
    where: str | None = None
    quoted: bool = False
    """The value is a variable's text: people see it quoted (an empty one stays visible)."""

    def shown(self) -> str:
        """The side for people."""
        if not self.present:
            return "not set"
        value = self.value if self.value is not None else "set"
        if self.quoted:
            value = repr(value)
        return f"{value} ({self.where})" if self.where else value

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "environment": self.environment,
            "present": self.present,
            "value": self.value,
            "where": self.where,
        }


@dataclass(frozen=True)
class ParityDifference:
    """One way two environments differ."""

    key: str
    kind: ParityKind
    left: Side
    right: Side
    secret: bool = False
    reason: str | None = None
    """Why the policy allows it; None when it is undeclared."""

    @property
    def allowed(self) -> bool:
        """Whether the policy allows it."""
        return self.reason is not None

    def describe(self) -> str:
        """One line for people (a secret's values never appear)."""
        what = f"{self.key} (secret)" if self.secret else self.key
        if not self.left.present or not self.right.present:
            has, lacks = (self.left, self.right) if self.left.present else (self.right, self.left)
            text = f"{what} is set in {has.environment}: {has.shown()}; not in {lacks.environment}"
        else:
            text = (
                f"{what} differs: {self.left.environment} {self.left.shown()}, "
                f"{self.right.environment} {self.right.shown()}"
            )
        if self.secret:
            text += "; values not shown"
        return text

    def to_json(self) -> dict[str, Any]:
        """JSON form (part of ``gonogo.env-diff/v1``)."""
        return {
            "key": self.key,
            "kind": self.kind.value,
            "secret": self.secret,
            "allowed": self.allowed,
            "reason": self.reason,
            "message": self.describe(),
            "left": self.left.to_json(),
            "right": self.right.to_json(),
        }


@dataclass(frozen=True)
class ParityReport:
    """How two environments differ."""

    left: EnvironmentDefinition
    right: EnvironmentDefinition
    differences: tuple[ParityDifference, ...]

    @property
    def undeclared(self) -> tuple[ParityDifference, ...]:
        """The differences the policy does not allow."""
        return tuple(d for d in self.differences if not d.allowed)

    @property
    def allowed(self) -> tuple[ParityDifference, ...]:
        """The differences the policy allows, each with its reason."""
        return tuple(d for d in self.differences if d.allowed)

    def to_json(self) -> dict[str, Any]:
        """The document ``gonogo env diff --format json`` prints."""
        return {
            "schema": SCHEMA,
            "environments": [self.left.name, self.right.name],
            "in_parity": not self.undeclared,
            "undeclared": len(self.undeclared),
            "allowed": len(self.allowed),
            "differences": [d.to_json() for d in self.differences],
            "sources": {
                self.left.name: list(self.left.files),
                self.right.name: list(self.right.files),
            },
            "warnings": [*self.left.warnings, *self.right.warnings],
        }


def compare(
    left: EnvironmentDefinition,
    right: EnvironmentDefinition,
    env: EnvPolicy,
    inventory: Inventory | None = None,
) -> ParityReport:
    """Every difference between two environments, each with the policy's reason if allowed."""
    marked = {v.name for v in inventory if v.secret} if inventory is not None else set()
    every_value = env.parity.values == "all"
    found = _variables(left, right, marked, every_value=every_value)
    found += _facts(left, right, every_value=every_value)
    found += _toggles(left, right)
    pair = (left.name, right.name)
    found = [replace(d, reason=env.allowed(d.key, d.kind, pair)) for d in found]
    return ParityReport(left, right, tuple(sorted(found, key=_order)))


def _order(difference: ParityDifference) -> tuple[int, str]:
    ranks = list(ParityKind)
    return (ranks.index(difference.kind), difference.key)


def is_secret_variable(
    name: str, *settings: Setting | None, marked: frozenset[str] | set[str]
) -> bool:
    """Whether a variable is secret: marked, by name, or by how any side defines it."""
    if name in marked or secret_by_name(name):
        return True
    return any(
        s is not None
        and (
            s.secret
            or s.kind in _SECRET_KINDS
            or secret_by_value(name, s.value)
            or looks_like_secret(s.value)
        )
        for s in settings
    )


def _variables(
    left: EnvironmentDefinition,
    right: EnvironmentDefinition,
    marked: set[str],
    *,
    every_value: bool,
) -> list[ParityDifference]:
    found = []
    for name in sorted(set(left.variables) | set(right.variables)):
        a, b = left.variables.get(name), right.variables.get(name)
        secret = is_secret_variable(name, a, b, marked=marked)
        key = f"var.{name}"
        sides = (_variable_side(left.name, a, secret), _variable_side(right.name, b, secret))
        if a is None or b is None:
            found.append(ParityDifference(key, ParityKind.MISSING, *sides, secret=secret))
        elif secret:
            if signature(a.kind, a.value) != signature(b.kind, b.value):
                found.append(ParityDifference(key, ParityKind.SECRET, *sides, secret=True))
        elif (a.value or "") != (b.value or ""):
            if is_flag(name, a.value, b.value):
                found.append(ParityDifference(key, ParityKind.FLAG, *sides))
            elif every_value:
                found.append(ParityDifference(key, ParityKind.VALUE, *sides))
    return found


def _variable_side(environment: str, setting: Setting | None, secret: bool) -> Side:
    if setting is None:
        return Side(environment, present=False)
    if secret:
        shown = describe(setting.kind, setting.value, setting.origin)
        return Side(environment, True, shown, setting.where)
    if setting.value is not None:
        return Side(environment, True, _short(setting.value), setting.where, quoted=True)
    source = f"from {setting.origin}" if setting.origin else setting.kind.value
    return Side(environment, True, source, setting.where)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def is_flag(name: str, *values: str | None) -> bool:
    """Whether a variable is a feature flag: by its name, or true/false values."""
    if _FLAG_WORDS & set(words(name)):
        return True
    given = [v.strip().lower() for v in values if v is not None]
    return (
        bool(given)
        and all(v in _BOOLEANS for v in given)
        and any(v in _WORD_BOOLEANS for v in given)
    )


def _facts(
    left: EnvironmentDefinition, right: EnvironmentDefinition, *, every_value: bool
) -> list[ParityDifference]:
    found = []
    for key in sorted(set(left.facts) | set(right.facts)):
        a, b = left.facts.get(key), right.facts.get(key)
        some = a if a is not None else b
        assert some is not None  # noqa: S101 - the key comes from one of them
        secret = some.secret or any(f is not None and looks_like_secret(f.value) for f in (a, b))
        sides = (_fact_side(left.name, a, secret), _fact_side(right.name, b, secret))
        if a is None or b is None:
            found.append(ParityDifference(key, some.kind, *sides, secret=secret))
            continue
        if secret:
            if signature(a.value_kind, a.value) != signature(b.value_kind, b.value):
                found.append(ParityDifference(key, ParityKind.SECRET, *sides, secret=True))
            continue
        if a.comparable != b.comparable and (some.kind is not ParityKind.VALUE or every_value):
            found.append(ParityDifference(key, some.kind, *sides))
    return found


def _fact_side(environment: str, fact: Fact | None, secret: bool) -> Side:
    if fact is None:
        return Side(environment, present=False)
    shown = describe(fact.value_kind, fact.value) if secret else _short(fact.value)
    return Side(environment, True, shown, fact.where)


def _toggles(left: EnvironmentDefinition, right: EnvironmentDefinition) -> list[ParityDifference]:
    found = []
    for name in sorted(set(left.toggles) | set(right.toggles)):
        a, b = left.toggles.get(name), right.toggles.get(name)
        if a == b and type(a) is type(b):
            continue
        sides = (_toggle_side(left.name, a), _toggle_side(right.name, b))
        found.append(ParityDifference(f"toggle.{name}", ParityKind.TOGGLE, *sides))
    return found


def _toggle_side(environment: str, value: Toggle | None) -> Side:
    if value is None:
        return Side(environment, present=False)
    shown = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return Side(environment, True, shown, "policy")
