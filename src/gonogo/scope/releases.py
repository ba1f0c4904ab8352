"""Releases: one version taken through the phases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from gonogo.clock import iso
from gonogo.errors import UsageError
from gonogo.store.schema import releases
from gonogo.workspace import Workspace

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,99}$")


class ReleaseState(StrEnum):
    """Where a release stands."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Release:
    """A release as stored."""

    id: int
    version: str
    state: ReleaseState
    created_at: str
    created_by: str
    notes: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "version": self.version,
            "state": self.state.value,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "notes": self.notes,
        }


def validate_version(version: str) -> str:
    """Check a version string; raise UsageError with the rule when it breaks it."""
    if not _VERSION.match(version):
        raise UsageError(
            f"{version!r} is not a usable release version",
            hint="use letters, digits and . _ + - (at most 100), e.g. 1.4.0 or 2026.11-rc1",
        )
    return version


def create(ws: Workspace, version: str, *, notes: str | None = None) -> Release:
    """Create a release and record it in the audit trail."""
    validate_version(version)
    now = iso(ws.clock.now())
    try:
        with ws.transaction() as tx:
            result = tx.conn.execute(
                releases.insert().values(
                    version=version,
                    state=ReleaseState.OPEN.value,
                    created_at=now,
                    created_by=ws.actor,
                    notes=notes,
                )
            )
            release_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            tx.record("release.created", {"release": version, "notes": notes})
    except IntegrityError:
        raise UsageError(
            f"release {version} already exists", hint=f"see it with `gonogo release show {version}`"
        ) from None
    return Release(release_id, version, ReleaseState.OPEN, now, ws.actor, notes)


def _from_row(row: Any) -> Release:
    return Release(
        id=int(row.id),
        version=str(row.version),
        state=ReleaseState(row.state),
        created_at=str(row.created_at),
        created_by=str(row.created_by),
        notes=row.notes,
    )


def list_all(conn: Connection) -> list[Release]:
    """Every release, newest first."""
    rows = conn.execute(select(releases).order_by(releases.c.id.desc())).all()
    return [_from_row(r) for r in rows]


def get(conn: Connection, version: str) -> Release:
    """The release ``version``; UsageError when there is none."""
    validate_version(version)  # no release has another form; and the message stays one line
    row = conn.execute(select(releases).where(releases.c.version == version)).first()
    if row is None:
        raise UsageError(
            f"no release {version}", hint=f"create it with `gonogo release create {version}`"
        )
    return _from_row(row)


def current(conn: Connection, version: str | None) -> Release | None:
    """The release a command works on: ``version`` if given, else the newest open one."""
    if version is not None:
        return get(conn, version)
    row = conn.execute(
        select(releases)
        .where(releases.c.state == ReleaseState.OPEN.value)
        .order_by(releases.c.id.desc())
        .limit(1)
    ).first()
    return _from_row(row) if row is not None else None
