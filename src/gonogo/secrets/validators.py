"""Structural checks a regex cannot express: token checksums, a JWT's header, entropy."""

from __future__ import annotations

import base64
import binascii
import json
import math
import string
import zlib
from collections import Counter
from collections.abc import Callable

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM_LENGTH = 6
_BODY_LENGTH = 30


def shannon_entropy(data: bytes) -> float:
    """Shannon entropy of ``data`` in bits per byte."""
    if not data:
        return 0.0
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in Counter(data).values())


def base62(number: int, width: int = _CHECKSUM_LENGTH) -> str:
    """``number`` in base 62 (digits, upper case, lower case), zero-padded to ``width``."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def github_checksum(body: str) -> str:
    """The six-character CRC32 checksum GitHub and npm append to a token's 30 random chars."""
    return base62(zlib.crc32(body.encode("ascii")))


def valid_github_checksum(token: bytes) -> bool:
    """Whether a ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``/``npm_`` token's checksum holds."""
    text = token.decode("ascii", errors="replace")
    prefix, sep, rest = text.partition("_")
    if not sep or len(rest) != _BODY_LENGTH + _CHECKSUM_LENGTH or not prefix:
        return False
    return github_checksum(rest[:_BODY_LENGTH]) == rest[_BODY_LENGTH:]


def _b64url(part: bytes) -> bytes:
    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))


def valid_jwt(token: bytes) -> bool:
    """Whether ``token`` is a JWT: its header and payload decode to JSON objects with an alg."""
    parts = token.split(b".")
    if len(parts) != 3:  # header, payload, signature
        return False
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header and isinstance(payload, dict)


#: the ``validate`` values a rule may name
VALIDATE: dict[str, Callable[[bytes], bool]] = {
    "github-checksum": valid_github_checksum,
    "jwt": valid_jwt,
}
