"""The hash chain: appending, verifying, and naming the first event that was tampered with."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, event

from gonogo.audit import GENESIS, chain
from gonogo.gates.results import AuditHead
from gonogo.store.db import open_store
from gonogo.workspace import Workspace
from tests.audit.helpers import (
    append_events,
    delete_row,
    edit_payload,
    insert_forged,
    raw_sql,
    rewrite_history,
    sample_payloads,
    swap_rows,
    truncate_consistently,
    truncate_only,
)


def _verify(ws: Workspace, *, with_checkpoint: bool = True) -> chain.Verification:
    with ws.store.read() as conn:
        return chain.verify(conn, ws.read_checkpoint() if with_checkpoint else None)


def test_empty_trail_verifies(ws: Workspace) -> None:
    result = _verify(ws)
    assert result.ok
    assert result.checked == 0
    assert result.head == AuditHead(seq=0, hash=GENESIS)
    assert ws.read_checkpoint() is None


def test_appended_events_form_a_chain_that_verify_accepts(ws: Workspace) -> None:
    appended = append_events(ws, sample_payloads(5))

    assert [e.seq for e in appended] == [1, 2, 3, 4, 5]
    assert appended[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(appended):
        assert after.prev_hash == before.hash
    result = _verify(ws)
    assert result.ok, result.problem
    assert result.checked == 5
    assert result.bad_seq is None


def test_head_matches_the_last_event(ws: Workspace) -> None:
    last = append_events(ws, sample_payloads(3))[-1]

    assert ws.audit_head() == AuditHead(seq=3, hash=last.hash)
    assert _verify(ws).head == ws.audit_head()


def test_stored_events_read_back_as_appended(ws: Workspace) -> None:
    appended = append_events(ws, sample_payloads(3))

    with ws.store.read() as conn:
        stored = list(chain.events(conn))
    assert stored == appended
    assert stored[0].payload["note"] == "Prüfung 1 ✓ 日本語"
    assert stored[0].actor == "alice@example.com"


def test_checkpoint_file_advances_with_every_commit(ws: Workspace) -> None:
    assert not ws.checkpoint_path.exists()
    for seq in (1, 2, 3):
        event_ = append_events(ws, [{"n": seq}])[0]
        assert ws.read_checkpoint() == AuditHead(seq=seq, hash=event_.hash)
    assert ws.checkpoint_path.is_file()


def test_a_rolled_back_transaction_leaves_no_event_and_no_checkpoint(ws: Workspace) -> None:
    append_events(ws, [{"n": 1}])
    with pytest.raises(RuntimeError), ws.transaction() as tx:
        tx.record("test.doomed", {"n": 2})
        raise RuntimeError("command failed half-way")

    assert ws.audit_head().seq == 1
    assert ws.read_checkpoint() == ws.audit_head()
    assert _verify(ws).ok


# ------------------------------------------------------------------------------ tampers

Tamper = Callable[[Connection], None]

# (tamper, bad_seq, words the problem must contain), on a trail of five events
TAMPERS: dict[str, tuple[Tamper, int, tuple[str, ...]]] = {
    "edited-payload": (lambda c: edit_payload(c, 3), 3, ("#3", "edited")),
    "deleted-row": (lambda c: delete_row(c, 3), 3, ("#3", "missing", "deleted")),
    "inserted-row": (lambda c: insert_forged(c, 3), 4, ("#4", "inserted")),
    "reordered-rows": (lambda c: swap_rows(c, 3, 4), 3, ("#3", "reordered")),
    "truncated-with-head": (
        lambda c: truncate_consistently(c, 3),
        4,
        ("#3", "checkpoint", "#5", "cut off"),
    ),
    "truncated": (lambda c: truncate_only(c, 3), 4, ("#3", "#5", "cut off")),
    "history-rewritten": (lambda c: rewrite_history(c, 2), 5, ("#5", "checkpoint", "rewritten")),
}


@pytest.mark.parametrize(("tamper", "bad_seq", "words"), list(TAMPERS.values()), ids=list(TAMPERS))
def test_tampering_is_caught_naming_the_first_bad_event(
    ws: Workspace, store_url: str, tamper: Tamper, bad_seq: int, words: tuple[str, ...]
) -> None:
    append_events(ws, sample_payloads(5))
    assert _verify(ws).ok

    with raw_sql(store_url) as conn:
        tamper(conn)
    result = _verify(ws)

    assert not result.ok
    assert result.bad_seq == bad_seq, result.problem
    assert result.problem is not None
    for word in words:
        assert word in result.problem


@pytest.mark.parametrize(
    "tamper",
    [lambda c: truncate_consistently(c, 3), lambda c: rewrite_history(c, 2)],
    ids=["truncated-with-head", "history-rewritten"],
)
def test_a_consistent_rewrite_is_caught_only_by_the_checkpoint(
    ws: Workspace, store_url: str, tamper: Tamper
) -> None:
    append_events(ws, sample_payloads(5))
    with raw_sql(store_url) as conn:
        tamper(conn)

    assert _verify(ws, with_checkpoint=False).ok
    assert not _verify(ws).ok


def test_first_of_several_tampers_is_named(ws: Workspace, store_url: str) -> None:
    append_events(ws, sample_payloads(6))
    with raw_sql(store_url) as conn:
        delete_row(conn, 5)
        edit_payload(conn, 2)

    result = _verify(ws)
    assert result.bad_seq == 2
    assert result.checked == 1


def test_verify_while_another_process_appends_is_not_a_false_alarm(
    ws: Workspace, store_url: str
) -> None:
    """A writer committing between verify's reads must not look like a cut-off trail."""
    append_events(ws, sample_payloads(3))
    other = open_store(store_url)
    writer = Workspace(root=ws.root, store=other, actor="bob@example.com")
    appended = False

    def append_in_between(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal appended
        if not appended and "FROM audit_events" in statement:
            appended = True
            append_events(writer, [{"n": 4}])

    try:
        with ws.store.read() as conn:
            event.listen(conn, "after_cursor_execute", append_in_between)
            result = chain.verify(conn)
    finally:
        other.close()

    assert appended
    assert result.ok, result.problem
    assert result.checked == 3
    assert _verify(ws).checked == 4
