"""From scan findings to inventory entries, and the drift between the two.

One entry per variable something reads. ``required`` when any read is required;
``default`` from the first read that gives one (never for a secret); ``type`` the most
specific a read implies; ``secret`` from the name, from a read (``SecretStr``), from a
definition (``secretKeyRef``, a reference, a Secret manifest, a URL with credentials),
or from a default or value the secret scanner's rules report (a token in the code).
Definitions add the places and environments that give the variable a value, and the
description a ``.env.example`` comment gives it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gonogo.config.classify import secret_by_name, secret_by_value
from gonogo.config.inventory import Inventory, Variable, VarType, merge
from gonogo.config.refs import ValueKind
from gonogo.config.scan import ScanResult
from gonogo.config.scanners.interface import Definition, Read
from gonogo.secrets import looks_like_secret

_SECRET_KINDS = frozenset({ValueKind.SECRET_STORE, ValueKind.REFERENCE})


def build_inventory(result: ScanResult, previous: Inventory | None = None) -> Inventory:
    """The inventory of what ``result`` found, keeping what people wrote in ``previous``."""
    reads: dict[str, list[Read]] = defaultdict(list)
    for read in result.reads:
        reads[read.name].append(read)
    definitions: dict[str, list[Definition]] = defaultdict(list)
    for definition in result.definitions:
        definitions[definition.name].append(definition)
    scanned = Inventory(
        tuple(_variable(name, found, definitions.get(name, [])) for name, found in reads.items())
    )
    return merge(previous, scanned)


def is_secret(name: str, reads: Iterable[Read], definitions: Iterable[Definition]) -> bool:
    """Whether a variable is secret, by name, by use, or by a value the secret rules find."""
    if secret_by_name(name) or any(r.secret or _secret_value(name, r.default) for r in reads):
        return True
    return any(
        d.secret or d.kind in _SECRET_KINDS or _secret_value(name, d.value) for d in definitions
    )


def _secret_value(name: str, value: str | None) -> bool:
    """A URL with credentials, or a value ``gonogo secrets scan`` reports (a token, a key)."""
    return secret_by_value(name, value) or looks_like_secret(value)


def _sorted_locations(items: Iterable[Read | Definition]) -> tuple[str, ...]:
    places = sorted({(i.path, i.line) for i in items})
    return tuple(f"{path}:{number}" for path, number in places)


def _variable(name: str, reads: list[Read], definitions: list[Definition]) -> Variable:
    ordered = sorted(reads, key=lambda r: (r.path, r.line))
    secret = is_secret(name, ordered, definitions)
    required = any(r.required for r in ordered)
    default = next((r.default for r in ordered if r.default is not None), None)
    types = [r.type for r in ordered if r.type is not None]
    var_type = next((t for t in types if t is not VarType.STR), VarType.STR)
    choices = next((r.choices for r in ordered if r.choices), ())
    examples = sorted(definitions, key=lambda d: (d.environment != "example", d.path, d.line))
    description = next((d.description for d in examples if d.description), "")
    return Variable(
        name=name,
        description=description,
        type=var_type,
        required=required,
        secret=secret,
        default=None if (required or secret) else default,
        choices=choices if var_type is VarType.ENUM else (),
        locations=_sorted_locations(ordered),
        definitions=_sorted_locations(definitions),
        environments=tuple(sorted({d.environment for d in definitions})),
    )


class DriftKind(StrEnum):
    """How the code and the inventory disagree."""

    UNLISTED = "unlisted"
    """Code reads a variable the inventory lacks."""
    UNREAD = "unread"
    """The inventory lists a variable nothing reads."""


@dataclass(frozen=True)
class Difference:
    """One disagreement between the code and the inventory."""

    name: str
    kind: DriftKind
    locations: tuple[str, ...]

    def describe(self, inventory_name: str) -> str:
        """One line for people."""
        if self.kind is DriftKind.UNLISTED:
            where = ", ".join(self.locations[:3]) + (" …" if len(self.locations) > 3 else "")
            return f"{self.name} is read at {where} but is not in {inventory_name}"
        return f"{self.name} is in {inventory_name} but nothing reads it"

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "kind": self.kind.value, "locations": list(self.locations)}


def drift(inventory: Inventory, result: ScanResult) -> list[Difference]:
    """Every variable read but not listed, and listed but not read, sorted by name."""
    read_at: dict[str, list[Read]] = defaultdict(list)
    for read in result.reads:
        read_at[read.name].append(read)
    differences = [
        Difference(name, DriftKind.UNLISTED, _sorted_locations(found))
        for name, found in read_at.items()
        if inventory.get(name) is None
    ]
    differences += [
        Difference(var.name, DriftKind.UNREAD, var.locations)
        for var in inventory
        if var.name not in read_at
    ]
    return sorted(differences, key=lambda d: (d.name, d.kind))
