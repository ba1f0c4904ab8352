"""The inventory model and its file, ``gonogo.env.toml`` (standard library only).

The runtime validator reads this file at a service's start-up, so this module imports
nothing beyond the standard library, :mod:`gonogo.errors` and :mod:`gonogo.files`.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from gonogo.errors import ConfigError
from gonogo.files import write_atomic

T = TypeVar("T")

SCHEMA = "gonogo.env/v1"
FILENAME = "gonogo.env.toml"


#: how to fix an inventory file that cannot be used
FIX_HINT = "fix it by hand, or delete it and run `gonogo env scan` to write it again"


class InventoryError(ConfigError):
    """The inventory file is missing or invalid; the hint says how to fix it."""

    def __init__(self, message: str, *, hint: str | None = FIX_HINT) -> None:
        super().__init__(message, hint=hint)


class VarType(StrEnum):
    """What a variable's value must look like."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    URL = "url"
    ENUM = "enum"
    DURATION = "duration"
    JSON = "json"
    PATH = "path"


@dataclass(frozen=True)
class Variable:
    """One environment variable: where it is read, what it must be, who defines it.

    ``locations`` are the ``file:line`` places that read it; ``definitions`` the places
    where a config file gives it a value; ``environments`` the environments those are.
    ``description``, ``choices``, ``ignore_case``, ``min`` and ``max`` are for people
    to write; a re-scan keeps them.
    """

    name: str
    description: str = ""
    type: VarType = VarType.STR
    required: bool = False
    secret: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()
    ignore_case: bool = False
    min: float | None = None
    max: float | None = None
    locations: tuple[str, ...] = ()
    definitions: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form (part of the ``gonogo.env/v1`` schema)."""
        return {
            "name": self.name,
            "description": self.description,
            "type": self.type.value,
            "required": self.required,
            "secret": self.secret,
            "default": self.default,
            "choices": list(self.choices),
            "ignore_case": self.ignore_case,
            "min": self.min,
            "max": self.max,
            "locations": list(self.locations),
            "definitions": list(self.definitions),
            "environments": list(self.environments),
        }


@dataclass(frozen=True)
class Inventory:
    """Every variable a project reads, sorted by name."""

    variables: tuple[Variable, ...] = ()
    _by_name: dict[str, Variable] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.variables, key=lambda v: v.name))
        object.__setattr__(self, "variables", ordered)
        object.__setattr__(self, "_by_name", {v.name: v for v in ordered})

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    def get(self, name: str) -> Variable | None:
        """The variable called ``name``, if listed."""
        return self._by_name.get(name)

    @property
    def names(self) -> frozenset[str]:
        """The names of every listed variable."""
        return frozenset(self._by_name)

    def to_json(self) -> dict[str, Any]:
        """The JSON document ``gonogo env scan --format json`` prints."""
        return {"schema": SCHEMA, "variables": [v.to_json() for v in self.variables]}


def merge(previous: Inventory | None, scanned: Inventory) -> Inventory:
    """The scanned inventory, keeping what people wrote in the previous one.

    Kept: the description (always, unless empty), the type when the scan could only
    say ``str``, enum choices the scan did not find, ``ignore_case``, ``min``, ``max``,
    ``secret = true`` and ``required = true`` (a variable can be marked secret or
    required by hand, not unmarked). Variables nothing reads any more are dropped. A
    variable that is secret or required has no default, as the scan itself writes it:
    the code's default of a variable marked secret by hand is a secret too, and must
    not reach the inventory or any report.
    """
    if previous is None:
        return scanned
    merged = []
    for var in scanned:
        old = previous.get(var.name)
        if old is None:
            merged.append(var)
            continue
        kept_type = var.type if var.type is not VarType.STR else old.type
        secret = var.secret or old.secret
        required = var.required or old.required
        merged.append(
            replace(
                var,
                description=old.description or var.description,
                type=kept_type,
                choices=var.choices or old.choices,
                ignore_case=old.ignore_case,
                min=old.min,
                max=old.max,
                secret=secret,
                required=required,
                default=None if (secret or required) else var.default,
            )
        )
    return Inventory(tuple(merged))


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an environment variable, or None when it can.

    An environment holds ``NAME=value`` strings: a name is not empty and has no ``=``.
    Whitespace and control characters are refused too: no shell, compose file or
    manifest sets such a name, and printing one could move a terminal's cursor.
    """
    if not name:
        return "is empty, not a variable name"
    if "=" in name:
        return "holds '=', which no variable name can"
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        return "holds whitespace or a control character, which no variable name should"
    return None


# --- reading -------------------------------------------------------------------------

