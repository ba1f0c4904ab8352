"""Is a variable secret? From its name, and from a value it is given (standard library only).

A name is split into words at ``_``, ``-``, ``.`` and case changes (``apiKey`` is
``API KEY``). It is secret when it holds a secret word (``PASSWORD``, ``SECRET``,
``TOKEN``, ``CREDENTIALS``…) or ends in a key (``API_KEY``, ``PRIVATE_KEY``,
``STRIPE_KEY``), unless its last word says it is about the secret rather than the
secret itself (``TOKEN_URL``, ``PASSWORD_MIN_LENGTH``, ``API_KEY_FILE``). A
connection URL (``DATABASE_URL``, ``SENTRY_DSN``) is secret when a value it is given
carries credentials (``scheme://user:password@host``).
"""

from __future__ import annotations

import re

#: words that make a name secret wherever they appear
SECRET_WORDS = frozenset(
    {
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PASSPHRASE",
        "SECRET",
        "SECRETS",
        "TOKEN",
        "TOKENS",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "PRIVATEKEY",
        "SALT",
        "AUTH",
    }
)
#: a ``*_KEY`` name is secret unless one of these comes right before KEY
PUBLIC_KEY_WORDS = frozenset({"PUBLIC", "PUBLISHABLE", "PRIMARY", "FOREIGN", "SORT", "CACHE"})
#: a last word that names a property of the secret, not the secret
NOT_SECRET_SUFFIXES = frozenset(
    {
        "URL",
        "URI",
        "ENDPOINT",
        "HOST",
        "HOSTNAME",
        "PORT",
        "FILE",
        "PATH",
        "DIR",
        "TTL",
        "EXPIRY",
        "EXPIRES",
        "LIFETIME",
        "LENGTH",
        "LEN",
        "TIMEOUT",
        "NAME",
        "ID",
        "HEADER",
        "ENABLED",
        "DISABLED",
        "ENABLE",
        "PREFIX",
        "FIELD",
        "TYPE",
        "ALGORITHM",
        "ALG",
        "ROTATION",
        "DAYS",
        "SECONDS",
        "AGE",
        "LIMIT",
        "COUNT",
        "MODE",
        "VERSION",
        "REGION",
        "PROVIDER",
        "BACKEND",
        "SCOPE",
        "SCOPES",
        "ISSUER",
        "AUDIENCE",
        "DOMAIN",
        "SECURE",
        "SAMESITE",
        "HTTPONLY",
        "POLICY",
    }
)
#: names that hold connection URLs, secret when a value carries credentials
CONNECTION_SUFFIXES = ("DSN", "URL", "URI", "CONNECTION_STRING", "CONN_STR")
_CREDENTIALS = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def words(name: str) -> list[str]:
    """The upper-case words of a variable name."""
    spaced = _CAMEL.sub("_", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if w]


def secret_by_name(name: str) -> bool:
    """Whether the name says the variable holds a secret."""
    parts = words(name)
    if not parts or parts == ["PWD"]:
        return False
    if parts[-1] in NOT_SECRET_SUFFIXES:
        return False
    if any(word in SECRET_WORDS for word in parts):
        return True
    if "PWD" in parts[1:]:
        return True
    if parts[-1] in {"KEY", "KEYS"}:
        return len(parts) == 1 or parts[-2] not in PUBLIC_KEY_WORDS
    return False


def is_connection_name(name: str) -> bool:
    """Whether the name holds a connection URL (``DATABASE_URL``, ``SENTRY_DSN``)."""
    upper = "_".join(words(name))
    return upper.endswith(CONNECTION_SUFFIXES)


def has_credentials(value: str) -> bool:
    """Whether a URL value carries a password (``scheme://user:password@host``)."""
    return _CREDENTIALS.match(value.strip()) is not None


def secret_by_value(name: str, value: str | None) -> bool:
    """Whether a value given to ``name`` makes it secret (a URL with credentials)."""
    return value is not None and is_connection_name(name) and has_credentials(value)
