"""A real PostgreSQL server for tests, on loopback only.

Fixtures (registered in ``tests/conftest.py``):

``postgres_server`` (session scope)
    A :class:`PostgresServer`.  If ``GONOGO_TEST_POSTGRES_URL`` is set (a base URL such as
    ``postgresql+psycopg://user:pw@127.0.0.1:5432/postgres``) that server is used as is.
    Otherwise a throw-away cluster is created with ``initdb`` in a temporary directory and
    started with ``pg_ctl`` on a free port of 127.0.0.1 (never the machine's own cluster);
    it is stopped and deleted at the end of the session.  When running as root the cluster
    runs as the ``postgres`` system user, because PostgreSQL refuses to run as root.

    If no server can be found or started, the tests that need one are skipped, or fail
    when ``CI=true`` so that a broken CI image cannot pass silently.  A configured
    ``GONOGO_TEST_POSTGRES_URL`` that cannot be reached always fails.

``postgres_url`` (function scope)
    A SQLAlchemy URL string for a fresh, empty database with a unique name on that server,
    e.g. ``postgresql+psycopg://postgres@127.0.0.1:54321/gonogo_test_3f2a...``.  The database
    is dropped (``WITH (FORCE)``) after the test.  Tests using it get the ``postgres`` marker
    automatically (see ``pytest_collection_modifyitems`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy.engine import URL, make_url

ENV_URL = "GONOGO_TEST_POSTGRES_URL"
DRIVERNAME = "postgresql+psycopg"
SUPERUSER = "postgres"
LOOPBACK = "127.0.0.1"
DB_PREFIX = "gonogo_test_"

_LIB_ROOT = Path("/usr/lib/postgresql")
_START_ATTEMPTS = 3
_COMMAND_TIMEOUT = 120.0
_LOG_TAIL_LINES = 20


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL could not be found, started or reached."""

    def __init__(self, reason: str, log_tail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = log_tail


@dataclass(frozen=True)
class PostgresServer:
    """A reachable server on which tests may create and drop databases."""

    base_url: URL
    """SQLAlchemy URL of the maintenance database (``postgres``) with superuser rights."""
    external: bool
    """True when the server came from ``GONOGO_TEST_POSTGRES_URL``."""

    @property
    def host(self) -> str:
        return self.base_url.host or LOOPBACK

    @property
    def port(self) -> int:
        return self.base_url.port or 5432

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL string (password included) for database *dbname*."""
        return self.base_url.set(database=dbname).render_as_string(hide_password=False)

    def connect_kwargs(self, dbname: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (autocommit on)."""
        url = self.base_url
        kwargs: dict[str, Any] = {
            "host": url.host or LOOPBACK,
            "port": url.port or 5432,
            "dbname": dbname or url.database or "postgres",
            "autocommit": True,
            "connect_timeout": 10,
        }
        if url.username:
            kwargs["user"] = url.username
        if url.password is not None:
            kwargs["password"] = url.password
        for key, value in url.query.items():
            kwargs[key] = value if isinstance(value, str) else value[-1]
        return kwargs


# --------------------------------------------------------------------------- helpers


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def _unavailable(error: PostgresUnavailableError, *, always_fail: bool = False) -> NoReturn:
    reason = f"PostgreSQL for tests unavailable: {error.reason}"
    if always_fail or _ci():
        message = reason
        if error.log_tail:
            message += f"\n--- tail of the server log ---\n{error.log_tail}"
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{reason} (set CI=true to make this a failure)")


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin; versions look like "15" or "9.6".
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)


