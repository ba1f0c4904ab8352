"""The test infrastructure itself: a real, isolated PostgreSQL per test, and home isolation."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.postgres import DB_PREFIX, ENV_URL, PostgresServer, database_exists

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}

# Databases handed out earlier in this process; each must be gone once its test ended.
_seen_databases: list[str] = []


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_its_own_empty_database(
    turn: str, postgres_url: str, postgres_server: PostgresServer, engine: sa.Engine
) -> None:
    # Both turns create the same table; if the database were shared, whichever runs second
    # would find it already there.  Holds in any order and under pytest-xdist.
    assert sa.inspect(engine).get_table_names() == []
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE marker (turn text NOT NULL)"))
        conn.execute(sa.text("INSERT INTO marker (turn) VALUES (:turn)"), {"turn": turn})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT turn FROM marker")).scalars().all() == [turn]

    name = make_url(postgres_url).database
    assert name is not None
    assert name not in _seen_databases
    for earlier in _seen_databases:
        assert not database_exists(postgres_server, earlier), f"{earlier} was not dropped"
    _seen_databases.append(name)


def test_url_is_psycopg_on_loopback(postgres_url: str) -> None:
    url = make_url(postgres_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.database is not None
    assert url.database.startswith(DB_PREFIX)
    if not os.environ.get(ENV_URL):
        assert url.host == "127.0.0.1"
        assert url.username == "postgres"
        assert url.port not in (None, 5432)  # our own cluster, not the machine's
    else:
        assert url.host in LOOPBACK_HOSTS


def test_drop_succeeds_while_a_session_is_still_open(postgres_server: PostgresServer) -> None:
    import psycopg

    from tests.postgres import create_database, drop_database

    name = f"{DB_PREFIX}probe_{uuid.uuid4().hex[:8]}"
    create_database(postgres_server, name)
    assert database_exists(postgres_server, name)
    # A test that forgets to dispose its engine must not make the teardown fail.
    with psycopg.connect(**postgres_server.connect_kwargs(name)) as leftover:
        leftover.execute("SELECT 1")
        drop_database(postgres_server, name)
        assert not database_exists(postgres_server, name)
        with pytest.raises(psycopg.OperationalError):
            leftover.execute("SELECT 1")  # the session was terminated by the drop


def test_postgres_marker_is_added_automatically(request: pytest.FixtureRequest) -> None:
    here = [item for item in request.session.items if item.path == request.node.path]
    assert request.node in here
    for item in here:
        needs_postgres = {"postgres_server", "postgres_url"} & set(item.fixturenames)  # type: ignore[attr-defined]
        assert (item.get_closest_marker("postgres") is not None) == bool(needs_postgres), item


@pytest.fixture(scope="module")
def leaked_gonogo_variable() -> Iterator[str]:
    """A GONOGO_ variable set *before* the function-scoped isolation fixture runs, as if it
    came from the developer's shell."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONOGO_LEAK_PROBE", "from-the-shell")
        yield "GONOGO_LEAK_PROBE"


def test_home_and_xdg_dirs_are_under_tmp_path(tmp_path: Path, isolated_environment: Path) -> None:
    assert Path.home() == isolated_environment
    assert Path.home().is_relative_to(tmp_path)
    assert Path("~").expanduser().is_relative_to(tmp_path)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        directory = Path(os.environ[name])
        assert directory.is_relative_to(tmp_path)
        assert directory.is_dir()


def test_gonogo_variables_are_stripped(leaked_gonogo_variable: str) -> None:
    assert leaked_gonogo_variable not in os.environ
    gonogo = {name for name in os.environ if name.startswith("GONOGO_")}
    assert gonogo <= {ENV_URL}


def test_git_reads_no_user_config(tmp_path: Path) -> None:
    gitconfig = Path(os.environ["GIT_CONFIG_GLOBAL"])
    assert gitconfig.is_relative_to(tmp_path)
    assert gitconfig.read_text(encoding="utf-8") == ""
    assert os.environ["GIT_CONFIG_NOSYSTEM"] == "1"
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(
        [git, "config", "--global", "--list"], capture_output=True, text=True, check=False
    )
    assert listed.stdout == ""
    ident = subprocess.run(
        [git, "var", "GIT_AUTHOR_IDENT"], capture_output=True, text=True, check=True
    )
    assert ident.stdout.startswith(
        f"{os.environ['GIT_AUTHOR_NAME']} <{os.environ['GIT_AUTHOR_EMAIL']}>"
    )


def test_terminal_is_stable() -> None:
    assert os.environ["COLUMNS"] == "200"
    assert os.environ["NO_COLOR"] == "1"
    assert os.environ["TERM"] == "dumb"
