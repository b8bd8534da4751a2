"""Engine and session factories for the two supported back ends.

SQLite (the embedded default) is opened in WAL mode with a busy timeout and foreign keys on;
PostgreSQL is reached through psycopg 3. Nothing here runs at import: callers build an engine
from a URL and pass it down.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseConnectionError, DatabaseURLError

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "check_connection",
    "create_engine",
    "create_session_factory",
    "display_url",
    "parse_database_url",
    "sqlite_url",
    "write_transaction",
]

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
_POSTGRES_CONNECT_TIMEOUT_SECONDS = 5
_IMMEDIATE = "driftline_sqlite_immediate"


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite database file (made absolute)."""
    return f"sqlite:///{path.expanduser().resolve()}"


def parse_database_url(url: str) -> URL:
    """Parse and normalise a database URL; raise :class:`DatabaseURLError` if unusable.

    ``postgres://`` and ``postgresql://`` select the psycopg 3 driver; only SQLite and
    PostgreSQL are supported.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        msg = (
            f"cannot parse database URL {_mask(url)!r}: expected e.g. "
            "'sqlite:///path/to/driftline.db' or 'postgresql://user@host:5432/dbname'"
        )
        raise DatabaseURLError(msg) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if parsed.get_driver_name() not in ("pysqlite", ""):
            msg = f"unsupported SQLite driver {parsed.drivername!r}: use 'sqlite:///PATH'"
            raise DatabaseURLError(msg)
    else:
        msg = (
            f"unsupported database {backend!r} in URL {display_url(parsed)!r}: "
            "Driftline runs on SQLite or PostgreSQL"
        )
        raise DatabaseURLError(msg)
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        msg = f"database URL {display_url(parsed)!r} names no database: add '/DBNAME'"
        raise DatabaseURLError(msg)
    return parsed


def display_url(url: str | URL) -> str:
    """The URL with any password replaced by ``***``, for messages and logs."""
    if isinstance(url, str):
        return _mask(url)
    return url.render_as_string(hide_password=True)


def _mask(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Unparseable: hide everything before the last '@', where credentials live.
        head, at, host = url.rpartition("@")
        if not at:
            return url
        scheme, sep, _ = head.partition("://")
        return f"{scheme}://***@{host}" if sep else f"***@{host}"


def create_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Build an engine for ``url`` with Driftline's connection settings.

    Raises
    ------
    DatabaseURLError
        If the URL is malformed or names an unsupported back end.
    """
    parsed = parse_database_url(url) if isinstance(url, str) else url
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": _POSTGRES_CONNECT_TIMEOUT_SECONDS}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        msg = f"no driver installed for database URL {display_url(parsed)!r}"
        raise DatabaseURLError(msg) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions: the module's own handling
    # commits before DDL, so a failed migration would leave a half-migrated schema.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction meant to write, committed on success.

    On SQLite the transaction takes the write lock at once (``BEGIN IMMEDIATE``): a
    transaction that reads first and writes later could otherwise fail with
    ``SQLITE_BUSY_SNAPSHOT`` when another writer commits in between, which no busy
    timeout cures.
    """
    with engine.connect() as connection:
        connection = connection.execution_options(**{_IMMEDIATE: True})
        with connection.begin():
            yield connection


def check_connection(engine: Engine) -> None:
    """Open a connection and run ``SELECT 1``.

    Raises
    ------
    DatabaseConnectionError
        With one line naming the (masked) URL and the driver's reason.
    """
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
        msg = f"cannot connect to database {display_url(engine.url)!r}: {reason}"
        raise DatabaseConnectionError(msg) from None


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
