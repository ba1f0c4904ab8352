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


def printable(text: str) -> str:
    """``text`` safe to print, hash and write as UTF-8: a file name, say.

    A byte that was not UTF-8 (decoded by ``os.fsdecode`` as a lone surrogate) becomes
    ``\\xff``; a control character becomes its escape (``\\x1b``, ``\\n``), so a name
    cannot move the cursor or recolour a terminal. Printable text is unchanged.
    """
    if text.isprintable():  # nearly every name: no per-character work
        return text
    return "".join(_printable_char(ch) for ch in text)


def _printable_char(ch: str) -> str:
    if ch.isprintable():
        return ch
    if "\udc80" <= ch <= "\udcff":  # surrogateescape's stand-in for a raw byte
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return ascii(ch)[1:-1]
