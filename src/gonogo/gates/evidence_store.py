"""Evidence in the store: the result cache and files pushed with ``gonogo ingest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gonogo.clock import iso
from gonogo.digest import sha256_bytes
from gonogo.errors import UsageError
from gonogo.scope.releases import Release
from gonogo.store.schema import criterion_results as results_table
from gonogo.store.schema import evaluations, ingested, releases, result_cache
from gonogo.workspace import Workspace

MAX_INGEST_BYTES = 50 * 1024 * 1024


def cache_get(conn: Connection, digest: str) -> dict[str, Any] | None:
    """The cached observation for an input digest."""
    row = conn.execute(
        select(result_cache.c.payload).where(result_cache.c.digest == digest)
    ).first()
    if row is None:
        return None
    try:
        value = json.loads(row.payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def cache_put(conn: Connection, digest: str, check: str, payload: dict[str, Any], now: str) -> None:
    """Store an observation under its input digest (first writer wins)."""
    values = {
        "digest": digest,
        "check_type": check,
        "payload": json.dumps(payload, sort_keys=True),
        "created_at": now,
    }
    dialect = conn.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    conn.execute(insert(result_cache).values(**values).on_conflict_do_nothing())


def ingest(ws: Workspace, *, ref: str, file: Path, release: Release | None) -> str:
    """Store a file as the evidence for criterion ``ref``; returns its digest."""
    try:
        # read at most one byte past the limit: a pipe (or /dev/stdin) works, and a device
        # that never ends (/dev/zero) is refused instead of filling the memory
        with file.open("rb") as stream:
            content = stream.read(MAX_INGEST_BYTES + 1)
        if len(content) > MAX_INGEST_BYTES:
            raise UsageError(
                f"{file} holds more than the {MAX_INGEST_BYTES} byte limit for evidence",
                hint="ingest a summary report instead of raw logs",
            )
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file", hint="pass the report file to ingest") from None
    except IsADirectoryError:
        raise UsageError(f"{file} is a folder", hint="pass one report file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from None
    digest = sha256_bytes(content)
    with ws.transaction() as tx:
        tx.conn.execute(
            ingested.insert().values(
                release_id=release.id if release else None,
                criterion_ref=ref,
                filename=file.name,
                sha256=digest,
                content=content,
                created_at=iso(ws.clock.now()),
                created_by=ws.actor,
            )
        )
        tx.record(
            "evidence.ingested",
            {
                "criterion": ref,
                "file": file.name,
                "sha256": digest,
                "bytes": len(content),
                "release": release.version if release else None,
            },
        )
    return digest


def materialize(conn: Connection, *, ref: str, release: Release | None, into: Path) -> Path | None:
    """Write the newest ingested evidence for ``ref`` to a file under ``into``."""
    query = select(ingested).where(ingested.c.criterion_ref == ref)
    if release is not None:
        query = query.where(
            (ingested.c.release_id == release.id) | (ingested.c.release_id.is_(None))
        )
    row = conn.execute(query.order_by(ingested.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    folder = into / row.sha256[:16]
    folder.mkdir(parents=True, exist_ok=True)
    target: Path = folder / Path(str(row.filename)).name
    target.write_bytes(row.content)
    return target


def last_passing_value(conn: Connection, ref: str, release: Release | None) -> float | None:
    """The measured value of ``ref`` in the newest passing evaluation of an earlier release."""
    query = (
        select(results_table.c.measured)
        .join(evaluations, evaluations.c.id == results_table.c.evaluation_id)
        .join(releases, releases.c.id == evaluations.c.release_id)
        .where(
            results_table.c.criterion_ref == ref,
            results_table.c.status == "pass",
            results_table.c.measured.is_not(None),
        )
        .order_by(evaluations.c.id.desc())
        .limit(1)
    )
    if release is not None:
        query = query.where(releases.c.id != release.id)
    row = conn.execute(query).first()
    return float(row.measured) if row is not None else None