def find_bindir() -> Path:
    """Directory holding both ``initdb`` and ``pg_ctl``: PATH first, then the newest
    ``/usr/lib/postgresql/*/bin`` (Debian/Ubuntu do not put them on PATH)."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").is_file():
            return bindir
    candidates = [
        path
        for path in _LIB_ROOT.glob("*/bin")
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file()
    ]
    if candidates:
        return max(candidates, key=_version_key)
    raise PostgresUnavailableError(
        f"initdb/pg_ctl not found on PATH or in {_LIB_ROOT}/*/bin (install the postgresql package)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _last_fatal(path: Path) -> str:
    """The server's last FATAL/PANIC message, e.g. ``could not create any TCP/IP sockets``."""
    lines = _tail(path, 200).splitlines()
    for line in reversed(lines):
        for level in ("PANIC:", "FATAL:"):
            if level in line:
                return line.split(level, 1)[1].strip()
    return ""


def _server_env(home: Path) -> dict[str, str]:
    """Environment for initdb/pg_ctl: no PG* variables that could redirect them, a locale
    that always exists, and a HOME the server user can read."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update({"LC_ALL": "C", "LANG": "C", "HOME": str(home), "TZ": "UTC"})
    env.pop("LANGUAGE", None)
    return env


@dataclass(frozen=True)
class _RunAs:
    """Identity the server processes run under (None: the current user)."""

    uid: int | None = None
    gid: int | None = None
    name: str | None = None

    @classmethod
    def for_current_process(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        try:
            entry = pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise PostgresUnavailableError(
                "running as root and there is no 'postgres' system user to run the server as"
            ) from None
        return cls(uid=entry.pw_uid, gid=entry.pw_gid, name=entry.pw_name)

    def subprocess_kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        # Like `setpriv --reuid postgres --regid postgres --clear-groups`, without the tool.
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


class LocalCluster:
    """A throw-away cluster in a temporary directory, listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path, run_as: _RunAs) -> None:
        self.bindir = bindir
        self.run_as = run_as
        # Short path under /tmp: the server user must be able to traverse every parent
        # (root's TMPDIR may not allow that), and unix socket paths are limited to ~107 bytes.
        tmp_root = "/tmp" if Path("/tmp").is_dir() else None
        self.base = Path(tempfile.mkdtemp(prefix="gonogo-pg-", dir=tmp_root))
        self.base.chmod(0o755)
        if run_as.uid is not None and run_as.gid is not None:
            os.chown(self.base, run_as.uid, run_as.gid)
        self.datadir = self.base / "data"
        self.logfile = self.base / "server.log"
        self.port: int | None = None
        self.env = _server_env(self.base)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=self.base,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
            **self.run_as.subprocess_kwargs(),
        )

    def _error(self, what: str, result: subprocess.CompletedProcess[str]) -> str:
        output = (result.stderr or result.stdout or "").strip().splitlines()
        detail = output[-1] if output else f"exit status {result.returncode}"
        return f"{what} failed: {detail}"

    def init(self) -> None:
        result = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if result.returncode != 0:
            raise PostgresUnavailableError(
                self._error("initdb", result),
                "\n".join((result.stdout + result.stderr).splitlines()[-_LOG_TAIL_LINES:]),
            )

    def start(self) -> None:
        last: PostgresUnavailableError | None = None
        for _ in range(_START_ATTEMPTS):  # the free port may be taken before we bind it
            port = _free_port()
            options = " ".join(
                [
                    f"-c listen_addresses={LOOPBACK}",
                    f"-p {port}",
                    f"-c unix_socket_directories={shlex.quote(str(self.base))}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            result = self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "-l",
                str(self.logfile),
                "start",
            )
            if result.returncode == 0:
                self.port = port
                return
            fatal = _last_fatal(self.logfile)
            what = f"pg_ctl start on port {port}"
            last = PostgresUnavailableError(
                f"{what} failed: {fatal}" if fatal else self._error(what, result),
                _tail(self.logfile),
            )
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"
            )
        assert last is not None
        raise last

    def stop(self) -> None:
        if self.port is not None and (self.datadir / "postmaster.pid").exists():
            pg_ctl = str(self.bindir / "pg_ctl")
            result = self._run(pg_ctl, "-D", str(self.datadir), "-m", "fast", "-w", "stop")
            if result.returncode != 0:
                self._run(pg_ctl, "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        self.port = None

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def server(self) -> PostgresServer:
        assert self.port is not None
        url = URL.create(DRIVERNAME, username=SUPERUSER, host=LOOPBACK, port=self.port)
        return PostgresServer(base_url=url.set(database="postgres"), external=False)


def _external_server(raw: str) -> PostgresServer:
    try:
        url = make_url(raw)
    except Exception as exc:  # noqa: BLE001 - any parse error means a bad setting
        raise PostgresUnavailableError(f"{ENV_URL} is not a valid URL: {exc}") from None
    if url.get_backend_name() not in {"postgresql", "postgres"}:
        raise PostgresUnavailableError(f"{ENV_URL} is not a PostgreSQL URL")
    url = url.set(drivername=DRIVERNAME)
    if not url.database:
        url = url.set(database="postgres")
    server = PostgresServer(base_url=url, external=True)
    _check_reachable(server)
    return server


def _check_reachable(server: PostgresServer, log_tail: str = "") -> None:
    try:
        import psycopg
    except ImportError:
        raise PostgresUnavailableError(
            "psycopg is not installed (pip install -e '.[dev]')"
        ) from None
    try:
        with psycopg.connect(**server.connect_kwargs()) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PostgresUnavailableError(
            f"cannot connect to {server.host}:{server.port}: {first_line}", log_tail
        ) from None


def _run_sql(server: PostgresServer, statement: Any) -> None:
    import psycopg

    with psycopg.connect(**server.connect_kwargs()) as conn:
        conn.execute(statement)


def create_database(server: PostgresServer, name: str) -> None:
    from psycopg import sql

    _run_sql(
        server,
        sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
            sql.Identifier(name)
        ),
    )


