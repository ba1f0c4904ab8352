"""The public fakes in gonogo.testing behave like the real things they stand in for."""

from __future__ import annotations

from pathlib import Path

from gonogo.audit import chain
from gonogo.scope import releases
from gonogo.testing import FixedClock, memory_store, memory_workspace

POLICY = """
version = 1
[project]
name = "demo"
[owners]
qa = ["quinn@example.com"]
[[gates]]
id = "docs"
title = "Docs"
phase = 6
[[gates.criteria]]
id = "readme"
check = "file"
params = { path = "README.md" }
"""


def test_fixed_clock_stays_put_until_advanced() -> None:
    clock = FixedClock.at("2026-11-27T10:00:00Z")
    assert clock.now().isoformat() == "2026-11-27T10:00:00+00:00"
    clock.advance(hours=2)
    assert clock.now().hour == 12


def test_memory_store_keeps_data_across_transactions() -> None:
    store = memory_store()
    try:
        with store.read() as conn:
            assert chain.head(conn).seq == 0
    finally:
        store.close()


def test_memory_workspace_records_audited_changes_at_the_fixed_time(tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text(POLICY, encoding="utf-8")
    ws = memory_workspace(tmp_path, clock=FixedClock.at("2026-11-27T10:00:00Z"))
    release = releases.create(ws, "1.0.0")
    with ws.store.read() as conn:
        events = list(chain.events(conn))
        assert [r.version for r in releases.list_all(conn)] == ["1.0.0"]
    assert release.created_at == "2026-11-27T10:00:00.000000Z"
    assert [(e.type, e.actor, e.ts) for e in events] == [
        ("release.created", "tester@example.com", "2026-11-27T10:00:00.000000Z")
    ]
    assert ws.audit_head().seq == 1
