"""Open the state store: SQLite by default, PostgreSQL for a team; migrate on first use."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from gonogo.errors import ConfigError, SchemaTooNewError, StoreError, StoreLockedError

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x60_6E_60

#: the drivers gonogo runs on; ``postgres://`` (Heroku and others) means ``postgresql://``
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg2",
}
_URL_HINT = "use sqlite:///path/state.db or postgresql://user@host/db"

#: query parameters of a PostgreSQL URL whose value is a secret (libpq takes a password there)
_SECRET_QUERY = re.compile("pass|secret|token", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")

#: PostgreSQL's answers when the store's user may not do what a command needs (SQLSTATE)
_INSUFFICIENT_PRIVILEGE = "42501"
_READ_ONLY_TRANSACTION = "25006"
_REFUSED = frozenset({_INSUFFICIENT_PRIVILEGE, _READ_ONLY_TRANSACTION})


def default_url(state_dir: Path) -> str:
    """The default store: ``<project>/.gonogo/state.db``.

    A URL decodes ``%xx`` and ends its path at ``?``: those are escaped, so a project
    folder named ``what?`` or ``100%41`` keeps its store inside it.
    """
    path = str(state_dir / "state.db").replace("%", "%25").replace("?", "%3F")
    return f"sqlite:///{path}"


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
        parsed = _parse(url)
        self.given_url = url
        """the URL as given (options included): another reader opens the same store with it"""
        self.dialect = parsed.get_backend_name()
        self.readonly = False
        if self.dialect == "sqlite":
            parsed, self.readonly = _sqlite_options(parsed)
        self.url = parsed
        self.lock_timeout = lock_timeout
        self.display_url = _display(parsed)
        # connection options (application_name, sslmode, …) do not make another store
        self.checkpoint_key = parsed.set(
            drivername=self.dialect if self.dialect == "sqlite" else "postgresql+psycopg",
            query={},
        ).render_as_string(hide_password=True)
        self.engine = self._create_engine()

    def _create_engine(self) -> Engine:
        if self.dialect == "sqlite":
            return self._sqlite_engine()
        # lock_timeout=0 means "wait forever" to PostgreSQL, not "do not wait"
        options = f"-c lock_timeout={max(1, int(self.lock_timeout * 1000))}"
        given = " ".join(_values(self.url.query.get("options", ())))
        try:
            engine = create_engine(
                self.url,
                pool_pre_ping=True,
                # connect_args replaces the URL's own ?options=: keep them, ours come last
                connect_args={"options": f"{given} {options}".strip()},
            )
        except ModuleNotFoundError as exc:
            if self.url.drivername == "postgresql+psycopg":
                raise ConfigError(
                    "PostgreSQL support is not installed", hint="pip install 'gonogo[postgres]'"
                ) from None
            raise ConfigError(
                f"the driver {exc.name or self.url.drivername} of store URL "
                f"{self.url.drivername}:// is not installed",
                hint="write postgresql://… (psycopg 3, pip install 'gonogo[postgres]')",
            ) from None
        return engine

    def _sqlite_engine(self) -> Engine:
        database = self.url.database
        if not database or database == ":memory:":
            # one shared connection, or every connection would see its own empty database
            engine = create_engine(
                self.url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            path = Path(database)
            if path.is_dir():
                raise ConfigError(
                    f"the store path {database} is a folder",
                    hint=f"name a file in it, e.g. sqlite:///{path / 'state.db'}",
                )
            if self.readonly:
                engine = self._readonly_engine(path)
            else:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create the store folder {path.parent}: {exc.strerror or exc}",
                        hint="fix the path in --database-url / GONOGO_DATABASE_URL",
                    ) from None
                engine = create_engine(self.url, connect_args={"timeout": self.lock_timeout})
        event.listen(engine, "connect", functools.partial(_sqlite_on_connect, self.readonly))
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    def _readonly_engine(self, path: Path) -> Engine:
        if not path.is_file():
            raise StoreError(
                f"the read-only store {path} does not exist",
                hint="fix the path, or drop ?mode=ro to create the store",
            )
        # SQLite's own read-only mode (a URI), so not even a stray write can change the file
        uri = path.resolve().as_uri() + "?mode=ro"
        timeout = self.lock_timeout

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)

        return create_engine(self.url, creator=connect)

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
        if self.readonly:
            raise self._readonly_error("this command changes it")
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
            if _sqlstate(exc) in _REFUSED:
                raise self._refused(exc) from None
            if exc.statement is None:  # connecting failed: a bad option, a refused login
                raise self._operational(exc) from None
            raise

    def _operational(self, exc: DBAPIError) -> StoreError:
        if _is_lock_error(exc):
            return self._locked()
        detail = _first_line(exc)
        return StoreError(
            f"cannot use the store at {self.display_url}: {detail}",
            hint="check GONOGO_DATABASE_URL and that the database is reachable",
        )

    def _damaged(self, exc: DBAPIError) -> StoreError:
        detail = _first_line(exc)
        return StoreError(
            f"the store at {self.display_url} is not a usable SQLite database ({detail})",
            hint="restore it from a backup, or move it away to start a new store",
        )

    def _refused(self, exc: DBAPIError) -> StoreError:
        if _sqlstate(exc) == _READ_ONLY_TRANSACTION:
            hint = "the connection is read-only (default_transaction_read_only); drop that to write"
        else:
            hint = "grant the database user the right to create and change tables in its schema"
        return StoreError(
            f"the store at {self.display_url} refused this command: {_first_line(exc)}",
            hint=hint,
        )

    def _locked(self) -> StoreLockedError:
        return StoreLockedError(
            f"the store at {self.display_url} is locked by another process "
            f"(waited {self.lock_timeout:g}s)",
            hint="wait for the other gonogo command to finish, or raise GONOGO_LOCK_TIMEOUT",
        )

    def _readonly_error(self, why: str) -> StoreError:
        return StoreError(
            f"the store at {self.display_url} is opened read-only (?mode=ro) and {why}",
            hint="drop ?mode=ro from --database-url / GONOGO_DATABASE_URL to change it",
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
            if self.readonly:
                needs = "has no gonogo schema" if current is None else "has an older schema"
                raise self._readonly_error(f"{needs}, which this gonogo must write first")
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
            if not database or database == ":memory:" or self.readonly:
                yield  # nothing to serialise: one connection, or no writes at all
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


def _sqlite_on_connect(readonly: bool, dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # take transaction control from the driver so "begin" below decides the mode
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        if not readonly:  # a read-only connection may not switch the journal
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


def _sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)  # psycopg; SQLite has none
    return code if isinstance(code, str) else None


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig).strip() if exc.orig is not None else str(exc)
    return text.splitlines()[0] if text else type(exc.orig or exc).__name__


def missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` names a SQLite store whose file does not exist yet.

    A reader that must not create a store (a check looking for past events) asks this
    first; an unusable URL is the store's own one-line error when it is opened.
    """
    try:
        parsed = _parse(url)
    except ConfigError:
        return False
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).is_file()