_FIELDS = {
    "name",
    "description",
    "type",
    "required",
    "secret",
    "default",
    "choices",
    "ignore_case",
    "min",
    "max",
    "locations",
    "definitions",
    "environments",
}


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Read and validate ``gonogo.env.toml``; InventoryError names the file and key."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InventoryError(
            f"{file} does not exist", hint="write it with `gonogo env scan`"
        ) from None
    except IsADirectoryError:
        raise InventoryError(
            f"{file} is a folder, not an inventory file", hint="name the inventory file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise InventoryError(f"cannot read {file}: {reason}") from None
    return parse_inventory(text, source=str(file))


def parse_inventory(text: str, *, source: str = FILENAME) -> Inventory:
    """Parse inventory TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{source} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"schema", "variables"})
    if unknown:
        raise InventoryError(
            f"{source}: unknown key {unknown[0]!r}",
            hint="an inventory holds `schema` and [[variables]] tables; fix or remove the key",
        )
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise InventoryError(
            f"{source}: schema {schema!r} is not {SCHEMA!r}", hint="upgrade gonogo"
        )
    entries = data.get("variables", [])
    if not isinstance(entries, list):
        raise InventoryError(f"{source}: `variables` must be an array of tables")
    problems: list[str] = []
    variables: dict[str, Variable] = {}
    for index, entry in enumerate(entries):
        where = f"variables[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} is not a table")
            continue
        try:
            var = _variable(entry, where)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if var.name in variables:
            problems.append(f"{where}: {var.name} is listed twice")
        variables[var.name] = var
    if problems:
        raise InventoryError(f"{source}: " + "; ".join(problems))
    return Inventory(tuple(variables.values()))


def _variable(entry: Mapping[str, Any], where: str) -> Variable:
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}.name must be a non-empty string")
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(f"{where}.name {name!a} {problem}")
    where = f"{where} ({name})"
    raw_type = entry.get("type", "str")
    try:
        var_type = VarType(raw_type)
    except ValueError:
        known = ", ".join(t.value for t in VarType)
        raise ValueError(f"{where}.type {raw_type!r} is not one of {known}") from None
    choices = _strings(entry, "choices", where)
    if var_type is VarType.ENUM and not choices:
        raise ValueError(f"{where}: type enum needs `choices`")
    low, high = _number(entry, "min", where), _number(entry, "max", where)
    if low is not None and high is not None and low > high:
        raise ValueError(f"{where}: min {low:g} is greater than max {high:g}")
    return Variable(
        name=name,
        description=_typed(entry, "description", str, "", where),
        type=var_type,
        required=_typed(entry, "required", bool, False, where),
        secret=_typed(entry, "secret", bool, False, where),
        default=_typed(entry, "default", str, None, where),
        choices=choices,
        ignore_case=_typed(entry, "ignore_case", bool, False, where),
        min=low,
        max=high,
        locations=_strings(entry, "locations", where),
        definitions=_strings(entry, "definitions", where),
        environments=_strings(entry, "environments", where),
    )


def _typed(entry: Mapping[str, Any], key: str, kind: type[T], fallback: T, where: str) -> T:
    value = entry.get(key, fallback)
    if value is not fallback and not isinstance(value, kind):
        raise ValueError(f"{where}.{key} must be a {kind.__name__}")
    return value


def _number(entry: Mapping[str, Any], key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{where}.{key} must be a number")
    return float(value)


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}.{key} must be an array of strings")
    return tuple(value)


# --- writing -------------------------------------------------------------------------

HEADER = """\
# The canonical inventory of the environment variables this project reads.
# Written by `gonogo env scan`; `gonogo env check` fails when the code drifts from it.
# Write descriptions (and enum `choices`, `ignore_case`, `min`, `max`, a `type` the
# scan reports as "str") by hand: a re-scan keeps them. See docs/environments.md.
"""


def dumps_inventory(inventory: Inventory) -> str:
    """The TOML text of ``inventory``."""
    lines = [HEADER, f"schema = {_toml(SCHEMA)}"]
    for var in inventory:
        lines += ["", "[[variables]]", f"name = {_toml(var.name)}"]
        lines.append(f"description = {_toml(var.description)}")
        lines.append(f"type = {_toml(var.type.value)}")
        lines.append(f"required = {_toml(var.required)}")
        lines.append(f"secret = {_toml(var.secret)}")
        if var.default is not None:
            lines.append(f"default = {_toml(var.default)}")
        if var.choices:
            lines.append(f"choices = {_toml(list(var.choices))}")
        if var.ignore_case:
            lines.append("ignore_case = true")
        for key in ("min", "max"):
            bound = getattr(var, key)
            if bound is not None:
                lines.append(f"{key} = {_toml(bound)}")
        lines.append(f"locations = {_toml(list(var.locations))}")
        if var.definitions:
            lines.append(f"definitions = {_toml(list(var.definitions))}")
        lines.append(f"environments = {_toml(list(var.environments))}")
    return "\n".join(lines) + "\n"


def write_inventory(path: str | os.PathLike[str], inventory: Inventory) -> None:
    """Write ``inventory`` to ``path`` atomically.

    A symlink is written through (the file it names is replaced, the link stays), so an
    inventory kept elsewhere and linked into the project is updated, not unlinked.
    """
    named = Path(path)
    # realpath, not resolve(): in Python 3.11 resolve() raises on a symlink loop
    target = Path(os.path.realpath(named))
    if target.is_dir():
        raise InventoryError(
            f"cannot write {named}: it is a folder", hint="name a file with --inventory"
        )
    if named.is_symlink() and target.is_symlink():  # realpath stops in a loop
        raise InventoryError(
            f"cannot write {named}: it is a symlink loop", hint="fix or remove the link"
        )
    try:
        write_atomic(target, dumps_inventory(inventory))
    except OSError as exc:
        raise InventoryError(
            f"cannot write {named}: {exc.strerror}", hint="check the path and its permissions"
        ) from None


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Iterable):
        items = [_toml(v) for v in value]
        single = "[" + ", ".join(items) + "]"
        if len(single) <= 80:
            return single
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in {'"', "\\"}:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
