"""Validate the environment at start-up against the inventory (standard library only).

A service calls :func:`validate_environment` first thing::

    from gonogo.config.runtime import validate_environment

    config = validate_environment("gonogo.env.toml")
    port = config["PORT"]  # an int, as the inventory says

Every variable of the inventory is checked for presence (``required``), type and
format (``int``, ``float``, ``bool``, ``url``, ``enum``, ``duration``, ``json``,
``path``). Every problem is collected, then one :class:`EnvironmentInvalid` lists them
all. A secret's value is never shown: a message says ``<secret, 12 chars>``.

A secret may also arrive through the ``*_FILE`` convention (``DB_PASSWORD_FILE=
/run/secrets/db_password``), and as a reference (``ref+vault://…``, ``ref+sops://…``),
which is resolved here (vault needs the ``sync`` extra, sops its binary).

Importing this module imports only the standard library and gonogo's small modules.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gonogo.config.classify import secret_by_name
from gonogo.config.inventory import Inventory, Variable, VarType, load_inventory
from gonogo.config.refs import RefError, SecretRef, parse_ref
from gonogo.errors import ConfigError

Resolver = Callable[[SecretRef, Mapping[str, str]], str]
"""Turns a reference into its secret; raises RefError (never showing the secret)."""

FILE_SUFFIX = "_FILE"
_TRUE = frozenset({"1", "true", "yes", "on", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "n"})
_INT = re.compile(r"[+-]?[0-9]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URL_PASSWORD = re.compile(r"(://[^/@\s:]*:)[^/@\s]+@")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|us|µs|ns|s|m|h|d|w)")
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_ISO = re.compile(
    r"P(?:(?P<d>[0-9.]+)D)?(?:T(?:(?P<h>[0-9.]+)H)?(?:(?P<m>[0-9.]+)M)?(?:(?P<s>[0-9.]+)S)?)?",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?:(?P<h>[0-9]+):)?(?P<m>[0-9]{1,2}):(?P<s>[0-9]{1,2}(?:\.[0-9]+)?)")


class EnvironmentInvalid(ConfigError, ValueError):
    """The environment does not satisfy the inventory; ``problems`` lists every reason."""

    def __init__(self, problems: tuple[str, ...], source: str) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__("; ".join(problems) + f" ({count} {noun}, checked against {source})")
        self.problems = problems


class SecretValue:
    """A secret: shown as ``<secret, N chars>``; :meth:`reveal` gives the value."""

    __slots__ = ("_length", "_value")

    def __init__(self, value: Any, length: int) -> None:
        self._value = value
        self._length = length

    def reveal(self) -> Any:
        """The secret itself (typed as the inventory says)."""
        return self._value

    def __repr__(self) -> str:
        return describe_secret(self._length)

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(repr(self._value).encode(), repr(other._value).encode())

    def __hash__(self) -> int:
        return hash(("secret", self._length))


def describe_secret(length: int) -> str:
    """How a secret's value is shown: never the value, only that it is set."""
    return f"<secret, {length} chars>"


class Config(Mapping[str, Any]):
    """The validated environment: each inventory variable, typed (None when unset).

    Secrets are :class:`SecretValue` objects; ``config.secret("NAME")`` reveals one.
    """

    def __init__(self, values: Mapping[str, Any], texts: Mapping[str, str] | None = None) -> None:
        self._values = dict(values)
        self._texts = dict(texts or {})

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def secret(self, name: str) -> Any:
        """A secret's revealed value (or a plain value, as is)."""
        value = self._values[name]
        return value.reveal() if isinstance(value, SecretValue) else value

    def resolved_text(self, name: str) -> str | None:
        """The text the variable resolved to (a reference's secret, a ``*_FILE``'s content).

        This reveals secrets: hand it to the code that needs it, never to a log.
        """
        return self._texts.get(name)

    def __repr__(self) -> str:
        return f"Config({self._values!r})"


