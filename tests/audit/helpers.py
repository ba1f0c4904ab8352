"""Helpers for the audit tests: append events, and tamper with the table as an attacker would.

Every tamper works with raw SQL on the real ``audit_events`` / ``audit_head`` tables through
its own plain SQLAlchemy engine, never through gonogo's store code.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, create_engine, text

from gonogo.audit.chain import Event, event_hash
from gonogo.workspace import Workspace

COLUMNS = ("seq", "ts", "actor", "type", "payload", "prev_hash", "hash")
SELECT_EVENTS = "SELECT seq, ts, actor, type, payload, prev_hash, hash FROM audit_events"


def append_events(ws: Workspace, payloads: Sequence[Mapping[str, Any]]) -> list[Event]:
    """Append one event per payload, each in its own transaction (as commands do)."""
    appended = []
    for number, payload in enumerate(payloads, start=1):
        with ws.transaction() as tx:
            appended.append(tx.record(f"test.event{number}", payload))
    return appended


def sample_payloads(count: int) -> list[dict[str, Any]]:
    """Payloads with nested values and non-ASCII text."""
    return [
        {"release": f"1.{n}.0", "note": f"Prüfung {n} ✓ 日本語", "n": n, "tags": ["a", n, None]}
        for n in range(1, count + 1)
    ]


@contextlib.contextmanager
def raw_sql(url: str) -> Iterator[Connection]:
    """A transaction on the store through a plain SQLAlchemy engine (an attacker's view)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def rows(conn: Connection) -> list[dict[str, Any]]:
    """Every row of audit_events, by seq."""
    result = conn.execute(text(SELECT_EVENTS + " ORDER BY seq"))
    return [dict(r._mapping) for r in result]


def row(conn: Connection, seq: int) -> dict[str, Any]:
    """One row of audit_events."""
    result = conn.execute(text(SELECT_EVENTS + " WHERE seq = :seq"), {"seq": seq})
    return dict(result.one()._mapping)


def rehash(values: Mapping[str, Any]) -> str:
    """The hash a row with these column values must carry (what a forger computes)."""
    return event_hash(
        seq=int(values["seq"]),
        ts=str(values["ts"]),
        actor=str(values["actor"]),
        type=str(values["type"]),
        payload=json.loads(values["payload"]),
        prev_hash=str(values["prev_hash"]),
    )


def set_head(conn: Connection, seq: int, digest: str) -> None:
    """Overwrite the store's audit head row."""
    conn.execute(
        text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": seq, "hash": digest},
    )


def update_row(conn: Connection, seq: int, /, **values: Any) -> None:
    """Overwrite columns of the row ``seq``."""
    unknown = set(values) - set(COLUMNS)
    assert not unknown, unknown
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    statement = f"UPDATE audit_events SET {assignments} WHERE seq = :where_seq"  # noqa: S608 - known column names; values are bound
    conn.execute(text(statement), {**values, "where_seq": seq})


def shift_from(conn: Connection, seq: int, by: int) -> None:
    """Renumber the rows from ``seq`` on by ``by`` (two steps: seq is a primary key)."""
    conn.execute(
        text("UPDATE audit_events SET seq = -(seq + :by) WHERE seq >= :seq"), {"seq": seq, "by": by}
    )
    conn.execute(text("UPDATE audit_events SET seq = -seq WHERE seq < 0"))


# ----------------------------------------------------------------------------- tampers


def edit_payload(conn: Connection, seq: int) -> None:
    """(1) Change what one event says, leaving its hash as it was."""
    payload = json.loads(row(conn, seq)["payload"])
    payload["release"] = "6.6.6"
    update_row(conn, seq, payload=json.dumps(payload, sort_keys=True, ensure_ascii=False))


def delete_row(conn: Connection, seq: int) -> None:
    """(2) Remove one event from the middle."""
    conn.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": seq})


def insert_forged(conn: Connection, seq: int) -> None:
    """(3) Slip in an event at ``seq``: renumber the rows after it, link and hash the forgery
    correctly, and move the head, as someone who read the source would."""
    previous = row(conn, seq - 1)
    shift_from(conn, seq, 1)
    forged = {
        "seq": seq,
        "ts": previous["ts"],
        "actor": "mallory@example.com",
        "type": "signoff.recorded",
        "payload": json.dumps({"gate": "security", "role": "security"}, sort_keys=True),
        "prev_hash": previous["hash"],
    }
    forged["hash"] = rehash(forged)
    conn.execute(
        text(
            "INSERT INTO audit_events (seq, ts, actor, type, payload, prev_hash, hash) "
            "VALUES (:seq, :ts, :actor, :type, :payload, :prev_hash, :hash)"
        ),
        forged,
    )
    last = rows(conn)[-1]
    set_head(conn, last["seq"], last["hash"])


def swap_rows(conn: Connection, first: int, second: int) -> None:
    """(4) Reorder two events: swap everything but their sequence numbers."""
    one, two = row(conn, first), row(conn, second)
    update_row(conn, first, **{k: v for k, v in two.items() if k != "seq"})
    update_row(conn, second, **{k: v for k, v in one.items() if k != "seq"})


def truncate_consistently(conn: Connection, keep: int) -> None:
    """(5) Cut off every event after ``keep`` and make the head agree, so the chain itself
    is consistent."""
    conn.execute(text("DELETE FROM audit_events WHERE seq > :keep"), {"keep": keep})
    kept = row(conn, keep)
    set_head(conn, keep, kept["hash"])


def truncate_only(conn: Connection, keep: int) -> None:
    """Cut off every event after ``keep`` and leave the head row alone."""
    conn.execute(text("DELETE FROM audit_events WHERE seq > :keep"), {"keep": keep})


def rewrite_history(conn: Connection, seq: int) -> None:
    """Edit event ``seq`` and recompute every hash from there on, head included."""
    edit_payload(conn, seq)
    previous = row(conn, seq - 1)["hash"] if seq > 1 else "0" * 64
    for values in rows(conn):
        if values["seq"] < seq:
            continue
        values["prev_hash"] = previous
        values["hash"] = rehash(values)
        update_row(conn, values["seq"], prev_hash=values["prev_hash"], hash=values["hash"])
        previous = values["hash"]
    set_head(conn, rows(conn)[-1]["seq"], previous)
