"""Property-based: any trail verifies as appended, and any single-field edit is caught there."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from gonogo.audit import GENESIS, chain
from gonogo.store.schema import audit_events, audit_head
from gonogo.workspace import Workspace
from tests.audit.helpers import raw_sql, row, update_row

# Unicode of every plane (no lone surrogates: they are not text and cannot be stored).
PAYLOAD_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | PAYLOAD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(PAYLOAD_TEXT, inner, max_size=4),
    max_leaves=12,
)
PAYLOADS = st.dictionaries(PAYLOAD_TEXT, JSON_VALUES, max_size=5)
TRAILS = st.lists(PAYLOADS, min_size=1, max_size=6)

# What a raw SQL edit can put in a column (PostgreSQL text cannot hold NUL).
COLUMN_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
FIELDS = ("seq", "ts", "actor", "type", "payload", "prev_hash", "hash")
MAX_LENGTH = {"ts": 40, "actor": 200, "type": 64}

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    # the store fixture is reset at the start of every example
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _reset(ws: Workspace) -> None:
    with ws.store.write() as conn:
        conn.execute(delete(audit_events))
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=0, hash=GENESIS))
    ws.checkpoint_path.unlink(missing_ok=True)


def _append_all(ws: Workspace, payloads: list[dict[str, Any]]) -> list[chain.Event]:
    with ws.transaction() as tx:
        return [tx.record(f"prop.event{n}", p) for n, p in enumerate(payloads, start=1)]


def _verify(ws: Workspace) -> chain.Verification:
    with ws.store.read() as conn:
        return chain.verify(conn, ws.read_checkpoint())


@PROPERTY_SETTINGS
@given(payloads=TRAILS)
def test_any_appended_trail_verifies_and_reads_back(
    ws: Workspace, payloads: list[dict[str, Any]]
) -> None:
    _reset(ws)
    appended = _append_all(ws, payloads)

    result = _verify(ws)
    assert result.ok, result.problem
    assert result.checked == len(payloads)
    assert result.head.hash == appended[-1].hash
    with ws.store.read() as conn:
        stored = list(chain.events(conn))
    assert [dict(e.payload) for e in stored] == payloads
    assert stored == appended


def _other_value(data: st.DataObject, field: str, current: dict[str, Any], last: int) -> Any:
    if field == "seq":
        return last + data.draw(st.integers(1, 1000), label="seq moved by")
    if field in {"prev_hash", "hash"}:
        return data.draw(HEX64.filter(lambda h: h != current[field]), label=field)
    if field == "payload":
        old = json.loads(current["payload"])
        new = data.draw(PAYLOADS.filter(lambda p: p != old), label="payload")
        return json.dumps(new, sort_keys=True, ensure_ascii=False)
    strings = st.text(COLUMN_TEXT, max_size=MAX_LENGTH[field])
    return data.draw(strings.filter(lambda s: s != current[field]), label=field)


@PROPERTY_SETTINGS
@given(payloads=TRAILS, data=st.data())
def test_changing_any_field_of_any_event_fails_verify_at_that_event(
    ws: Workspace, store_url: str, payloads: list[dict[str, Any]], data: st.DataObject
) -> None:
    _reset(ws)
    _append_all(ws, payloads)
    seq = data.draw(st.integers(1, len(payloads)), label="event")
    field = data.draw(st.sampled_from(FIELDS), label="field")

    with raw_sql(store_url) as conn:
        current = row(conn, seq)
        update_row(conn, seq, **{field: _other_value(data, field, current, len(payloads))})
    result = _verify(ws)

    assert not result.ok
    assert result.bad_seq == seq, result.problem
    assert result.checked == seq - 1
