"""The credentials ledger: every credential used in development and test, and its rotation.

The ledger lists the secret variables of the env inventory (``gonogo.env.toml``) and the
credentials the policy declares under ``[security.credentials.NAME]``. Each entry has an
owner role, a maximum age, where the credential is stored, and its last rotation, read
from Vault KV v2 metadata or AWS Secrets Manager where the policy names the secret, or
from the newest ``security.credential.rotated`` audit event (``gonogo security rotated``).
The newest of these wins. An entry is *ok*, *overdue*, *never rotated*, or *unknown*
when its rotation source could not be read (an error, never a pass or a fail).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from gonogo.audit.chain import Event
from gonogo.clock import iso
from gonogo.config.inventory import FILENAME, Inventory, load_inventory
from gonogo.errors import UsageError
from gonogo.policy.credentials import Credential, Security
from gonogo.secrets import looks_like_secret
from gonogo.security import SecurityError

SCHEMA = "gonogo.credentials/v1"
#: a URL's password: ``scheme://user:PASSWORD@host``
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+(?=@)", re.I)


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***``.

    ``stored_in`` and ``description`` are for people, yet a connection URL pasted there
    would otherwise reach every report (and the audit trail, through ``rotated``).
    """
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***", text)


#: what a ledger text shows when the secret scanner's rules find a secret in it
HIDDEN = "(hidden: it holds a secret)"


def fit_to_show(text: str) -> str:
    """``text`` with URL passwords masked, or :data:`HIDDEN` when it holds a token.

    The secret scanner's built-in rules judge what is left (an API key, a private key, a
    cloud credential pasted into ``description``): such a text is not shown at all.
    """
    masked = mask_url_passwords(text)
    return HIDDEN if looks_like_secret(masked) else masked


ROTATED_EVENT = "security.credential.rotated"


class RotationLookupError(SecurityError):
    """A rotation source (Vault, AWS Secrets Manager) could not be read."""


class CredentialStatus(StrEnum):
    """Where a credential stands against its maximum age."""

    OK = "ok"
    OVERDUE = "overdue"
    NEVER_ROTATED = "never_rotated"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """How people read it: ``never rotated``."""
        return self.value.replace("_", " ")


#: statuses that fail the ``credentials`` check
FAILING = frozenset({CredentialStatus.OVERDUE, CredentialStatus.NEVER_ROTATED})


@dataclass(frozen=True)
class Tracked:
    """A credential the ledger tracks, before its rotation is looked up."""

    name: str
    owner: str | None
    max_age_days: int
    stored_in: str
    description: str
    origin: str
    """``inventory``, ``policy`` or ``inventory+policy``: where it was found."""
    declared: Credential | None = None

    @property
    def vault(self) -> str | None:
        """The Vault KV v2 secret (``MOUNT/PATH``) holding it, if declared."""
        return self.declared.vault if self.declared else None

    @property
    def aws_secret(self) -> str | None:
        """The AWS Secrets Manager secret (name or ARN) holding it, if declared."""
        return self.declared.aws_secret if self.declared else None


@dataclass(frozen=True)
class Rotation:
    """When a credential last got a new value, and who or what says so."""

    at: datetime
    source: str
    """``vault``, ``aws`` or ``recorded``."""
    by: str | None = None
    note: str | None = None
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "at": iso(self.at),
            "source": self.source,
            "by": self.by,
            "note": self.note,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Entry:
    """One line of the ledger."""

    credential: Tracked
    status: CredentialStatus
    rotation: Rotation | None = None
    age_days: int | None = None
    due: date | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (one ``credentials[]`` item of ``gonogo.credentials/v1``)."""
        c = self.credential
        return {
            "name": c.name,
            "owner": c.owner,
            "origin": c.origin,
            "stored_in": c.stored_in,
            "description": c.description,
            "max_age_days": c.max_age_days,
            "status": self.status.value,
            "last_rotation": self.rotation.to_json() if self.rotation else None,
            "age_days": self.age_days,
            "due": self.due.isoformat() if self.due else None,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Ledger:
    """Every tracked credential with its status, judged at ``as_of``."""

    as_of: datetime
    entries: tuple[Entry, ...]

    @property
    def failing(self) -> tuple[Entry, ...]:
        """Overdue and never-rotated entries."""
        return tuple(e for e in self.entries if e.status in FAILING)

    @property
    def unknown(self) -> tuple[Entry, ...]:
        """Entries whose rotation source could not be read."""
        return tuple(e for e in self.entries if e.status is CredentialStatus.UNKNOWN)

    def counts(self) -> dict[str, int]:
        """Entries per status."""
        counts = {s.value: 0 for s in CredentialStatus}
        for entry in self.entries:
            counts[entry.status.value] += 1
        return counts

    @property
    def verdict(self) -> str:
        """``fail`` when anything is overdue or never rotated, ``error`` when a source could
        not be read, else ``pass``."""
        if self.failing:
            return "fail"
        return "error" if self.unknown else "pass"

    def to_json(self) -> dict[str, Any]:
        """The ``gonogo.credentials/v1`` document."""
        return {
            "schema": SCHEMA,
            "as_of": iso(self.as_of),
            "verdict": self.verdict,
            "counts": self.counts(),
            "credentials": [e.to_json() for e in self.entries],
        }


def inventory_path(root: Path, security: Security) -> Path | None:
    """The env inventory the ledger reads: ``[security] inventory``, else the project's
    ``gonogo.env.toml`` when there is one."""
    if security.inventory is not None:
        path = Path(security.inventory)
        return path if path.is_absolute() else root / path
    default = root / FILENAME
    return default if default.is_file() else None


def inventory_of(root: Path, security: Security) -> Inventory | None:
    """The env inventory (see :func:`inventory_path`), loaded; None when there is none."""
    path = inventory_path(root, security)
    return load_inventory(path) if path is not None else None


def tracked(security: Security, inventory: Inventory | None) -> list[Tracked]:
    """The inventory's secret variables plus the declared credentials, sorted by name."""
    secrets = {v.name: v for v in inventory or () if v.secret}
    out = []
    for name in sorted(set(secrets) | set(security.credentials)):
        declared = security.credentials.get(name)
        variable = secrets.get(name)
        origin = (
            "inventory+policy" if variable and declared else "inventory" if variable else "policy"
        )
        description = (declared.description if declared else None) or (
            variable.description if variable else ""
        )
        out.append(
            Tracked(
                name=name,
                owner=(declared.owner if declared else None) or security.credential_owner,
                max_age_days=(declared.max_age_days if declared else None) or security.max_age_days,
                stored_in=fit_to_show(
                    _stored_in(declared, variable.definitions if variable else ())
                ),
                description=fit_to_show(description or ""),
                origin=origin,
                declared=declared,
            )
        )
    return out


