"""A store locked by another process: the command waits GONOGO_LOCK_TIMEOUT, says so in one
line, exits 2 and leaves nothing half-written; once the lock is gone it succeeds."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gonogo.cli.main import main
from gonogo.store.db import default_url
from tests.store.helpers import scalar

# If a lock were never given up on, the test would release it after this long so that it
# fails (the command then succeeds late) instead of hanging.
SAFETY_RELEASE_SECONDS = 10.0


def _nothing_written(url: str) -> None:
    assert scalar(url, "SELECT count(*) FROM releases") == 0
    assert scalar(url, "SELECT count(*) FROM audit_events") == 0
    assert scalar(url, "SELECT seq FROM audit_head") == 0


def _assert_locked_message(capsys: pytest.CaptureFixture[str], waited: str) -> None:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert "is locked by another process" in err
    assert f"(waited {waited}s)" in err
    assert "GONOGO_LOCK_TIMEOUT" in err


def _created_and_verified(
    options: list[str], url: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*options, "release", "create", "1.0.0"]) == 0
    assert scalar(url, "SELECT count(*) FROM releases") == 1
    assert scalar(url, "SELECT count(*) FROM audit_events") == 1
    assert main([*options, "audit", "verify"]) == 0
    assert "checkpoint #1 matches" in capsys.readouterr().out
    assert (project / ".gonogo" / "audit-checkpoint.json").is_file()


def test_locked_sqlite_store_is_one_line_exit_2_and_nothing_half_written(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--project", str(project)]
    url = default_url(project / ".gonogo")
    assert main([*options, "release", "list"]) == 0  # first use creates the store
    capsys.readouterr()
    monkeypatch.setenv("GONOGO_LOCK_TIMEOUT", "0.5")
    monkeypatch.setenv("GONOGO_USER", "alice@example.com")

    other = sqlite3.connect(project / ".gonogo" / "state.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        code = main([*options, "release", "create", "1.0.0"])
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert code == 2
    _assert_locked_message(capsys, "0.5")
    _nothing_written(url)
    assert not (project / ".gonogo" / "audit-checkpoint.json").exists()
    _created_and_verified(options, url, project, capsys)


@pytest.mark.parametrize("timeout", ["0.5", "0"])
def test_locked_postgres_store_is_one_line_exit_2_and_nothing_half_written(
    timeout: str,
    postgres_url: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = ["--project", str(project)]
    monkeypatch.setenv("GONOGO_DATABASE_URL", postgres_url)
    assert main([*options, "release", "list"]) == 0  # first use creates the schema
    capsys.readouterr()
    monkeypatch.setenv("GONOGO_LOCK_TIMEOUT", timeout)
    monkeypatch.setenv("GONOGO_USER", "alice@example.com")

    engine = create_engine(postgres_url)
    try:
        with engine.connect() as other:
            # another writer in the middle of appending to the audit trail
            other.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
            safety = threading.Timer(SAFETY_RELEASE_SECONDS, other.rollback)
            safety.start()
            try:
                code = main([*options, "release", "create", "1.0.0"])
            finally:
                safety.cancel()
                safety.join()
                other.rollback()
    finally:
        engine.dispose()

    assert code == 2
    _assert_locked_message(capsys, timeout)
    _nothing_written(postgres_url)
    _created_and_verified(options, postgres_url, project, capsys)
