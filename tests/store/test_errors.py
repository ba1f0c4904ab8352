"""A store that cannot be used is one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gonogo.cli.main import main
from gonogo.errors import ConfigError, StoreError
from gonogo.store.db import Store, open_store


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("gonogo: error: ")
    assert "Traceback" not in err
    assert "internal error" not in err
    return err


def _no_crash_log(home: Path) -> None:
    assert not list(home.parent.glob("cache/gonogo/crash-*.log"))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://x/y", "gonogo supports sqlite and postgresql"),
        ("mysql://user:hunter2@db/state", "gonogo supports sqlite and postgresql"),
        ("not a url", "is not a database URL"),
        ("postgresql://user:hunter2@db:port/state", "is not a database URL"),
    ],
)
def test_bad_database_url_is_one_line_and_exit_2(
    url: str,
    says: str,
    project: Path,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GONOGO_DATABASE_URL", url)

    assert main(["--project", str(project), "release", "list"]) == 2

    err = _one_line_error(capsys)
    assert says in err
    assert "GONOGO_DATABASE_URL" in err or "sqlite:///" in err
    assert "hunter2" not in err
    _no_crash_log(isolated_environment)
    assert not (project / ".gonogo").exists()


def test_bad_database_url_raises_config_error() -> None:
    with pytest.raises(ConfigError):
        Store("postgresql://user@db:port/state")


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_one_line_without_the_password(
    project: Path,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _closed_port()
    monkeypatch.setenv(
        "GONOGO_DATABASE_URL", f"postgresql://gonogo:s3cr3t-pw@127.0.0.1:{port}/state"
    )

    assert main(["--project", str(project), "release", "list"]) == 2

    err = _one_line_error(capsys)
    assert "s3cr3t-pw" not in err
    assert f"127.0.0.1:{port}" in err
    assert "cannot use the store" in err
    _no_crash_log(isolated_environment)


def test_unreachable_postgres_raises_store_error() -> None:
    with pytest.raises(StoreError) as raised:
        open_store(f"postgresql://gonogo:s3cr3t-pw@127.0.0.1:{_closed_port()}/state")
    assert "s3cr3t-pw" not in str(raised.value)


def test_store_folder_where_the_lock_cannot_be_created_is_one_line_and_exit_2(
    project: Path, isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the migration lock beside state.db cannot be created (here: a folder is in the way,
    # as a read-only folder would for a user who is not root)
    (project / ".gonogo" / "state.db.migrate.lock").mkdir(parents=True)

    assert main(["--project", str(project), "release", "list"]) == 2

    err = _one_line_error(capsys)
    assert "state.db.migrate.lock" in err
    _no_crash_log(isolated_environment)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("not a database", "file is not a database"),
        ("truncated", "database disk image is malformed"),
    ],
)
@pytest.mark.parametrize("command", [["release", "list"], ["release", "create", "2.0"]])
def test_a_damaged_sqlite_store_is_one_line_and_exit_2(
    damage: str,
    says: str,
    command: list[str],
    project: Path,
    isolated_environment: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--project", str(project), "release", "create", "1.0"]) == 0
    capsys.readouterr()
    database = project / ".gonogo" / "state.db"
    for leftover in database.parent.glob("state.db-*"):  # WAL files of the good store
        leftover.unlink()
    if damage == "truncated":
        database.write_bytes(database.read_bytes()[:8192])
    else:
        database.write_text("these bytes are no SQLite database\n" * 4, encoding="utf-8")
    damaged = database.read_bytes()

    assert main(["--project", str(project), *command]) == 2

    err = _one_line_error(capsys)
    assert says in err
    assert str(database) in err
    assert "backup" in err
    _no_crash_log(isolated_environment)
    assert database.read_bytes() == damaged
