"""Time partitions of ``prediction_records`` on PostgreSQL: found, created, dropped.

On PostgreSQL the records table is range-partitioned on ``timestamp_us`` (declarative
partitioning, migration ``0004``); SQLite keeps one table and every function here is a
no-op there. Partitions are found in the catalog (``pg_inherits`` and each partition's
bound), never inferred from names, so partitions of mixed widths work side by side.

- **Ahead**: :func:`create_ahead` covers ``[now, now + ahead)`` with partitions of the
  configured interval (a day, a week or a month, UTC); the monitor's leader runs it hourly.
- **On demand**: :func:`ensure_covered` runs first in every bulk insert. What exists is
  cached in the pooled connection's ``info``, so when the batch's times are covered (the
  usual case) it costs a ``searchsorted`` and no SQL. A time no partition covers (a late or
  backfilled record, a record beyond the horizon, the monitor not running) gets a one-day
  partition, cut to the gap between existing ones, created in the insert's transaction
  under an advisory lock. So an insert never fails for want of a partition, and there is
  no DEFAULT partition: one would have to be scanned, under an exclusive lock, by every
  later partition created over a range it holds rows of, and it could never be dropped
  whole.
- **Dropped**: :func:`drop_expired` drops partitions whose upper bound is at or before a
  cutoff, one short transaction each (``DROP TABLE`` locks the parent for a moment; a
  ``lock_timeout`` bounds the wait). A partition straddling the cutoff is kept whole until
  it has expired entirely.

A partition is created as a plain table and then attached (``ATTACH PARTITION`` takes only
a SHARE UPDATE EXCLUSIVE lock on the parent, so inserts and reads go on), rather than with
``CREATE TABLE ... PARTITION OF`` (ACCESS EXCLUSIVE).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

__all__ = [
    "DAY_US",
    "TABLE",
    "DroppedPartition",
    "Interval",
    "Partition",
    "create_ahead",
    "drop_expired",
    "ensure_covered",
    "expired_partitions",
    "forget_partitions",
    "is_missing_partition",
    "is_partitioned",
    "list_partitions",
    "partition_name",
    "period",
]

logger = logging.getLogger(__name__)

#: The partitioned table.
TABLE = "prediction_records"
#: Microseconds in a day.
DAY_US = 86_400_000_000
#: Widths of the partitions created ahead.
Interval = Literal["day", "week", "month"]
INTERVALS: tuple[str, ...] = get_args(Interval)

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_CACHE_KEY = "driftline.partitions"
#: ``pg_advisory_xact_lock`` key serialising partition creation ("DLpart" in ASCII).
_LOCK_KEY = 0x444C70617274
_BOUND = re.compile(r"FROM \('?([-\w]+)'?\) TO \('?([-\w]+)'?\)")
_CATALOG = sa.text(
    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:table)"
)
_KIND = sa.text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:table)")


@dataclass(frozen=True, slots=True, order=True)
class Partition:
    """One partition: records with ``lower_us <= timestamp_us < upper_us``."""

    lower_us: int
    upper_us: int
    name: str


@dataclass(frozen=True, slots=True)
class DroppedPartition:
    """A partition :func:`drop_expired` dropped, and how many records it held."""

    partition: Partition
    records: int


def period(timestamp_us: int, interval: Interval) -> tuple[int, int]:
    """The ``[lower, upper)`` bounds, in µs, of the UTC day, week (from Monday) or month
    holding ``timestamp_us``.

    Examples
    --------
    >>> period(DAY_US + 5, "day")
    (86400000000, 172800000000)
    >>> [b // DAY_US for b in period(0, "week")]  # 1970-01-01 was a Thursday
    [-3, 4]
    """
    if interval not in INTERVALS:
        msg = f"partition interval must be one of {', '.join(INTERVALS)}, got {interval!r}"
        raise ValueError(msg)
    day = timestamp_us // DAY_US
    if interval == "day":
        return day * DAY_US, (day + 1) * DAY_US
    if interval == "week":
        monday = day - (day + 3) % 7
        return monday * DAY_US, (monday + 7) * DAY_US
    month = np.datetime64(day, "D").astype("datetime64[M]")
    lower = int(month.astype("datetime64[D]").astype(np.int64))
    upper = int((month + 1).astype("datetime64[D]").astype(np.int64))
    return lower * DAY_US, upper * DAY_US


def partition_name(lower_us: int) -> str:
    """The name of the partition starting at ``lower_us``: ``prediction_records_p20260101``,
    with ``_HHMMSS`` (and microseconds) when it does not start at midnight."""
    if lower_us <= _INT64_MIN:
        return f"{TABLE}_pmin"
    stamp = str(np.datetime64(lower_us, "us"))
    digits = ("bc" if stamp.startswith("-") else "") + re.sub(r"\D", "", stamp)
    date, time = digits[:-20] + digits[-20:-12], digits[-12:]
    if lower_us % DAY_US == 0:
        return f"{TABLE}_p{date}"
    return f"{TABLE}_p{date}_{time[:6]}" + (time[6:] if int(time[6:]) else "")


def is_partitioned(connection: Connection) -> bool:
    """Whether ``prediction_records`` is a partitioned table (PostgreSQL at revision 0004+)."""
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(_KIND, {"table": TABLE}).scalar_one_or_none() == "p"


def list_partitions(connection: Connection) -> list[Partition]:
    """The range partitions of ``prediction_records``, oldest first (none on SQLite).

    A DEFAULT partition, if an operator added one, is not listed: it covers no range.
    """
    if connection.dialect.name != "postgresql":
        return []
    found = []
    for name, bound in connection.execute(_CATALOG, {"table": TABLE}):
        match = _BOUND.search(bound or "")
        if match is not None:
            found.append(Partition(_bound_value(match[1]), _bound_value(match[2]), name))
    return sorted(found)


def is_missing_partition(error: Exception) -> bool:
    """Whether ``error`` (psycopg's, or SQLAlchemy's wrapping it) is PostgreSQL refusing a
    row no partition covers."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    return getattr(cause, "sqlstate", None) == "23514" and "no partition" in str(cause)


def forget_partitions(connection: Connection) -> None:
    """Drop this connection's cache of what partitions exist (re-read on next use)."""
    connection.info.pop(_CACHE_KEY, None)


def ensure_covered(connection: Connection, timestamps_us: NDArray[np.int64]) -> list[Partition]:
    """Create the one-day partitions the records at ``timestamps_us`` need and lack.

    Call it inside the inserting transaction, before the insert. Costs no SQL when the
    connection's cache shows every time covered; otherwise takes the creation lock, re-reads
    the catalog, and creates each missing day cut to the gaps between existing partitions.
    A no-op unless ``prediction_records`` is partitioned.

    Returns
    -------
    list[Partition]
        The partitions created (usually none).
    """
    catalog = connection.info.get(_CACHE_KEY)
    if catalog is None:
        catalog = _Catalog.read(connection)
    missing = catalog.uncovered(np.asarray(timestamps_us, dtype=np.int64))
    if not missing.size:
        return []
    _lock(connection)
    catalog = _Catalog.read(connection)
    missing = catalog.uncovered(missing)
    days = [int(d) * DAY_US for d in np.unique(missing // DAY_US)]
    created = _create(connection, catalog, [(d, d + DAY_US) for d in days])
    for partition in created:
        logger.info("created partition %s on demand for late or early records", partition.name)
    return created


def create_ahead(
    engine: Engine, *, now: dt.datetime, ahead: dt.timedelta, interval: Interval
) -> list[Partition]:
    """Cover ``[now, now + ahead)`` with partitions of ``interval`` (gaps only).

    Returns
    -------
    list[Partition]
        The partitions created; none on SQLite or when all exist.

    Raises
    ------
    ValueError
        If ``now`` is naive, ``ahead`` negative or ``interval`` unknown.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        msg = f"now must be timezone-aware, got naive {now.isoformat()}"
        raise ValueError(msg)
    if ahead < dt.timedelta(0):
        msg = f"ahead must not be negative, got {ahead}"
        raise ValueError(msg)
    start = _epoch_us(now)
    end = start + ahead // dt.timedelta(microseconds=1)
    periods = [period(start, interval)]
    while periods[-1][1] < end:
        periods.append(period(periods[-1][1], interval))
    with engine.begin() as connection:
        catalog = _Catalog.read(connection)
        if not catalog.partitioned or all(catalog.covers(lo, hi) for lo, hi in periods):
            return []
        _lock(connection)
        created = _create(connection, _Catalog.read(connection), periods)
    for partition in created:
        logger.info("created partition %s ahead", partition.name)
    return created


def expired_partitions(connection: Connection, cutoff_us: int) -> list[Partition]:
    """Partitions whose every record is older than ``cutoff_us`` (upper bound <= cutoff)."""
    return [p for p in list_partitions(connection) if p.upper_us <= cutoff_us]


def drop_expired(
    engine: Engine,
    cutoff_us: int,
    *,
    max_partitions: int | None = None,
    lock_timeout_seconds: float = 5.0,
) -> tuple[list[DroppedPartition], bool]:
    """Drop the partitions wholly older than ``cutoff_us``, oldest first, each in its own
    transaction.

    Parameters
    ----------
    max_partitions
        Drop at most this many (None: all).
    lock_timeout_seconds
        How long a drop waits for the parent's lock; a drop that times out is left for a
        later call.

    Returns
    -------
    tuple[list[DroppedPartition], bool]
        What was dropped, and whether every expired partition is gone.
    """
    with engine.connect() as connection:
        expired = expired_partitions(connection, cutoff_us)
    dropped: list[DroppedPartition] = []
    for partition in expired:
        if max_partitions is not None and len(dropped) >= max_partitions:
            return dropped, False
        try:
            with engine.begin() as connection:
                timeout_ms = round(lock_timeout_seconds * 1000)
                connection.execute(sa.text(f"SET LOCAL lock_timeout = {timeout_ms}"))
                records = connection.execute(
                    sa.text(f"SELECT count(*) FROM {_quoted(partition.name)}")
                ).scalar_one()
                connection.execute(sa.text(f"DROP TABLE {_quoted(partition.name)}"))
                forget_partitions(connection)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            logger.warning("partition %s is busy; it is dropped at a later run", partition.name)
            return dropped, False
        logger.info("dropped partition %s (%d records)", partition.name, records)
        dropped.append(DroppedPartition(partition, int(records)))
    return dropped, True


class _Catalog:
    """The partitions that exist, as sorted bound arrays for vectorised lookups."""

    def __init__(self, partitioned: bool, partitions: Iterable[Partition]) -> None:
        self.partitioned = partitioned
        self.partitions = sorted(partitions)
        self._lower = np.array([_clip(p.lower_us) for p in self.partitions], dtype=np.int64)
        self._upper = np.array([_clip(p.upper_us) for p in self.partitions], dtype=np.int64)

    @classmethod
    def read(cls, connection: Connection) -> _Catalog:
        """Read the catalog and cache it on the connection."""
        partitioned = is_partitioned(connection)
        catalog = cls(partitioned, list_partitions(connection) if partitioned else [])
        connection.info[_CACHE_KEY] = catalog
        return catalog

    def uncovered(self, timestamps_us: NDArray[np.int64]) -> NDArray[np.int64]:
        """The times no partition covers (none when the table is not partitioned)."""
        if not self.partitioned or not timestamps_us.size:
            return timestamps_us[:0]
        index = np.searchsorted(self._lower, timestamps_us, side="right") - 1
        inside = index >= 0
        inside[inside] = timestamps_us[inside] < self._upper[index[inside]]
        return timestamps_us[~inside]

    def covers(self, lower: int, upper: int) -> bool:
        return not self.gaps(lower, upper)

    def gaps(self, lower: int, upper: int) -> list[tuple[int, int]]:
        """The parts of ``[lower, upper)`` no partition covers."""
        found = []
        at = lower
        first = max(bisect.bisect_right([p.lower_us for p in self.partitions], lower) - 1, 0)
        for partition in self.partitions[first:]:
            if partition.lower_us >= upper:
                break
            if partition.upper_us <= at:
                continue
            if partition.lower_us > at:
                found.append((at, partition.lower_us))
            at = max(at, partition.upper_us)
        if at < upper:
            found.append((at, upper))
        return found


def _create(
    connection: Connection, catalog: _Catalog, periods: list[tuple[int, int]]
) -> list[Partition]:
    """Create a partition for each gap in ``periods``; refresh the connection's cache."""
    created = []
    for lower, upper in periods:
        for low, high in catalog.gaps(lower, upper):
            partition = Partition(low, high, partition_name(low))
            name = _quoted(partition.name)
            connection.execute(
                sa.text(
                    f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                )
            )
            connection.execute(
                sa.text(
                    f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                    f"FOR VALUES FROM ({_render(low)}) TO ({_render(high)})"
                )
            )
            created.append(partition)
    if created:
        _Catalog.read(connection)
    return created


def _lock(connection: Connection) -> None:
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _bound_value(text: str) -> int:
    if text == "MINVALUE":
        return _INT64_MIN
    if text == "MAXVALUE":
        return _INT64_MAX + 1
    return int(text)


def _render(bound: int) -> str:
    if bound <= _INT64_MIN:
        return "MINVALUE"
    if bound > _INT64_MAX:
        return "MAXVALUE"
    return str(bound)


def _clip(bound: int) -> int:
    return min(max(bound, _INT64_MIN), _INT64_MAX)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _epoch_us(moment: dt.datetime) -> int:
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