@dataclass(frozen=True)
class _Raw:
    text: str | None
    origin: str  # "environment", "file", "default", "unset"


def validate_environment(
    inventory: Inventory | str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
    *,
    resolve_refs: bool = True,
    resolvers: Mapping[str, Resolver] | None = None,
    empty_is_unset: bool = True,
) -> Config:
    """Check ``environ`` (default ``os.environ``) against the inventory; return typed values.

    Raises :class:`EnvironmentInvalid` listing every problem, or InventoryError when
    the inventory file is missing or invalid.
    """
    env = os.environ if environ is None else environ
    if isinstance(inventory, Inventory):
        listing, source = inventory, "the inventory"
    else:
        listing, source = load_inventory(inventory), Path(inventory).name
    chosen = default_resolvers() if resolvers is None else resolvers
    problems: list[str] = []
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}
    for var in listing:
        secret = var.secret or secret_by_name(var.name)
        raw = _raw(var, env, empty_is_unset, problems)
        if raw.text is None:
            if var.required and raw.origin == "unset":
                problems.append(f"{var.name} is required but not set")
            values[var.name] = None
            continue
        text = raw.text
        if resolve_refs and raw.origin != "default":
            resolved = _resolve(var.name, text, env, chosen, problems)
            if resolved is None:
                values[var.name] = None
                continue
            text = resolved
        try:
            value = parse_value(var, text)
        except ValueError as exc:
            if raw.origin == "default":  # the code's own default: not the deploy's fault
                value = text
            else:
                shown = describe_secret(len(text)) if secret else _shown(text)
                origin = f" (from {var.name}{FILE_SUFFIX})" if raw.origin == "file" else ""
                problems.append(f"{var.name} must be {exc}, got {shown}{origin}")
                values[var.name] = None
                continue
        values[var.name] = SecretValue(value, len(text)) if secret else value
        texts[var.name] = text
    if problems:
        raise EnvironmentInvalid(tuple(problems), source)
    return Config(values, texts)


def default_resolvers() -> dict[str, Resolver]:
    """The built-in resolvers: vault (HTTP KV v2, needs httpx) and sops (its binary)."""
    from gonogo.config.resolvers import resolve_sops, resolve_vault  # noqa: PLC0415 - on use

    return {"vault": resolve_vault, "sops": resolve_sops}


