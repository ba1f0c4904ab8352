"""Redacted previews: enough to recognise a secret, never enough to use it."""

from __future__ import annotations

#: most characters a preview shows from the start of a secret
MAX_SHOWN = 4


def shown_length(length: int) -> int:
    """How many leading characters of a secret of ``length`` a preview may show."""
    return min(MAX_SHOWN, length // 5)


def redact(secret: str) -> str:
    """``ghp_…(40 chars)``: a few leading characters, an ellipsis and the length.

    At most a fifth of the secret (and never more than four characters) is shown.
    """
    head = "".join(ch if ch.isprintable() else "?" for ch in secret[: shown_length(len(secret))])
    return f"{head}…({len(secret)} chars)"


def redact_bytes(secret: bytes) -> str:
    """:func:`redact` for raw bytes (decoded as UTF-8, bad bytes replaced)."""
    return redact(secret.decode("utf-8", errors="replace"))
