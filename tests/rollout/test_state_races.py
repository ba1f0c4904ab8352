"""Two gonogo processes acting on one rollout at the same moment, on a shared PostgreSQL.

SQLite serialises writers from the first statement (``BEGIN IMMEDIATE``); PostgreSQL's
default isolation lets two transactions read "no rollout under way" (or "nobody holds
the lease") side by side and then both write. These tests hold one transaction open
while a second, in another thread with its own connection, does the same thing: the
second must wait for the first and then see what it wrote. The server is a real one on
loopback; the half-second pause only makes the bad interleaving likely, nothing is timed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gonogo.rollout import state
from gonogo.rollout.errors import RolloutError
from gonogo.rollout.plan import RolloutPlan
from gonogo.store.db import open_store
from gonogo.workspace import Transaction, Workspace

PLAN = RolloutPlan.model_validate(
    {
        "steps": [{"weight": 10}],
        "deployer": {"type": "local", "command": ["serve", "--port", "{port}"]},
    }
)


def _workspace(url: str, root: Path, actor: str) -> Workspace:
    return Workspace(root=root, store=open_store(url), actor=actor)


Act = Callable[[Transaction], object]


def _race(first: Workspace, second: Workspace, act: Act, again: Act | None = None) -> object:
    """Run ``act(tx)`` in ``first``'s open transaction and, meanwhile, ``again`` (or
    ``act``) in ``second``'s; returns what the second returned or raised."""
    outcome: list[object] = []

    def other() -> None:
        try:
            with second.transaction() as tx:
                outcome.append((again or act)(tx))
        except RolloutError as exc:
            outcome.append(exc)

    with first.transaction() as tx:
        act(tx)
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.5)  # let the other transaction reach its check before this one commits
    thread.join(timeout=60)
    assert not thread.is_alive()
    (result,) = outcome
    return result


def _start(tx: Transaction) -> object:
    return state.create(tx, version="v2", baseline_version="v1", release=None, plan=PLAN)


@pytest.mark.slow
def test_two_rollouts_started_at_once_on_postgresql_make_one(
    postgres_url: str, tmp_path: Path
) -> None:
    first = _workspace(postgres_url, tmp_path, "olga@example.com")
    second = _workspace(postgres_url, tmp_path, "omar@example.com")
    try:
        outcome = _race(first, second, _start)
        assert isinstance(outcome, RolloutError)
        assert "rollout #1 of v2 is pending" in str(outcome)
        with first.store.read() as conn:
            assert [r.id for r in state.history(conn, 10)] == [1]
    finally:
        first.store.close()
        second.store.close()


@pytest.mark.slow
def test_two_controllers_claiming_one_rollout_at_once_on_postgresql_leave_one_driving(
    postgres_url: str, tmp_path: Path
) -> None:
    first = _workspace(postgres_url, tmp_path, "olga@example.com")
    second = _workspace(postgres_url, tmp_path, "omar@example.com")
    try:
        with first.transaction() as tx:
            created = state.create(tx, version="v2", baseline_version="v1", release=None, plan=PLAN)

        outcome = _race(
            first,
            second,
            lambda tx: state.claim(tx, created, "aaaaaaaaaaaa"),
            lambda tx: state.claim(tx, created, "bbbbbbbbbbbb"),
        )

        assert isinstance(outcome, RolloutError)
        assert f"rollout #{created.id} is driven by controller" in str(outcome)
        with first.store.read() as conn:
            assert state.load(conn, created.id).controller == state.controller_id("aaaaaaaaaaaa")
    finally:
        first.store.close()
        second.store.close()
