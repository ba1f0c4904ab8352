"""A rollout's persisted state: the record, its decisions, operator requests, the lease.

The controller's state machine::

    pending -> staging -> canary (step i of n) -> promoted
        \\-----------\\------------\\----------> rolled_back

lives in the ``rollouts`` table, one row per rollout, and every transition is written in
the same transaction as its audit event. A weight change is written ahead: the row gets
``target_weight`` before the router is touched and ``weight`` once the router confirmed
it, so a controller killed in between knows on resume that the split may be either and
sets it again. Operator commands (abort, promote, a new version) are rows in
``rollout_requests`` that the running controller picks up within one interval.

One controller drives a rollout at a time: it holds a lease (``controller`` and a
``heartbeat_at`` it refreshes every interval). A lease whose heartbeat is older than
:data:`LEASE_S` — or whose process is gone, on the same host — can be taken over.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gonogo.audit import chain
from gonogo.clock import iso
from gonogo.digest import sha256_json
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.plan import STORED, RolloutPlan
from gonogo.store.schema import rollout_decisions, rollout_requests, rollouts
from gonogo.workspace import Transaction

#: seconds without a heartbeat after which another controller may take a rollout over
LEASE_S = 30.0


class RolloutState(StrEnum):
    """Where a rollout is."""

    PENDING = "pending"
    STAGING = "staging"
    CANARY = "canary"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"

    @property
    def active(self) -> bool:
        """Whether the rollout is still under way."""
        return self in (RolloutState.PENDING, RolloutState.STAGING, RolloutState.CANARY)


class RequestKind(StrEnum):
    """What an operator can ask a running controller."""

    ABORT = "abort"
    PROMOTE = "promote"
    RESTART = "restart"  # a new version arrived: argument is the version


@dataclass(frozen=True)
class RolloutRecord:
    """One row of ``rollouts``."""

    id: int
    version: str
    baseline_version: str
    release: str | None
    state: RolloutState
    step: int
    weight: float
    target_weight: float | None
    inconclusive: int
    plan_digest: str
    plan: RolloutPlan
    components: dict[str, Any]
    reason: str | None
    controller: str | None
    heartbeat_at: str | None
    created_at: str
    created_by: str
    updated_at: str

    @property
    def steps(self) -> int:
        """Number of canary steps in the plan."""
        return len(self.plan.steps)

    def describe(self) -> str:
        """``canary step 2/4 at 25%``, ``promoted``, …"""
        if self.state is RolloutState.CANARY:
            return f"canary step {self.step + 1}/{self.steps} at {self.weight:g}%"
        return self.state.value

    def to_json(self) -> dict[str, Any]:
        """JSON form (the plan is given by its digest)."""
        return {
            "id": self.id,
            "version": self.version,
            "baseline_version": self.baseline_version,
            "release": self.release,
            "state": self.state.value,
            "step": self.step,
            "steps": self.steps,
            "weight": self.weight,
            "target_weight": self.target_weight,
            "inconclusive": self.inconclusive,
            "plan_digest": self.plan_digest,
            "reason": self.reason,
            "controller": self.controller,
            "heartbeat_at": self.heartbeat_at,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class DecisionRecord:
    """One row of ``rollout_decisions``: a judge's (or the controller's) decision."""

    id: int
    rollout_id: int
    at: str
    step: int
    weight: float
    action: str
    basis: str
    reason: str
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON form: the numbers behind the decision are in ``payload``."""
        return {
            "id": self.id,
            "at": self.at,
            "step": self.step,
            "weight": self.weight,
            "action": self.action,
            "basis": self.basis,
            "reason": self.reason,
            **self.payload,
        }


@dataclass(frozen=True)
class Request:
    """One pending operator request."""

    id: int
    kind: RequestKind
    argument: str | None
    created_by: str


def plan_json(plan: RolloutPlan) -> dict[str, Any]:
    """The plan as stored (and digested)."""
    return plan.model_dump(mode="json")


