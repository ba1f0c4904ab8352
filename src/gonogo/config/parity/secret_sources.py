"""Where a secret's value comes from, said without the value.

Two environments are compared by the *source* of a secret (a vault reference, a
Kubernetes Secret, a mounted file, a literal in the repository), never by its value:
their values are meant to differ. A reference, a mounted file's path and a pass-through
name no secret, so the runbook shows them; a literal is never shown.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from gonogo.config.classify import secret_by_name
from gonogo.config.refs import RefError, ValueKind, parse_ref

_PROVIDERS = {
    "vault": "Vault",
    "awssecrets": "AWS Secrets Manager",
    "gcpsecrets": "Google Secret Manager",
    "sops": "sops",
    "1password": "1Password",
    "berglas": "Berglas",
}


def signature(kind: ValueKind, value: str | None) -> tuple[str, str]:
    """What two environments' sources of one secret are compared by."""
    if kind is ValueKind.REFERENCE:
        try:
            ref = parse_ref(value or "")
        except RefError:
            return (kind.value, "malformed")
        return (kind.value, ref.provider if ref is not None else "")
    return (kind.value, "")


def describe(kind: ValueKind, value: str | None, origin: str = "") -> str:
    """The source in a few words, never the value (for the parity report)."""
    if kind is ValueKind.REFERENCE:
        provider = signature(kind, value)[1]
        if provider == "malformed":
            return "a malformed secret reference"
        return f"a {_PROVIDERS.get(provider, provider)} reference"
    if origin.startswith("Secret "):
        suffix = ", its value in the repository" if kind is ValueKind.LITERAL else ""
        return f"Kubernetes {origin}{suffix}"
    return {
        ValueKind.SECRET_STORE: "a secret store",
        ValueKind.MOUNTED_FILE: "a mounted file",
        ValueKind.PASSTHROUGH: "passed through at deploy time",
        ValueKind.EMPTY: "left empty, injected at run time",
        ValueKind.PLACEHOLDER: "a placeholder",
        ValueKind.LITERAL: "a literal value in the repository",
        ValueKind.CONFIG_REF: f"a ConfigMap ({origin})" if origin else "a ConfigMap",
        ValueKind.FIELD_REF: "a field reference",
    }[kind]


def detail(kind: ValueKind, value: str | None, origin: str = "") -> str:
    """The source for the runbook (Markdown): references and paths shown, values never."""
    text = (value or "").strip()
    if kind is ValueKind.REFERENCE:
        return f"{describe(kind, value)}: `{_masked(text)}`"
    if kind is ValueKind.MOUNTED_FILE:
        return f"a mounted file: `{text}`"
    if kind is ValueKind.PASSTHROUGH:
        return f"passed through at deploy time: `{text}`"
    if kind is ValueKind.LITERAL:
        where = f"Kubernetes {origin}: " if origin.startswith("Secret ") else ""
        return (
            f"{where}**a literal value in the repository** (not shown): move it to a secret store"
        )
    if kind is ValueKind.PLACEHOLDER:
        return "a placeholder: **set the real value before deploying**"
    if origin.startswith("Secret "):
        return f"Kubernetes {origin}"
    return describe(kind, value, origin)


def _masked(reference: str) -> str:
    """A reference with the values of secret-looking query parameters masked."""
    head, sep, rest = reference.partition("?")
    if not sep:
        return reference
    query, hash_sign, fragment = rest.partition("#")
    pairs = [(k, "***" if secret_by_name(k) else v) for k, v in parse_qsl(query)]
    return head + "?" + urlencode(pairs, safe="/:") + hash_sign + fragment
