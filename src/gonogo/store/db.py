"""Open the state store: SQLite by default, PostgreSQL for a team; migrate on first use."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from gonogo.errors import ConfigError, SchemaTooNewError, StoreError, StoreLockedError

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x60_6E_60


def default_url(state_dir: Path) -> str:
    """The default store: ``<project>/.gonogo/state.db``."""
    return f"sqlite:///{state_dir / 'state.db'}"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this gonogo knows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a migration
        raise StoreError("no schema migrations are installed with gonogo")
    return head


class Store:
    """A connection pool to the store with read and write transactions.

    SQLite write transactions take the write lock up front (``BEGIN
    IMMEDIATE``), so two processes never deadlock upgrading a read lock; a
    writer waits up to ``lock_timeout`` seconds, then StoreLockedError.
    """

    def __init__(self, url: str, *, lock_timeout: float = 15.0) -> None:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ConfigError(
                f"store URL {_redact(url)!r} is not a database URL",
                hint="use sqlite:///path/state.db or postgresql://user@host/db",
            ) from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in {"sqlite", "postgresql"}:
            raise ConfigError(
                f"store URL uses {self.dialect!r}; gonogo supports sqlite and postgresql",
                hint="set GONOGO_DATABASE_URL=postgresql://… or leave it unset for SQLite",
            )
        if self.dialect == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        self.lock_timeout = lock_timeout
        self.display_url = parsed.render_as_string(hide_password=True)
        self.engine = self._create_engine()

    def _create_engine(self) -> Engine:
        if self.dialect == "sqlite":
            database = self.url.database
            if database and database != ":memory:":
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create the store folder for {database}: {exc}"
                    ) from None
            if database and database != ":memory:":
                engine = create_engine(self.url, connect_args={"timeout": self.lock_timeout})
            else:
                # one shared connection, or every connection would see its own empty database
                engine = create_engine(
                    self.url,
                    connect_args={"check_same_thread": False},
                    poolclass=StaticPool,
                )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        try:
            engine = create_engine(
                self.url,
                pool_pre_ping=True,
                # lock_timeout=0 means "wait forever" to PostgreSQL, not "do not wait"
                connect_args={
                    "options": f"-c lock_timeout={max(1, int(self.lock_timeout * 1000))}"
                },
            )
        except ModuleNotFoundError:
            raise ConfigError(
                "PostgreSQL support is not installed",
                hint="pip install 'gonogo[postgres]'",
            ) from None
        return engine

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one snapshot of the store throughout."""
        with self._translate(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                # as SQLite's read transactions: a commit between two reads (the audit
                # events, then the head) must not make the store look inconsistent
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: all or nothing."""
        with self._translate(), self.engine.connect() as conn:
            conn.execution_options(gonogo_write=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise self._operational(exc) from None
        except DBAPIError as exc:
            if _is_lock_error(exc):
                raise self._locked() from None
            if _is_damaged(exc):
                raise self._damaged(exc) from None
            raise

    def _operational(self, exc: OperationalError) -> StoreError:
        if _is_lock_error(exc):
            return self._locked()
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return StoreError(
            f"cannot use the store at {self.display_url}: {detail}",
            hint="check GONOGO_DATABASE_URL and that the database is reachable",
        )

    def _damaged(self, exc: DBAPIError) -> StoreError:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return StoreError(
            f"the store at {self.display_url} is not a usable SQLite database ({detail})",
            hint="restore it from a backup, or move it away to start a new store",
        )

    def _locked(self) -> StoreLockedError:
        return StoreLockedError(
            f"the store at {self.display_url} is locked by another process "
            f"(waited {self.lock_timeout:g}s)",
            hint="wait for the other gonogo command to finish, or raise GONOGO_LOCK_TIMEOUT",
        )

    def migrate(self) -> None:
        """Create or upgrade the schema; refuse a store from a newer gonogo."""
        head = head_revision()
        with self._migration_lock(), self._translate(), self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return
            script = ScriptDirectory(str(MIGRATIONS))
            if current is not None and not _known_revision(script, current):
                raise SchemaTooNewError(
                    f"the store at {self.display_url} has schema {current!r}, "
                    f"newer than this gonogo knows ({head!r})",
                    hint="upgrade gonogo (pip install -U gonogo) to use this store",
                )
            conn.rollback()
            conn.execution_options(gonogo_write=True)
            with conn.begin():
                command.upgrade(_alembic_config(conn), "head")

    def schema_revision(self) -> str | None:
        """The schema revision recorded in the store."""
        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Serialise first-use migrations across processes."""
        if self.dialect == "sqlite":
            database = self.url.database
            if not database or database == ":memory:":
                yield
                return
            lock_path = Path(database + ".migrate.lock")
            try:
                handle = lock_path.open("a")
            except OSError as exc:
                raise StoreError(
                    f"cannot use the store at {self.display_url}: "
                    f"cannot create {lock_path}: {exc.strerror}",
                    hint="check that the store's folder is writable",
                ) from None
            with handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        with self._translate(), self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()


def open_store(url: str, *, lock_timeout: float = 15.0) -> Store:
    """Open the store at ``url`` and bring its schema up to date."""
    store = Store(url, lock_timeout=lock_timeout)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store


def _known_revision(script: ScriptDirectory, revision: str) -> bool:
    # alembic raises for a revision it has no script for, rather than returning None
    try:
        return script.get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # take transaction control from the driver so "begin" below decides the mode
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("gonogo_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _is_lock_error(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower() if exc.orig is not None else ""
    return (
        "database is locked" in message
        or "lock timeout" in message
        or "canceling statement due to lock timeout" in message
    )


def _is_damaged(exc: DBAPIError) -> bool:
    # exactly sqlite3.DatabaseError: its subclasses (IntegrityError, …) are the caller's to handle
    return type(exc.orig) is sqlite3.DatabaseError


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