def _row(row: Any) -> RolloutRecord:
    return RolloutRecord(
        id=row.id,
        version=row.version,
        baseline_version=row.baseline_version,
        release=row.release,
        state=RolloutState(row.state),
        step=row.step,
        weight=row.weight,
        target_weight=row.target_weight,
        inconclusive=row.inconclusive,
        plan_digest=row.plan_digest,
        plan=RolloutPlan.model_validate(json.loads(row.plan), context={STORED: True}),
        components=json.loads(row.components),
        reason=row.reason,
        controller=row.controller,
        heartbeat_at=row.heartbeat_at,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def load(conn: Connection, rollout_id: int | None = None) -> RolloutRecord:
    """The rollout with this id, or the latest one."""
    query = select(rollouts)
    if rollout_id is None:
        query = query.order_by(rollouts.c.id.desc()).limit(1)
    else:
        query = query.where(rollouts.c.id == rollout_id)
    row = conn.execute(query).first()
    if row is None:
        if rollout_id is None:
            raise RolloutError("no rollout yet", hint="start one with: gonogo rollout start")
        raise RolloutError(
            f"no rollout #{rollout_id}", hint="list them with: gonogo rollout status --all"
        )
    return _row(row)


def history(conn: Connection, limit: int = 20) -> list[RolloutRecord]:
    """The latest rollouts, newest first."""
    rows = conn.execute(select(rollouts).order_by(rollouts.c.id.desc()).limit(limit)).all()
    return [_row(row) for row in rows]


def active(conn: Connection) -> RolloutRecord | None:
    """The rollout under way, if any (at most one per store)."""
    states = [s.value for s in RolloutState if s.active]
    row = conn.execute(
        select(rollouts).where(rollouts.c.state.in_(states)).order_by(rollouts.c.id.desc())
    ).first()
    return None if row is None else _row(row)


def previous(conn: Connection, rollout_id: int) -> RolloutRecord | None:
    """The latest finished rollout before ``rollout_id`` (what it left serving is current)."""
    done = [s.value for s in RolloutState if not s.active]
    row = conn.execute(
        select(rollouts)
        .where(rollouts.c.id < rollout_id, rollouts.c.state.in_(done))
        .order_by(rollouts.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _row(row)


def last_promoted(conn: Connection) -> RolloutRecord | None:
    """The latest promoted rollout: its version is what production runs."""
    row = conn.execute(
        select(rollouts)
        .where(rollouts.c.state == RolloutState.PROMOTED.value)
        .order_by(rollouts.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _row(row)


def create(
    tx: Transaction,
    *,
    version: str,
    baseline_version: str,
    release: str | None,
    plan: RolloutPlan,
) -> RolloutRecord:
    """A new pending rollout (refused while another is under way)."""
    running = active(tx.conn)
    if running is not None:
        raise RolloutError(
            f"rollout #{running.id} of {running.version} is {running.describe()}",
            hint="resume it (gonogo rollout resume), or abort it first (gonogo rollout abort)",
        )
    now = iso(tx.clock.now())
    stored = plan_json(plan)
    digest = sha256_json(stored)
    result = tx.conn.execute(
        insert(rollouts).values(
            version=version,
            baseline_version=baseline_version,
            release=release,
            state=RolloutState.PENDING.value,
            step=-1,
            weight=0.0,
            target_weight=None,
            inconclusive=0,
            plan_digest=digest,
            plan=json.dumps(stored, sort_keys=True),
            components="{}",
            reason=None,
            controller=None,
            heartbeat_at=None,
            created_at=now,
            created_by=tx.actor,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    if not key:  # pragma: no cover - every supported database returns the new id
        raise RolloutError("the store did not return the new rollout's id")
    rollout_id = int(key[0])
    tx.record(
        "rollout.started",
        {
            "rollout": rollout_id,
            "version": version,
            "baseline_version": baseline_version,
            "release": release,
            "plan_digest": digest,
            "steps": [s.weight for s in plan.steps],
            "judge": plan.judge,
        },
    )
    return load(tx.conn, rollout_id)


def change(
    tx: Transaction,
    record: RolloutRecord,
    *,
    event: str | None = None,
    payload: Mapping[str, Any] | None = None,
    **values: Any,
) -> RolloutRecord:
    """Update the row (and, with ``event``, append that audit event) in one transaction."""
    values["updated_at"] = iso(tx.clock.now())
    if "state" in values and isinstance(values["state"], RolloutState):
        values["state"] = values["state"].value
    if "components" in values:
        values["components"] = json.dumps(values["components"], sort_keys=True)
    tx.conn.execute(update(rollouts).where(rollouts.c.id == record.id).values(**values))
    updated = load(tx.conn, record.id)
    if event is not None:
        tx.record(
            event,
            {
                "rollout": record.id,
                "version": updated.version,
                "state": updated.state.value,
                "step": updated.step,
                "weight": updated.weight,
                **(payload or {}),
            },
        )
    return updated


def add_decision(
    tx: Transaction,
    record: RolloutRecord,
    *,
    action: str,
    basis: str,
    reason: str,
    payload: Mapping[str, Any],
) -> None:
    """Append one decision to the rollout's timeline."""
    tx.conn.execute(
        insert(rollout_decisions).values(
            rollout_id=record.id,
            at=iso(tx.clock.now()),
            step=record.step,
            weight=record.weight,
            action=action,
            basis=basis,
            reason=reason,
            payload=json.dumps(payload, sort_keys=True, allow_nan=False),
        )
    )


def decisions(
    conn: Connection, rollout_id: int, *, after: int = 0, limit: int | None = None
) -> list[DecisionRecord]:
    """The rollout's decisions with ids above ``after``, oldest first."""
    query = (
        select(rollout_decisions)
        .where(rollout_decisions.c.rollout_id == rollout_id, rollout_decisions.c.id > after)
        .order_by(rollout_decisions.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        DecisionRecord(
            id=row.id,
            rollout_id=row.rollout_id,
            at=row.at,
            step=row.step,
            weight=row.weight,
            action=row.action,
            basis=row.basis,
            reason=row.reason,
            payload=json.loads(row.payload),
        )
        for row in conn.execute(query)
    ]


def latest_decision(conn: Connection, rollout_id: int) -> DecisionRecord | None:
    """The rollout's newest decision."""
    row = conn.execute(
        select(rollout_decisions.c.id)
        .where(rollout_decisions.c.rollout_id == rollout_id)
        .order_by(rollout_decisions.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    found = decisions(conn, rollout_id, after=row.id - 1, limit=1)
    return found[0] if found else None


def request(
    tx: Transaction, record: RolloutRecord, kind: RequestKind, argument: str | None = None
) -> int:
    """Ask the rollout's controller to do something; audited."""
    result = tx.conn.execute(
        insert(rollout_requests).values(
            rollout_id=record.id,
            kind=kind.value,
            argument=argument,
            created_at=iso(tx.clock.now()),
            created_by=tx.actor,
            handled_at=None,
        )
    )
    tx.record(
        f"rollout.{kind.value}_requested",
        {"rollout": record.id, "version": record.version, "argument": argument},
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def pending_requests(conn: Connection, rollout_id: int) -> list[Request]:
    """Requests not handled yet, oldest first."""
    rows = conn.execute(
        select(rollout_requests)
        .where(
            rollout_requests.c.rollout_id == rollout_id,
            rollout_requests.c.handled_at.is_(None),
        )
        .order_by(rollout_requests.c.id)
    ).all()
    return [Request(r.id, RequestKind(r.kind), r.argument, r.created_by) for r in rows]


def handled(tx: Transaction, request_id: int) -> None:
    """Mark a request handled."""
    tx.conn.execute(
        update(rollout_requests)
        .where(rollout_requests.c.id == request_id)
        .values(handled_at=iso(tx.clock.now()))
    )


# -- the controller's lease ----------------------------------------------------------------


def controller_id(token: str) -> str:
    """``host:pid:token``: who holds a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{token}"


def lease_holder_alive(record: RolloutRecord, now: datetime) -> bool:
    """Whether another controller plausibly still drives the rollout."""
    if record.controller is None or record.heartbeat_at is None:
        return False
    beat = datetime.fromisoformat(record.heartbeat_at)
    if now - beat > timedelta(seconds=max(LEASE_S, 3 * record.plan.interval_s)):
        return False
    host, _, rest = record.controller.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        return _pid_alive(int(pid_text))
    return True


def unattended(record: RolloutRecord, now: datetime) -> bool:
    """Whether the rollout is under way with no controller driving it (killed or stopped).

    A rollout that was just created and never claimed gets :data:`LEASE_S` for its
    controller to build its components and take the lease.
    """
    if not record.state.active or lease_holder_alive(record, now):
        return False
    never_claimed = (
        record.state is RolloutState.PENDING and record.controller is None and not record.components
    )
    if never_claimed:
        return now - datetime.fromisoformat(record.created_at) > timedelta(seconds=LEASE_S)
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def claim(tx: Transaction, record: RolloutRecord, token: str) -> RolloutRecord:
    """Take the rollout's lease, refusing while another live controller holds it."""
    current = load(tx.conn, record.id)
    mine = controller_id(token)
    if current.controller not in (None, mine) and lease_holder_alive(current, tx.clock.now()):
        raise RolloutError(
            f"rollout #{record.id} is driven by controller {current.controller} "
            f"(heartbeat {current.heartbeat_at})",
            hint="watch it with: gonogo rollout watch; or abort it: gonogo rollout abort",
        )
    return change(tx, current, controller=mine, heartbeat_at=iso(tx.clock.now()))


def heartbeat(tx: Transaction, record: RolloutRecord, token: str) -> RolloutRecord:
    """Refresh the lease; raises when another controller took it over."""
    current = load(tx.conn, record.id)
    if current.controller != controller_id(token):
        raise RolloutError(
            f"rollout #{record.id} was taken over by {current.controller}",
            hint="this controller stops; the other one drives the rollout",
        )
    return change(tx, current, heartbeat_at=iso(tx.clock.now()))


def timeline(conn: Connection, record: RolloutRecord) -> list[dict[str, Any]]:
    """The rollout's story: its audit events and every decision that was not "continue"."""
    entries: list[tuple[str, int, dict[str, Any]]] = []
    for event in chain.events(conn, type_prefix="rollout."):
        if event.payload.get("rollout") != record.id:
            continue
        body = {k: v for k, v in event.payload.items() if k != "rollout"}
        entries.append(
            (event.ts, 0, {"at": event.ts, "event": event.type, "actor": event.actor, **body})
        )
    for item in decisions(conn, record.id):
        if item.action != "continue":
            entries.append((item.at, 1, {"event": "rollout.decision", **item.to_json()}))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in entries]
