"""Secret references and managed values (standard library only).

A secret variable's value must come from a managed source. In a config file that is
one of:

* a **reference** in a grammar already in use: ``ref+vault://path#key``,
  ``ref+awssecrets://name#key``, ``ref+gcpsecrets://project/name``,
  ``ref+sops://file.yaml#/path`` (the vals convention), ``op://vault/item/field``
  (1Password), ``sm://project/name`` (Berglas);
* a **mounted secrets file** (``/run/secrets/...``, ``/var/run/secrets/...``), usually
  through the ``*_FILE`` convention;
* **injected at run time**: no value in the file, or a pass-through such as ``${VAR}``,
  a Kubernetes ``secretKeyRef`` or a GitHub ``${{ secrets.X }}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl

from gonogo.errors import ConfigError


class RefError(ConfigError):
    """A value looks like a secret reference but does not follow its grammar."""


class ValueKind(StrEnum):
    """Where a value a config file gives a variable comes from."""

    LITERAL = "literal"
    EMPTY = "empty"
    PLACEHOLDER = "placeholder"
    PASSTHROUGH = "passthrough"
    REFERENCE = "reference"
    SECRET_STORE = "secret-store"  # noqa: S105 - a kind of source, not a password
    MOUNTED_FILE = "mounted-file"
    CONFIG_REF = "config-ref"
    FIELD_REF = "field-ref"


#: kinds that keep a secret out of the repository
MANAGED = frozenset(
    {
        ValueKind.EMPTY,
        ValueKind.PASSTHROUGH,
        ValueKind.REFERENCE,
        ValueKind.SECRET_STORE,
        ValueKind.MOUNTED_FILE,
    }
)

VALS_PROVIDERS = ("vault", "awssecrets", "gcpsecrets", "sops")
_VALS = re.compile(r"^ref\+(?P<provider>[a-z0-9]+)://(?P<rest>.*?)\+?$", re.DOTALL)
_OP = re.compile(r"^op://(?P<rest>.*)$", re.DOTALL)
_SM = re.compile(r"^sm://(?P<rest>.*)$", re.DOTALL)
_PASSTHROUGH = re.compile(
    r"^(?:\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?+=-][^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*"
    r"|\$\([A-Za-z_][A-Za-z0-9_]*\)"
    r"|\$\{\{\s*(?:env|vars|inputs|needs|steps|github|matrix)\.[^}]*\}\})$"
)
_GITHUB_SECRET = re.compile(r"\$\{\{[^}]*\bsecrets\.[A-Za-z0-9_]+")
_INTERPOLATION = re.compile(
    r"\$\{\{.*?\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?+=-][^}]*)?\}|\$\(?[A-Za-z_][A-Za-z0-9_]*\)?"
)
_URL_PASSWORD = re.compile(r"://[^/@\s:]*:(?P<password>[^/@\s]+)@")
_MOUNTED = re.compile(r"^(?:/run/secrets/|/var/run/secrets/|/etc/secrets/|/mnt/secrets)")
_PLACEHOLDER = re.compile(
    r"^(?:<[^<>]*>|x{3,}|\*{3,}|\.{3,}|-+|change[-_ ]?me|changeit|replace[-_ ]?me\S*"
    r"|your[-_ ]\S*|todo|tbd|fixme|placeholder|redacted|none|null|secret-here)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference to a secret held elsewhere; it holds no secret itself."""

    provider: str
    """``vault``, ``awssecrets``, ``gcpsecrets``, ``sops``, ``1password`` or ``berglas``."""
    location: str
    """The secret's path, name or file, without the provider's scheme."""
    key: str | None = None
    """The field inside the secret (``#key``, or a ``#/json/pointer`` for sops)."""
    params: dict[str, str] = field(default_factory=dict)
    """Query parameters (``?address=…&version=…``)."""
    raw: str = ""

    def __str__(self) -> str:
        return self.raw


def looks_like_ref(value: str) -> bool:
    """Whether ``value`` uses one of the reference schemes (valid or not)."""
    text = value.strip()
    return text.startswith(("ref+", "op://", "sm://"))


def parse_ref(value: str) -> SecretRef | None:
    """The reference ``value`` holds, None when it is no reference; RefError when malformed."""
    text = value.strip()
    if not looks_like_ref(text):
        return None
    if match := _VALS.match(text):
        return _vals(match.group("provider"), match.group("rest"), text)
    if match := _OP.match(text):
        parts = match.group("rest").split("?", 1)[0].split("/")
        if len(parts) not in (3, 4) or not all(parts):
            raise RefError(
                f"{text!r} is not a 1Password reference",
                hint="write op://vault/item/field or op://vault/item/section/field",
            )
        return SecretRef("1password", "/".join(parts[:-1]), parts[-1], raw=text)
    if match := _SM.match(text):
        rest, _, key = match.group("rest").partition("#")
        parts = rest.split("/")
        if len(parts) != 2 or not all(parts):
            raise RefError(
                f"{text!r} is not a Berglas reference", hint="write sm://project/name[#version]"
            )
        return SecretRef("berglas", rest, key or None, raw=text)
    raise RefError(
        f"{text!r} uses an unknown reference provider",
        hint=f"use ref+{{{','.join(VALS_PROVIDERS)}}}://…, op://… or sm://…",
    )


def _vals(provider: str, rest: str, raw: str) -> SecretRef:
    if provider not in VALS_PROVIDERS:
        raise RefError(
            f"ref+{provider}:// is not a provider gonogo knows",
            hint=f"use one of: {', '.join('ref+' + p + '://' for p in VALS_PROVIDERS)}",
        )
    rest, _, fragment = rest.partition("#")
    location, _, query = rest.partition("?")
    location = location.strip("/") if provider != "sops" else location
    if not location:
        raise RefError(f"{raw!r} names no secret", hint=f"write ref+{provider}://PATH#KEY")
    if provider == "vault" and "/" not in location:
        raise RefError(
            f"{raw!r} names a mount but no secret path", hint="write ref+vault://MOUNT/PATH#KEY"
        )
    if provider == "gcpsecrets" and len(location.split("/")) < 2:
        raise RefError(f"{raw!r} needs a project and a name", hint="write ref+gcpsecrets://P/N")
    if provider == "sops" and fragment and not fragment.startswith("/"):
        fragment = "/" + fragment
    key = fragment.lstrip("/") if provider in {"vault", "awssecrets", "gcpsecrets"} else fragment
    return SecretRef(provider, location, key or None, dict(parse_qsl(query)), raw=raw)


def value_kind(value: str | None) -> ValueKind:
    """Classify a value a config file gives a variable (None: no value given)."""
    if value is None or not value.strip():
        return ValueKind.EMPTY
    text = value.strip()
    if _GITHUB_SECRET.search(text):
        return ValueKind.SECRET_STORE
    if _PASSTHROUGH.match(text):
        return ValueKind.PASSTHROUGH
    if _INTERPOLATION.search(text):
        # composed at run time, unless a URL's password is written out beside it
        password = _URL_PASSWORD.search(text)
        if password is None or "$" in password.group("password"):
            return ValueKind.PASSTHROUGH
        return ValueKind.LITERAL
    if looks_like_ref(text):
        return ValueKind.REFERENCE
    if _MOUNTED.match(text):
        return ValueKind.MOUNTED_FILE
    if _PLACEHOLDER.match(text):
        return ValueKind.PLACEHOLDER
    return ValueKind.LITERAL


def is_managed(value: str | None) -> bool:
    """Whether a secret given ``value`` in a config file stays out of the repository."""
    return value_kind(value) in MANAGED