def _raw(var: Variable, env: Mapping[str, str], empty_is_unset: bool, problems: list[str]) -> _Raw:
    text = env.get(var.name)
    if text is not None and empty_is_unset and not text.strip():
        text = None
    if text is not None:
        return _Raw(text, "environment")
    file_var = var.name + FILE_SUFFIX
    file_path = env.get(file_var, "").strip()
    if file_path:
        try:
            content = Path(file_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            problems.append(f"{file_var} names {file_path}, which cannot be read ({reason})")
            return _Raw(None, "file")
        return _Raw(content.rstrip("\r\n"), "file")
    if var.default is not None:
        return _Raw(var.default, "default")
    return _Raw(None, "unset")


def _resolve(
    name: str,
    text: str,
    env: Mapping[str, str],
    resolvers: Mapping[str, Resolver],
    problems: list[str],
) -> str | None:
    try:
        ref = parse_ref(text)
    except RefError as exc:
        problems.append(f"{name}: {exc.message}")
        return None
    if ref is None:
        return text
    resolver = resolvers.get(ref.provider)
    if resolver is None:
        problems.append(
            f"{name} holds a {ref.provider} reference, which gonogo cannot resolve; "
            "resolve it before start (vals exec, op run, berglas exec)"
        )
        return None
    try:
        return resolver(ref, env)
    except RefError as exc:
        problems.append(f"{name}: cannot resolve {ref.provider} reference: {exc}")
        return None


def _shown(text: str) -> str:
    """A non-secret value as a message shows it; a URL's password is masked all the same."""
    masked = _URL_PASSWORD.sub(r"\1***@", text)
    return repr(masked if len(masked) <= 60 else masked[:57] + "...")


def parse_value(var: Variable, text: str) -> Any:
    """``text`` as the variable's type; ValueError says what was expected."""
    parser = _PARSERS[var.type]
    return parser(var, text)


def _range(var: Variable, noun: str) -> str:
    low, high = var.min, var.max
    if low is not None and high is not None:
        return f"{noun} from {low:g} to {high:g}"
    if low is not None:
        return f"{noun} >= {low:g}"
    if high is not None:
        return f"{noun} <= {high:g}"
    return noun


def _in_range(var: Variable, value: float) -> bool:
    return (var.min is None or value >= var.min) and (var.max is None or value <= var.max)


def _parse_str(var: Variable, text: str) -> str:
    return text


def _parse_int(var: Variable, text: str) -> int:
    stripped = text.strip()
    if len(stripped) > 100 or not _INT.fullmatch(stripped) or not _in_range(var, int(stripped)):
        raise ValueError(_range(var, "an integer"))
    return int(stripped)


def _parse_float(var: Variable, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(_range(var, "a number")) from None
    if not math.isfinite(value) or not _in_range(var, value):
        raise ValueError(_range(var, "a number"))
    return value


def _parse_bool(var: Variable, text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("a boolean (true/false, 1/0, yes/no, on/off)")


def _parse_url(var: Variable, text: str) -> str:
    stripped = text.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        raise ValueError("a URL (scheme://host/...)") from None
    if (
        not _SCHEME.fullmatch(parts.scheme or "")
        or not (parts.netloc or parts.path)
        or any(c.isspace() for c in stripped)
    ):
        raise ValueError("a URL (scheme://host/...)")
    return stripped


def _parse_enum(var: Variable, text: str) -> str:
    stripped = text.strip()
    for choice in var.choices:
        if stripped == choice or (var.ignore_case and stripped.casefold() == choice.casefold()):
            return choice
    raise ValueError("one of " + ", ".join(var.choices))


def parse_duration(text: str) -> timedelta:
    """``30s``, ``5m``, ``1h30m``, ``250ms``, ``2d``, seconds (``90``), ISO 8601 or H:MM:SS."""
    stripped = text.strip()
    try:
        return timedelta(seconds=float(stripped))
    except (ValueError, OverflowError):
        pass
    if stripped and re.fullmatch(r"(?:" + _DURATION_PART.pattern + r")+", stripped):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(stripped))
        return timedelta(seconds=seconds)
    iso = _ISO.fullmatch(stripped)
    if iso and any(iso.groupdict().values()):
        d, h, m, s = (float(iso.group(k) or 0) for k in "dhms")
        return timedelta(days=d, hours=h, minutes=m, seconds=s)
    clock = _CLOCK.fullmatch(stripped)
    if clock:
        return timedelta(
            hours=float(clock.group("h") or 0),
            minutes=float(clock.group("m")),
            seconds=float(clock.group("s")),
        )
    raise ValueError("a duration such as 30s, 5m or 1h30m")


def _parse_duration(var: Variable, text: str) -> timedelta:
    try:
        return parse_duration(text)
    except OverflowError:
        raise ValueError("a duration such as 30s, 5m or 1h30m") from None


def _parse_json(var: Variable, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("valid JSON") from None


def _parse_path(var: Variable, text: str) -> Path:
    stripped = text.strip()
    if not stripped or "\0" in stripped:
        raise ValueError("a path")
    return Path(stripped)


_PARSERS: dict[VarType, Callable[[Variable, str], Any]] = {
    VarType.STR: _parse_str,
    VarType.INT: _parse_int,
    VarType.FLOAT: _parse_float,
    VarType.BOOL: _parse_bool,
    VarType.URL: _parse_url,
    VarType.ENUM: _parse_enum,
    VarType.DURATION: _parse_duration,
    VarType.JSON: _parse_json,
    VarType.PATH: _parse_path,
}