def drop_database(server: PostgresServer, name: str) -> None:
    from psycopg import sql

    _run_sql(
        server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def database_exists(server: PostgresServer, name: str) -> bool:
    import psycopg

    with psycopg.connect(**server.connect_kwargs()) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _start_local_cluster() -> tuple[LocalCluster, PostgresServer]:
    """Create and start a throw-away cluster; on any failure nothing is left behind."""
    bindir = find_bindir()
    run_as = _RunAs.for_current_process()
    try:
        cluster = LocalCluster(bindir, run_as)
    except OSError as exc:
        raise PostgresUnavailableError(f"cannot create the cluster directory: {exc}") from None
    try:
        cluster.init()
        cluster.start()
        server = cluster.server()
        _check_reachable(server, _tail(cluster.logfile))
    except (OSError, subprocess.SubprocessError) as exc:
        tail = _tail(cluster.logfile)
        cluster.cleanup()
        raise PostgresUnavailableError(f"{type(exc).__name__}: {exc}", tail) from None
    except BaseException:
        cluster.cleanup()
        raise
    return cluster, server


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (see the module docstring)."""
    raw = os.environ.get(ENV_URL, "").strip()
    cluster: LocalCluster | None = None
    failure: PostgresUnavailableError | None = None
    try:
        if raw:
            server = _external_server(raw)
        else:
            cluster, server = _start_local_cluster()
    except PostgresUnavailableError as error:
        failure = error
    if failure is not None:  # outside the except block: no exception chain in the report
        _unavailable(failure, always_fail=bool(raw))
    try:
        yield server
    finally:
        if cluster is not None:
            cluster.cleanup()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database, dropped after the test."""
    name = f"{DB_PREFIX}{uuid.uuid4().hex[:16]}"
    create_database(postgres_server, name)
    try:
        yield postgres_server.url_for(name)
    finally:
        drop_database(postgres_server, name)


__all__: list[str] = [
    "ENV_URL",
    "PostgresServer",
    "PostgresUnavailableError",
    "create_database",
    "database_exists",
    "drop_database",
    "find_bindir",
    "postgres_server",
    "postgres_url",
]