def _stored_in(declared: Credential | None, definitions: tuple[str, ...]) -> str:
    if declared is not None:
        if declared.stored_in:
            return declared.stored_in
        if declared.vault:
            return f"Vault KV {declared.vault}"
        if declared.aws_secret:
            return f"AWS Secrets Manager {declared.aws_secret}"
    if definitions:
        return "defined in " + ", ".join(definitions)
    return "not recorded"


def require(known: Iterable[Tracked], name: str) -> Tracked:
    """The tracked credential ``name``; a one-line error listing the known names."""
    listed = list(known)
    found = next((t for t in listed if t.name == name), None)
    if found is None:
        names = ", ".join(t.name for t in listed) or "none"
        raise UsageError(
            f"no credential named {name!r} in the ledger",
            hint=f"known credentials: {names} (secret variables of {FILENAME} and "
            "[security.credentials.NAME] in the policy)",
        )
    return found


def recorded(events: Iterable[Event]) -> dict[str, Rotation]:
    """The rotation each credential's newest ``security.credential.rotated`` event records."""
    found: dict[str, Rotation] = {}
    for event in events:
        if event.type != ROTATED_EVENT:
            continue
        name, at = event.payload.get("name"), event.payload.get("rotated_at")
        if not isinstance(name, str) or not isinstance(at, str):
            continue
        try:
            moment = parse_moment(at)
        except ValueError:
            continue
        note = event.payload.get("note")
        found[name] = Rotation(
            at=moment,
            source="recorded",
            by=event.actor,
            note=fit_to_show(note) if isinstance(note, str) else None,
            detail=f"audit event #{event.seq}",
        )
    return found


def parse_moment(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time (UTC when it names no zone)."""
    value = text.strip()
    if len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


Lookup = Callable[[Tracked], Rotation | None]


def build(
    credentials: Iterable[Tracked],
    recorded_rotations: Mapping[str, Rotation],
    *,
    as_of: datetime,
    lookup: Lookup,
) -> Ledger:
    """Judge every credential at ``as_of``; ``lookup`` reads Vault or AWS where declared."""
    return Ledger(
        as_of=as_of,
        entries=tuple(
            _entry(c, recorded_rotations.get(c.name), as_of, lookup) for c in credentials
        ),
    )


def _entry(
    credential: Tracked, recorded_rotation: Rotation | None, as_of: datetime, lookup: Lookup
) -> Entry:
    try:
        looked_up = lookup(credential)
    except RotationLookupError as exc:
        if recorded_rotation is None:
            return Entry(credential, CredentialStatus.UNKNOWN, problem=str(exc))
        looked_up = None
        problem: str | None = str(exc)
    else:
        problem = None
    known = [r for r in (looked_up, recorded_rotation) if r is not None]
    if not known:
        return Entry(credential, CredentialStatus.NEVER_ROTATED, problem=problem)
    rotation = max(known, key=lambda r: r.at)
    limit = timedelta(days=credential.max_age_days)
    age = as_of - rotation.at
    status = CredentialStatus.OVERDUE if age > limit else CredentialStatus.OK
    if problem is not None and status is CredentialStatus.OK:
        # the recorded date alone says ok, but the store of record could not be asked
        status = CredentialStatus.UNKNOWN
    return Entry(
        credential,
        status,
        rotation=rotation,
        age_days=max(0, age.days),
        due=(rotation.at + limit).date(),
        problem=problem,
    )


def read_ledger(
    root: Path,
    security: Security,
    events: Iterable[Event],
    *,
    as_of: datetime,
    lookup: Lookup,
    names: Iterable[str] = (),
) -> Ledger:
    """The ledger of the project at ``root``: its inventory, the policy's declarations and
    the recorded rotations in ``events``; ``names`` narrows it (unknown names are an error)."""
    known = tracked(security, inventory_of(root, security))
    wanted = list(names)
    if wanted:
        known = [require(known, name) for name in wanted]
    return build(known, recorded(events), as_of=as_of, lookup=lookup)


def binding_view(ledger: Ledger) -> dict[str, Any]:
    """What a sign-off binds to: each credential's status and rotation, not its age today."""
    return {
        "credentials": [
            {
                "name": e.credential.name,
                "status": e.status.value,
                "rotated": iso(e.rotation.at) if e.rotation else None,
                "source": e.rotation.source if e.rotation else None,
                "max_age_days": e.credential.max_age_days,
                "owner": e.credential.owner,
            }
            for e in ledger.entries
        ]
    }
