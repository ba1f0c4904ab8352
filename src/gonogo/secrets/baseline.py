"""Baselines: known findings a scan suppresses, identified by fingerprint, never by line.

gonogo's baseline is JSON (``"schema": "gonogo.secrets-baseline/v1"``) listing each known
finding's fingerprint, rule and path, sorted, so moving lines around changes nothing and
rewriting it gives the same bytes. It never holds a secret. A detect-secrets baseline
(``.secrets.baseline``: ``results`` → file → ``hashed_secret``) is read as well: a finding
in the same file whose secret has that SHA-1 is suppressed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gonogo.digest import sha256_bytes
from gonogo.files import write_atomic
from gonogo.secrets.model import BASELINE_SCHEMA, Finding, SecretsError

GONOGO = "gonogo"
DETECT_SECRETS = "detect-secrets"


@dataclass(frozen=True)
class Baseline:
    """The findings a scan should not report again."""

    source: str
    format: str
    sha256: str
    fingerprints: frozenset[str] = frozenset()
    hashed: frozenset[tuple[str, str]] = frozenset()
    """(file, SHA-1 of the secret) pairs from a detect-secrets baseline."""

    def suppresses(self, finding: Finding) -> bool:
        """Whether ``finding`` is already known."""
        if finding.fingerprint in self.fingerprints:
            return True
        return any((finding.path, sha1) in self.hashed for sha1 in finding.secret_sha1s)

    @property
    def size(self) -> int:
        """How many known findings it lists."""
        return len(self.fingerprints) + len(self.hashed)


def _bad(path: Path, why: str) -> SecretsError:
    return SecretsError(
        f"baseline {path} {why}",
        hint="write a new one with `gonogo secrets scan --baseline FILE --update-baseline`",
    )


def _clean(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def _from_detect_secrets(results: Any, path: Path) -> frozenset[tuple[str, str]]:
    if not isinstance(results, Mapping):
        raise _bad(path, "has a `results` entry that is not an object")
    pairs = set()
    for filename, entries in results.items():
        if not isinstance(entries, list):
            raise _bad(path, f"lists {filename!r} without a list of secrets")
        for entry in entries:
            hashed = entry.get("hashed_secret") if isinstance(entry, Mapping) else None
            if not isinstance(hashed, str):
                raise _bad(path, f"has an entry for {filename!r} without hashed_secret")
            pairs.add((_clean(str(filename)), hashed.lower()))
    return frozenset(pairs)


def load_baseline(path: Path) -> Baseline:
    """Read a gonogo or detect-secrets baseline; anything malformed is one line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SecretsError(
            f"baseline {path} does not exist",
            hint="create it with `gonogo secrets scan --baseline FILE --update-baseline`",
        ) from None
    except OSError as exc:
        raise SecretsError(f"cannot read baseline {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"is not valid JSON ({exc})") from None
    if not isinstance(data, Mapping):
        raise _bad(path, "is not a JSON object")
    digest = sha256_bytes(raw)
    if data.get("schema") == BASELINE_SCHEMA:
        entries = data.get("findings")
        if not isinstance(entries, list) or not all(
            isinstance(e, Mapping) and isinstance(e.get("fingerprint"), str) for e in entries
        ):
            raise _bad(path, "has findings without a fingerprint")
        prints = frozenset(str(e["fingerprint"]) for e in entries)
        return Baseline(str(path), GONOGO, digest, fingerprints=prints)
    if "results" in data:
        hashed = _from_detect_secrets(data["results"], path)
        return Baseline(str(path), DETECT_SECRETS, digest, hashed=hashed)
    raise _bad(
        path, f'is neither a gonogo baseline ("schema": "{BASELINE_SCHEMA}") nor detect-secrets\'s'
    )


def render_baseline(findings: Iterable[Finding]) -> str:
    """The baseline file's text for ``findings``: stable, sorted, no secrets."""
    entries = {
        f.fingerprint: {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.path}
        for f in findings
    }
    ordered = sorted(entries.values(), key=lambda e: (e["path"], e["rule_id"], e["fingerprint"]))
    body = {"schema": BASELINE_SCHEMA, "findings": ordered}
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def write_baseline(path: Path, findings: Iterable[Finding]) -> str:
    """Write the baseline for ``findings`` atomically; returns its SHA-256."""
    if path.exists():
        try:
            existing = json.loads(path.read_bytes())
        except (OSError, ValueError):
            existing = None
        if isinstance(existing, Mapping) and "results" in existing and "schema" not in existing:
            raise SecretsError(
                f"{path} is a detect-secrets baseline; gonogo will not overwrite it",
                hint="pass --baseline NEW_FILE with --update-baseline to write gonogo's own",
            )
    text = render_baseline(findings)
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise SecretsError(f"cannot write baseline {path}: {exc.strerror}") from None
    return sha256_bytes(text.encode("utf-8"))
