"""Which ``driftline monitor`` process schedules: a leader elected through the database.

PostgreSQL
    A session-level advisory lock held on a connection of its own. The lock goes when the
    session ends, so when the leader dies (even by SIGKILL) the server releases it as soon
    as it sees the connection close, and the next process polling for it takes over. The
    leader checks its connection before each run; once it cannot, it stops scheduling.
SQLite
    An exclusive ``flock`` on a file beside the database, released by the kernel when the
    process dies. SQLite has one scheduler: a second process is refused with a message
    naming the holder, since two writers on one file is not a setup to run in production.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.errors import ConfigError, DriftlineError

__all__ = [
    "Leadership",
    "PostgresLeadership",
    "SQLiteLeadership",
    "SchedulerLockedError",
    "leadership_for",
]

logger = logging.getLogger(__name__)

#: Advisory lock key: the bytes "dl-sched" read as a signed 64-bit integer.
LOCK_KEY = int.from_bytes(b"dl-sched", "big", signed=True)


class SchedulerLockedError(ConfigError):
    """Another process already schedules the monitors of this SQLite database."""


class Leadership(Protocol):
    """Acquire, keep and give up the right to schedule."""

    def acquire(self) -> bool:
        """Try to become the leader without waiting; True when this process now leads."""
        ...

    def check(self) -> bool:
        """Whether this process still leads (False once the lock may have been lost)."""
        ...

    def release(self) -> None:
        """Stop leading (idempotent)."""
        ...


class PostgresLeadership:
    """Leadership through ``pg_try_advisory_lock`` on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            return self.check()
        connection = self.engine.connect()
        try:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            got = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def check(self) -> bool:
        connection = self._connection
        if connection is None:
            return False
        try:
            # A session keeps its advisory lock until it unlocks or ends: alive means held.
            connection.execute(sa.text("SELECT 1"))
        except Exception as exc:
            logger.warning("lost the scheduler's database connection: %s", exc)
            self._drop()
            return False
        return True

    def release(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception as exc:
            logger.debug("releasing the scheduler lock failed: %s", exc)
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception as exc:
                logger.debug("closing the scheduler connection failed: %s", exc)


class SQLiteLeadership:
    """Leadership through an exclusive ``flock`` on ``<database>.scheduler.lock``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            msg = (
                f"{holder} already schedules the monitors of this SQLite database "
                f"(lock {self.path}); SQLite has one scheduler. Stop it first, run this one "
                "with --no-scheduler for the API alone, or use PostgreSQL "
                "(DRIFTLINE_DATABASE_URL) to run several monitor processes with failover"
            )
            raise SchedulerLockedError(msg) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"driftline monitor pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        self._fd = fd
        return True

    def check(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def leadership_for(engine: Engine) -> Leadership:
    """The leadership scheme of the engine's database."""
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        msg = "the scheduler needs a file-backed SQLite database or PostgreSQL"
        raise DriftlineError(msg)
    return SQLiteLeadership(Path(database).with_name(Path(database).name + ".scheduler.lock"))
