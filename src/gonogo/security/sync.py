"""``gonogo deps sync``: download OSV's ecosystem archives for offline audits.

Each ecosystem's ``{base}/{ecosystem}/all.zip`` is fetched with httpx
(``pip install 'gonogo[sync]'``, imported lazily) into ``DIR/{ecosystem}/all.zip``:
written to a temporary file, checked to be a zip holding OSV JSON, then moved
into place, so an interrupted or bad download never replaces a good archive.
The ETag is kept beside it and sent back, so an unchanged archive is not fetched
again. The base URL is configurable (a mirror, or a local server in tests).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gonogo.digest import sha256_file
from gonogo.evidence.lockfiles import Ecosystem
from gonogo.files import write_atomic
from gonogo.security import SecurityError
from gonogo.security.httpclient import check_url, redact_url

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
ARCHIVE = "all.zip"
META = ".sync.json"
_TIMEOUT = 120.0
_CHUNK = 1 << 20


class SyncError(SecurityError):
    """The archive could not be downloaded or is not an OSV archive."""


@dataclass(frozen=True)
class SyncResult:
    """What one ecosystem's sync did."""

    ecosystem: str
    path: Path
    url: str
    changed: bool
    advisories: int
    sha256: str


def parse_ecosystem(text: str) -> Ecosystem:
    """``PyPI`` or ``npm`` (any case); SyncError naming the known ones otherwise."""
    for eco in Ecosystem:
        if text.strip().lower() == eco.value.lower():
            return eco
    known = ", ".join(e.value for e in Ecosystem)
    raise SyncError(f"unknown ecosystem {text!r}", hint=f"use one of: {known}")


def _httpx() -> Any:
    try:
        import httpx  # noqa: PLC0415 - optional extra
    except ImportError:
        raise SyncError(
            "downloading advisories needs httpx", hint="pip install 'gonogo[sync]'"
        ) from None
    return httpx


def sync(
    ecosystems: list[Ecosystem],
    dest: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    timeout: float = _TIMEOUT,
) -> list[SyncResult]:
    """Download each ecosystem's archive into ``dest``; return what changed.

    Messages and the kept metadata show the URL without user info or query (a mirror's
    password or token)."""
    check_url(base_url, hint="give --url (or $GONOGO_OSV_URL) as http(s)://HOST[/PATH]")
    httpx = _httpx()
    results = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for eco in ecosystems:
            try:
                results.append(_one(client, httpx, eco, dest, base_url.rstrip("/")))
            except httpx.HTTPError as exc:
                raise SyncError(
                    f"cannot download the {eco.value} advisories from {redact_url(base_url)}: "
                    f"{_reason(exc).replace(base_url, redact_url(base_url))}",
                    hint="check the network or --url, or copy an all.zip into the folder by hand",
                ) from None
    return results


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _one(client: Any, httpx: Any, eco: Ecosystem, dest: Path, base: str) -> SyncResult:
    url = f"{base}/{eco.value}/{ARCHIVE}"
    folder = dest / eco.value
    target = folder / ARCHIVE
    meta_file = folder / META
    meta = _read_meta(meta_file)
    headers = {}
    if target.is_file() and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SyncError(f"cannot create {folder}: {exc.strerror}", hint="check --db") from None
    temp = folder / f".{ARCHIVE}.part"
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return SyncResult(
                eco.value,
                target,
                redact_url(url),
                False,
                int(meta.get("advisories", 0)),
                sha256_file(target),
            )
        if response.status_code != 200:
            raise SyncError(
                f"cannot download {redact_url(url)}: HTTP {response.status_code}",
                hint="check --url; the archive lives at BASE/ECOSYSTEM/all.zip",
            )
        try:
            with temp.open("wb") as handle:
                for chunk in response.iter_bytes(_CHUNK):
                    handle.write(chunk)
        except httpx.HTTPError:
            temp.unlink(missing_ok=True)
            raise
        etag = response.headers.get("etag")
    advisories = _check_archive(temp, redact_url(url))
    temp.replace(target)
    digest = sha256_file(target)
    _write_meta(meta_file, redact_url(url), etag, advisories, digest)
    return SyncResult(eco.value, target, redact_url(url), True, advisories, digest)


def _check_archive(path: Path, url: str) -> int:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".json")]
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        path.unlink(missing_ok=True)
        raise SyncError(f"{url} did not return a zip archive", hint="check --url") from None
    if bad is not None or not names:
        path.unlink(missing_ok=True)
        why = f"member {bad} is corrupt" if bad else "it holds no OSV JSON files"
        raise SyncError(f"the archive from {url} is unusable: {why}", hint="try again later")
    return len(names)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_meta(path: Path, url: str, etag: str | None, advisories: int, digest: str) -> None:
    record = {
        "url": url,
        "etag": etag,
        "advisories": advisories,
        "sha256": digest,
        "downloaded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_atomic(path, json.dumps(record, indent=2) + "\n")
