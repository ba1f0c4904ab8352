"""The schema: created on first use at the head revision, the same on SQLite and PostgreSQL,
and a store written by a newer gonogo is refused without being touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from gonogo.audit import GENESIS
from gonogo.cli.main import main
from gonogo.errors import SchemaTooNewError
from gonogo.store.db import default_url, head_revision, open_store
from gonogo.store.schema import metadata
from tests.store.helpers import execute, scalar, snapshot

TABLES = {*metadata.tables, "alembic_version"}


def _sqlite_facts(database: Path) -> dict[str, Any]:
    conn = sqlite3.connect(database)
    try:
        return {
            "schema_version": conn.execute("PRAGMA schema_version").fetchone()[0],
            "dump": list(conn.iterdump()),
        }
    finally:
        conn.close()


def _shape(url: str) -> dict[str, Any]:
    """Tables with their columns (name, nullability, Python type, length), keys and indexes."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            return {
                table: {
                    "columns": [
                        (
                            c["name"],
                            c["nullable"],
                            c["type"].python_type,
                            getattr(c["type"], "length", None),
                        )
                        for c in found.get_columns(table)
                    ],
                    "primary_key": found.get_pk_constraint(table)["constrained_columns"],
                    # PostgreSQL also lists the index behind a unique constraint
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]))
                        for i in found.get_indexes(table)
                        if "duplicates_constraint" not in i
                    ),
                    "unique": sorted(
                        tuple(u["column_names"]) for u in found.get_unique_constraints(table)
                    ),
                    "foreign_keys": sorted(
                        (tuple(f["constrained_columns"]), f["referred_table"])
                        for f in found.get_foreign_keys(table)
                    ),
                }
                for table in sorted(found.get_table_names())
            }
    finally:
        engine.dispose()


def test_first_use_creates_the_state_db_at_the_head_revision(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = project / ".gonogo" / "state.db"
    assert not database.exists()

    assert main(["--project", str(project), "release", "list"]) == 0
    assert "no releases yet" in capsys.readouterr().out

    assert database.is_file()
    url = default_url(project / ".gonogo")
    assert scalar(url, "SELECT version_num FROM alembic_version") == head_revision()
    assert set(snapshot(url)) == TABLES
    assert snapshot(url)["audit_head"] == [(1, 0, GENESIS)]


def test_the_sqlite_store_uses_wal(project: Path) -> None:
    open_store(default_url(project / ".gonogo")).close()

    conn = sqlite3.connect(project / ".gonogo" / "state.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_reopening_an_up_to_date_store_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = project / ".gonogo" / "state.db"
    assert main(["--project", str(project), "release", "create", "1.0.0"]) == 0
    before = _sqlite_facts(database)

    store = open_store(default_url(project / ".gonogo"))
    assert store.schema_revision() == head_revision()
    store.close()
    assert main(["--project", str(project), "release", "list"]) == 0

    assert _sqlite_facts(database) == before
    assert "1.0.0" in capsys.readouterr().out


def test_postgres_store_gets_the_same_schema(postgres_url: str, project: Path) -> None:
    store = open_store(postgres_url)
    try:
        assert store.dialect == "postgresql"
        assert store.schema_revision() == head_revision()
    finally:
        store.close()
    sqlite_url = default_url(project / ".gonogo")
    open_store(sqlite_url).close()

    assert _shape(postgres_url) == _shape(sqlite_url)
    assert set(_shape(postgres_url)) == TABLES
    assert snapshot(postgres_url)["audit_head"] == [(1, 0, GENESIS)]


def test_reopening_a_postgres_store_changes_nothing(postgres_url: str) -> None:
    open_store(postgres_url).close()
    before = (_shape(postgres_url), snapshot(postgres_url))

    open_store(postgres_url).close()

    assert (_shape(postgres_url), snapshot(postgres_url)) == before


# ----------------------------------------------------------------------- newer schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def newer_store(
    request: pytest.FixtureRequest,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[str, list[str]]:
    """A store with a release in it, stamped with a schema revision from a future gonogo;
    returns its URL and the global options that point ``main`` at it."""
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        monkeypatch.setenv("GONOGO_DATABASE_URL", url)
    else:
        url = default_url(project / ".gonogo")
    assert main(["--project", str(project), "release", "create", "1.0.0"]) == 0
    capsys.readouterr()
    execute(url, "UPDATE alembic_version SET version_num = '9999_future'")
    return url, ["--project", str(project)]


def test_a_store_from_a_newer_gonogo_is_refused(newer_store: tuple[str, list[str]]) -> None:
    url, _ = newer_store
    before = snapshot(url)

    with pytest.raises(SchemaTooNewError) as raised:
        open_store(url)

    assert "9999_future" in str(raised.value)
    assert "upgrade gonogo" in str(raised.value)
    assert snapshot(url) == before


@pytest.mark.parametrize(
    "command", [["release", "list"], ["release", "create", "2.0.0"], ["audit", "verify"]]
)
def test_cli_refuses_a_newer_store_with_one_line_and_exit_2(
    newer_store: tuple[str, list[str]],
    command: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, options = newer_store
    before = snapshot(url)

    assert main([*options, *command]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("gonogo: error: ")
    assert "upgrade gonogo" in err
    assert "9999_future" in err
    assert snapshot(url) == before
