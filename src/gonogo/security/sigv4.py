"""AWS Signature Version 4 for one request (standard library only).

Enough of the signing process for the AWS JSON APIs gonogo calls (Secrets Manager's
``DescribeSecret``): the canonical request, the string to sign, the derived signing key
and the ``Authorization`` header, as AWS documents them ("Create a signed AWS API
request"). Keys are only ever used as HMAC keys; nothing here logs or returns them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AwsCredentials:
    """An access key, its secret and an optional session token (never shown in repr)."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """The derived key: HMAC chain over the date, region, service and ``aws4_request``."""
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_request(
    method: str, url: str, headers: Mapping[str, str], body: bytes
) -> tuple[str, str]:
    """The canonical request and its signed-header list (names lower case, sorted)."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/~")
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = {k.lower(): _SPACES.sub(" ", v.strip()) for k, v in headers.items()}
    names = sorted(canonical)
    header_block = "".join(f"{name}:{canonical[name]}\n" for name in names)
    signed = ";".join(names)
    payload = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, query, header_block, signed, payload]), signed


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """``headers`` plus ``Host``, ``X-Amz-Date``, the session token and ``Authorization``."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    out = {"Host": urlsplit(url).netloc, **headers, "X-Amz-Date": stamp}
    if credentials.session_token:
        out["X-Amz-Security-Token"] = credentials.session_token
    request, signed = canonical_request(method, url, out, body)
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, stamp, scope, hashlib.sha256(request.encode("utf-8")).hexdigest()]
    )
    key = signing_key(credentials.secret_key, day, region, service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return out
