"""Store URLs a user may get wrong: each is one line and exit 2, the password never shown,
and what the URL asks for (read-only, connection options) is done, not ignored."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gonogo.cli.main import main
from tests.helpers import store_counts
from tests.store.conftest import POLICY

ALICE = "alice@example.com"


def _run(
    capsys: pytest.CaptureFixture[str], project: Path, url: str, *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--project", str(project), "--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    assert len(err.splitlines()) == 1, err
    assert err.startswith("gonogo: error: ")
    assert "internal error" not in err
    assert "Traceback" not in err
    return err


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stored(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The project's SQLite store with one release in it."""
    monkeypatch.setenv("GONOGO_USER", ALICE)
    assert main(["--project", str(project), "release", "create", "1.0"]) == 0
    return project / ".gonogo" / "state.db"


def test_a_read_only_sqlite_url_reads_the_store_and_refuses_changes(
    stored: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{stored}?mode=ro"
    before = store_counts(stored)

    code, out, _ = _run(capsys, project, url, "release", "list")
    assert code == 0
    assert out.startswith("1.0\topen")

    code, _, err = _run(capsys, project, url, "release", "create", "2.0")
    assert code == 2
    assert "read-only (?mode=ro)" in _one_line(err)
    assert store_counts(stored) == before

    code, out, _ = _run(capsys, project, url, "audit", "verify")
    assert code == 0
    assert "checkpoint #1 matches" in out  # the same store as without ?mode=ro


def test_a_read_only_url_of_a_store_that_does_not_exist_creates_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = project / "elsewhere" / "state.db"

    code, _, err = _run(capsys, project, f"sqlite:///{missing}?mode=ro", "status")

    assert code == 2
    assert f"the read-only store {missing} does not exist" in _one_line(err)
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("timeout=abc", "option 'timeout' is not supported"),
        ("password=hunter2", "option 'password' is not supported"),
        ("mode=rw", "mode='rw' is not supported"),
        ("mode=ro&uri=true", "option 'uri' is not supported"),
    ],
)
def test_an_unsupported_sqlite_url_option_is_one_line(
    query: str, says: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = project / "store" / "state.db"

    code, _, err = _run(capsys, project, f"sqlite:///{database}?{query}", "status")

    assert code == 2
    line = _one_line(err)
    assert says in line
    assert "hunter2" not in line
    assert not database.exists()


def test_a_sqlite_url_naming_a_folder_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "stores").mkdir()

    code, _, err = _run(capsys, project, f"sqlite:///{project / 'stores'}", "status")

    assert code == 2
    assert "is a folder" in _one_line(err)
    assert list((project / "stores").iterdir()) == []


def test_a_sqlite_url_under_a_file_says_which_folder_cannot_be_made(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, project, f"sqlite:///{project / 'gonogo.toml' / 'x.db'}", "status")

    assert code == 2
    line = _one_line(err)
    assert f"cannot create the store folder {project / 'gonogo.toml'}" in line
    assert "GONOGO_DATABASE_URL" in line


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_store_is_refused_before_anything_is_recorded(
    url: str, project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONOGO_USER", ALICE)

    code, _, err = _run(capsys, project, url, "release", "create", "1.0")

    assert code == 2
    assert "in-memory store forgets everything" in _one_line(err)
    assert not (project / ".gonogo").exists()  # no checkpoint of a store that is gone


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("gonogo:hunter2@db/state", "is not a database URL"),
        ("postgresql://u:a://hunter2@db:port/state", "is not a database URL"),
        ("postgresql://db:port/state?password=hunter2", "'postgresql://db:port/state?...'"),
        ("postgresql://u:x@db:port/state?sslpassword=hunter2#f", "'postgresql://***@db:port/"),
        ("postgresql+asyncpg://u:hunter2@db/state", "driver 'postgresql+asyncpg' is not supported"),
        ("sqlite+aiosqlite:///state.db", "driver 'sqlite+aiosqlite' is not supported"),
    ],
)
def test_a_bad_url_is_one_line_without_the_password(
    url: str, says: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, project, url, "status")

    assert code == 2
    line = _one_line(err)
    assert says in line
    assert "hunter2" not in line


def test_a_password_given_as_a_url_option_is_never_shown(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://gonogo@127.0.0.1:{_closed_port()}/state?password=hunter2"

    code, _, err = _run(capsys, project, url, "status")

    assert code == 2
    line = _one_line(err)
    assert "cannot use the store" in line
    assert "hunter2" not in line
    assert "password=***" in line


def test_a_database_url_that_is_not_utf8_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.environ holds undecodable bytes as lone surrogates
    monkeypatch.setenv("GONOGO_DATABASE_URL", f"sqlite:///{project}/\udcff.db")

    capsys.readouterr()
    code = main(["--project", str(project), "status"])

    assert code == 2
    assert "not valid UTF-8" in _one_line(capsys.readouterr().err)


def test_a_postgres_scheme_means_postgresql(
    postgres_url: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_url(postgres_url).set(drivername="postgres").render_as_string(hide_password=False)

    code, out, _ = _run(capsys, project, url, "release", "list")

    assert code == 0
    assert out.startswith("no releases yet")


def test_an_unknown_postgres_connection_option_is_one_line(
    postgres_url: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, project, f"{postgres_url}?colour=blue", "status")

    assert code == 2
    assert 'invalid connection option "colour"' in _one_line(err)


def test_postgres_options_of_the_url_are_kept(
    postgres_url: str,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GONOGO_USER", ALICE)
    assert _run(capsys, project, postgres_url, "release", "create", "1.0")[0] == 0
    read_only = f"{postgres_url}?options=-c%20default_transaction_read_only%3Don"

    code, _, err = _run(capsys, project, read_only, "release", "create", "2.0")

    assert code == 2
    line = _one_line(err)
    assert "read-only transaction" in line
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM releases")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_postgres_user_without_rights_is_one_line(
    postgres_url: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = create_engine(postgres_url)
    try:
        with admin.begin() as conn:
            conn.execute(text("DROP ROLE IF EXISTS gonogo_reader"))
            conn.execute(text("CREATE ROLE gonogo_reader LOGIN PASSWORD 'hunter2'"))
            conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        url = make_url(postgres_url).set(username="gonogo_reader", password="hunter2")

        code, _, err = _run(capsys, project, url.render_as_string(hide_password=False), "status")
    finally:
        with admin.begin() as conn:
            conn.execute(text("DROP OWNED BY gonogo_reader"))
            conn.execute(text("DROP ROLE gonogo_reader"))
        admin.dispose()

    assert code == 2
    line = _one_line(err)
    assert "refused this command: permission denied for schema public" in line
    assert "hunter2" not in line


def test_connection_options_do_not_make_another_store_for_the_audit_checkpoint(
    postgres_url: str,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GONOGO_USER", ALICE)
    assert _run(capsys, project, postgres_url, "release", "create", "1.0")[0] == 0

    code, out, _ = _run(
        capsys, project, f"{postgres_url}?application_name=gonogo-ci", "audit", "verify"
    )

    assert code == 0
    assert "checkpoint #1 matches" in out


@pytest.mark.parametrize("name", ["what?", "100%41", "release #2"])
def test_a_project_folder_with_url_characters_keeps_its_store_inside(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / name
    root.mkdir()
    (root / "gonogo.toml").write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("GONOGO_USER", ALICE)

    capsys.readouterr()
    assert main(["--project", str(root), "release", "create", "1.0"]) == 0, capsys.readouterr()

    assert store_counts(root / ".gonogo" / "state.db")["releases"] == 1
    assert {p.name for p in tmp_path.iterdir()} == {"_env", name}
