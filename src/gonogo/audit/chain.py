"""The hash-chained audit trail: append, read, verify.

Each event's hash is SHA-256 over the canonical JSON of its sequence number,
time, actor, type, payload and the previous event's hash. Editing, deleting,
inserting or reordering a row breaks the chain at that row; cutting off the
newest events is caught by comparing with a checkpoint kept outside the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from gonogo.clock import Clock, iso
from gonogo.digest import sha256_json
from gonogo.gates.results import AuditHead
from gonogo.store.schema import audit_events, audit_head

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    """One audit event."""

    seq: int
    ts: str
    actor: str
    type: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """JSON form, as exported."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "type": self.type,
            "payload": dict(self.payload),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


#: the payload keys that name what an event is about, in the order a summary shows them
SUMMARY_KEYS = ("release", "gate", "subject", "role", "criterion", "verdict", "outcome")


def payload_summary(payload: Mapping[str, Any]) -> str:
    """What an event is about in one line: ``release=1.0 gate=docs verdict=pass``."""
    return " ".join(f"{k}={payload[k]}" for k in SUMMARY_KEYS if payload.get(k) is not None)


def event_hash(
    *, seq: int, ts: str, actor: str, type: str, payload: Mapping[str, Any], prev_hash: str
) -> str:
    """The hash an event with these fields must carry."""
    return sha256_json(
        {
            "seq": seq,
            "ts": ts,
            "actor": actor,
            "type": type,
            "payload": dict(payload),
            "prev": prev_hash,
        }
    )


def serialise(conn: Connection) -> None:
    """Queue this write transaction behind every other one: lock the audit head row now.

    SQLite's ``BEGIN IMMEDIATE`` serialises writers from their first statement. On
    PostgreSQL two transactions could otherwise both read "no rollout under way" (or
    "nobody holds the lease") and both write; every writer appends to the chain and so
    takes this lock anyway, so taking it first costs no extra waiting and makes a check
    and the write it allows one step. (SQLite ignores ``FOR UPDATE``.)
    """
    conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update())


def append(
    conn: Connection, *, actor: str, type: str, payload: Mapping[str, Any], clock: Clock
) -> Event:
    """Append an event inside the caller's write transaction.

    The head row is locked first, so concurrent writers queue instead of
    forking the chain.
    """
    head = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).one()
    seq = int(head.seq) + 1
    ts = iso(clock.now())
    body = json.loads(json.dumps(dict(payload), default=str))
    digest = event_hash(seq=seq, ts=ts, actor=actor, type=type, payload=body, prev_hash=head.hash)
    conn.execute(
        audit_events.insert().values(
            seq=seq,
            ts=ts,
            actor=actor,
            type=type,
            payload=json.dumps(body, sort_keys=True),
            prev_hash=head.hash,
            hash=digest,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return Event(seq, ts, actor, type, body, head.hash, digest)


def head(conn: Connection) -> AuditHead:
    """The head recorded in the store (seq 0 for an empty trail)."""
    row = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    ).one()
    return AuditHead(seq=int(row.seq), hash=str(row.hash))


def events(
    conn: Connection, *, since: int = 0, type_prefix: str | None = None, limit: int | None = None
) -> Iterator[Event]:
    """Events in sequence order, streamed."""
    query = select(audit_events).where(audit_events.c.seq > since).order_by(audit_events.c.seq)
    if type_prefix:
        query = query.where(audit_events.c.type.startswith(type_prefix))
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query):
        yield _event(row._mapping)


def tail(conn: Connection, count: int) -> list[Event]:
    """The newest ``count`` events, oldest first."""
    rows = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc()).limit(count)).all()
    return [_event(r._mapping) for r in reversed(rows)]


def count(conn: Connection) -> int:
    """Number of events stored."""
    return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def _event(row: Any) -> Event:
    return Event(
        seq=int(row["seq"]),
        ts=str(row["ts"]),
        actor=str(row["actor"]),
        type=str(row["type"]),
        payload=_payload(row["payload"]),
        prev_hash=str(row["prev_hash"]),
        hash=str(row["hash"]),
    )


def _payload(raw: Any) -> Mapping[str, Any]:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {"__unreadable__": str(raw)[:200]}
    return value if isinstance(value, dict) else {"__unreadable__": str(raw)[:200]}


@dataclass(frozen=True)
class Verification:
    """The result of verifying the trail."""

    ok: bool
    checked: int
    head: AuditHead
    problem: str | None = None
    bad_seq: int | None = None
    checkpoint: AuditHead | None = None


def verify(conn: Connection, checkpoint: AuditHead | None = None) -> Verification:
    """Walk the whole chain; name the first event that does not hold."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    at_checkpoint: str | None = None
    for event in events(conn):
        if event.seq != expected_seq:
            return _bad(
                checked,
                prev,
                expected_seq,
                f"event #{expected_seq} is missing (deleted): the trail jumps to #{event.seq}",
                checkpoint,
            )
        # the link first: a row moved to another seq also fails its hash (seq is hashed),
        # and would be reported as edited when it was inserted or reordered
        if event.prev_hash != prev:
            return _bad(
                checked,
                prev,
                event.seq,
                f"event #{event.seq} ({event.type}) does not follow event #{event.seq - 1}: "
                "events were inserted or reordered",
                checkpoint,
            )
        recomputed = event_hash(
            seq=event.seq,
            ts=event.ts,
            actor=event.actor,
            type=event.type,
            payload=event.payload,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return _bad(
                checked,
                prev,
                event.seq,
                f"event #{event.seq} ({event.type}) does not match its hash: it was edited",
                checkpoint,
            )
        prev = event.hash
        if checkpoint is not None and event.seq == checkpoint.seq:
            at_checkpoint = event.hash
        checked += 1
        expected_seq += 1
    last = AuditHead(seq=checked, hash=prev)
    stored = head(conn)
    if stored != last:
        return _bad(
            checked,
            prev,
            min(stored.seq, last.seq + 1),
            f"the trail ends at event #{last.seq} but the store's head records #{stored.seq}: "
            "events were cut off or the head was altered",
            checkpoint,
        )
    if checkpoint is not None:
        if checkpoint.seq > last.seq:
            return _bad(
                checked,
                prev,
                last.seq + 1,
                f"the trail ends at event #{last.seq} but the checkpoint recorded "
                f"#{checkpoint.seq}: newer events were cut off",
                checkpoint,
            )
        if checkpoint.seq > 0 and at_checkpoint != checkpoint.hash:
            return _bad(
                checked,
                prev,
                checkpoint.seq,
                f"event #{checkpoint.seq} differs from the checkpoint's hash: "
                "the history was rewritten",
                checkpoint,
            )
    return Verification(ok=True, checked=checked, head=last, checkpoint=checkpoint)


def _bad(
    checked: int, prev: str, seq: int, problem: str, checkpoint: AuditHead | None
) -> Verification:
    return Verification(
        ok=False,
        checked=checked,
        head=AuditHead(seq=checked, hash=prev),
        problem=problem,
        bad_seq=seq,
        checkpoint=checkpoint,
    )
