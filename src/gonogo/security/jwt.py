"""Forge the JSON Web Tokens a service must refuse, with the standard library only.

From one valid token the probe makes: ``alg: none`` variants, a token with a wrong
signature, and (given the HMAC key) an expired token and one for another audience,
each otherwise identical to the valid one. Tokens are never printed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

#: HMAC algorithms the probe can sign with
HMAC_ALGORITHMS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

#: the audience forged tokens claim; no real service expects it
WRONG_AUDIENCE = "gonogo-probe.invalid"


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The header and claims of a JWT (unverified), or None when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = json.loads(_unb64url(parts[0])), json.loads(_unb64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or "alg" not in header:
        return None
    return header, claims


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def sign(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A JWT signed with the HMAC algorithm named in ``header`` (HS256, HS384 or HS512)."""
    digest = HMAC_ALGORITHMS[str(header["alg"])]
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def alg_none(token: str) -> list[str]:
    """Unsigned copies of ``token`` with ``alg: none``, in the spellings some libraries miss."""
    decoded = decode(token)
    if decoded is None:
        return []
    header, claims = decoded
    return [
        f"{_segment({**header, 'alg': alg})}.{_segment(claims)}."
        for alg in ("none", "None", "NONE")
    ]


def bad_signature(token: str) -> str:
    """``token`` with its signature replaced by one made with a random key."""
    signing_input = token.rsplit(".", 1)[0]
    fake = hmac.new(secrets.token_bytes(32), signing_input.encode("ascii"), hashlib.sha256)
    return f"{signing_input}.{b64url(fake.digest())}"


def expired(token: str, key: bytes, *, now: float | None = None) -> str:
    """A correctly signed copy of ``token`` that expired an hour ago."""
    header, claims = _hmac_parts(token)
    moment = int(time.time() if now is None else now)
    claims = {**claims, "iat": moment - 7200, "nbf": moment - 7200, "exp": moment - 3600}
    return sign(header, claims, key)


def wrong_audience(token: str, key: bytes, *, now: float | None = None) -> str:
    """A correctly signed, unexpired copy of ``token`` issued for another audience."""
    header, claims = _hmac_parts(token)
    moment = int(time.time() if now is None else now)
    claims = {**claims, "aud": WRONG_AUDIENCE, "iat": moment, "exp": moment + 600}
    claims.pop("nbf", None)
    return sign(header, claims, key)


def _hmac_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    decoded = decode(token)
    if decoded is None or decoded[0].get("alg") not in HMAC_ALGORITHMS:
        raise ValueError("not an HMAC-signed JWT")
    return decoded


def signable(token: str) -> bool:
    """Whether the probe can re-sign ``token`` (an HS256/384/512 JWT)."""
    decoded = decode(token)
    return decoded is not None and decoded[0].get("alg") in HMAC_ALGORITHMS