def _parse(url: str) -> URL:
    """``url`` as a SQLAlchemy URL of a driver gonogo runs on, or a one-line ConfigError."""
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:  # an environment variable holding bytes that are not UTF-8
        raise ConfigError("the store URL is not valid UTF-8 text", hint=_URL_HINT) from None
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(
            f"store URL {_redact(url)!r} is not a database URL", hint=_URL_HINT
        ) from None
    name = parsed.drivername.lower()
    backend = name.partition("+")[0]
    if backend not in {"sqlite", "postgresql", "postgres"}:
        raise ConfigError(
            f"store URL uses {backend!r}; gonogo supports sqlite and postgresql",
            hint="set GONOGO_DATABASE_URL=postgresql://… or leave it unset for SQLite",
        )
    if name not in _DRIVERS:
        raise ConfigError(
            f"store URL driver {name!r} is not supported",
            hint="write sqlite:///path/state.db or postgresql://user@host/db (psycopg)",
        )
    return parsed.set(drivername=_DRIVERS[name])


def _sqlite_options(url: URL) -> tuple[URL, bool]:
    """The URL without its query, and whether ``?mode=ro`` asked for a read-only store.

    SQLAlchemy would ignore other options with a warning (or crash on a bad ``timeout``),
    so they are refused: the lock wait is GONOGO_LOCK_TIMEOUT.
    """
    options = dict(url.query)
    mode = options.pop("mode", None)
    if options:
        name = sorted(options)[0]
        raise ConfigError(
            f"store URL option {name!r} is not supported for SQLite",
            hint="a SQLite store URL takes only ?mode=ro (read-only); "
            "set the lock wait with GONOGO_LOCK_TIMEOUT",
        )
    if mode is not None and mode != "ro":
        raise ConfigError(
            f"store URL option mode={mode!r} is not supported",
            hint="use ?mode=ro for a read-only store, or no mode to read and write",
        )
    if mode == "ro" and (not url.database or url.database == ":memory:"):
        raise ConfigError(
            "a read-only store needs a file", hint="write sqlite:///path/state.db?mode=ro"
        )
    return url.set(query={}), mode == "ro"


def _display(url: URL) -> str:
    """The URL to show: no password, no secret option (the checkpoint key drops options)."""
    shown = url.set(query={}).render_as_string(hide_password=True)
    options = [
        f"{quote_plus(key)}={'***' if _SECRET_QUERY.search(key) else quote_plus(value)}"
        for key in sorted(url.query)
        for value in _values(url.query[key])
    ]
    return f"{shown}?{'&'.join(options)}" if options else shown


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def _redact(url: str) -> str:
    """An unparsable URL as it may be shown: whatever stands before an ``@`` is hidden, and
    the query and fragment are left out (``?password=...`` is a libpq option)."""
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    if "@" not in head:
        return head if head == url else f"{head}?..."
    scheme, separator, _rest = head.partition("://")
    shown = f"{scheme}://" if separator and _SCHEME.fullmatch(scheme) else ""
    return f"{shown}***@{head.rsplit('@', 1)[1]}" + ("" if head == url else "?...")
