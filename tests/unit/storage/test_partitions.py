"""Tests of the pure parts of :mod:`storage.partitions`: periods and partition names, and
that every function is a no-op on SQLite (the single-table layout)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from storage import create_engine, sqlite_url
from storage.migrations import upgrade
from storage.partitions import (
    DAY_US,
    create_ahead,
    drop_expired,
    ensure_covered,
    is_partitioned,
    list_partitions,
    partition_name,
    period,
)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def us(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("moment", "interval", "lower", "upper"),
    [
        (at(2026, 3, 4, 15, 30), "day", at(2026, 3, 4), at(2026, 3, 5)),
        (at(2026, 3, 4), "day", at(2026, 3, 4), at(2026, 3, 5)),
        (at(2026, 3, 4, 23, 59, 59), "week", at(2026, 3, 2), at(2026, 3, 9)),  # a Wednesday
        (at(2026, 3, 2), "week", at(2026, 3, 2), at(2026, 3, 9)),  # a Monday
        (at(2026, 3, 1, 23), "week", at(2026, 2, 23), at(2026, 3, 2)),  # a Sunday
        (at(2026, 2, 14), "month", at(2026, 2, 1), at(2026, 3, 1)),
        (at(2024, 12, 31, 23), "month", at(2024, 12, 1), at(2025, 1, 1)),
        (at(1969, 12, 31, 12), "day", at(1969, 12, 31), at(1970, 1, 1)),  # before the epoch
        (at(1969, 12, 31, 12), "month", at(1969, 12, 1), at(1970, 1, 1)),
    ],
)
def test_period_is_the_utc_day_week_or_month_holding_the_time(
    moment: dt.datetime, interval: str, lower: dt.datetime, upper: dt.datetime
) -> None:
    assert period(us(moment), interval) == (us(lower), us(upper))  # type: ignore[arg-type]


def test_a_microsecond_before_midnight_is_the_day_before() -> None:
    midnight = us(at(2026, 3, 5))

    assert period(midnight - 1, "day") == (midnight - DAY_US, midnight)
    assert period(midnight, "day") == (midnight, midnight + DAY_US)


def test_an_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="one of day, week, month, got 'hour'"):
        period(0, "hour")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lower", "name"),
    [
        (at(2026, 1, 1), "prediction_records_p20260101"),
        (at(2026, 1, 1, 6, 30), "prediction_records_p20260101_063000"),
        (
            at(2026, 1, 1) + dt.timedelta(microseconds=7),
            "prediction_records_p20260101_000000000007",
        ),
        (at(1969, 12, 31), "prediction_records_p19691231"),
    ],
)
def test_partitions_are_named_after_their_lower_bound(lower: dt.datetime, name: str) -> None:
    assert partition_name(us(lower)) == name
    assert len(name) <= 63  # PostgreSQL's identifier limit


def test_every_function_is_a_no_op_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "d.db"))
    upgrade(engine)
    try:
        with engine.begin() as connection:
            assert not is_partitioned(connection)
            assert list_partitions(connection) == []
            assert ensure_covered(connection, np.array([0, 10 * DAY_US], dtype=np.int64)) == []
        now = at(2026, 1, 1)
        assert create_ahead(engine, now=now, ahead=dt.timedelta(days=7), interval="day") == []
        assert drop_expired(engine, us(now)) == ([], True)
    finally:
        engine.dispose()


def test_create_ahead_refuses_a_naive_now_or_a_negative_horizon(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "d.db"))
    try:
        with pytest.raises(ValueError, match="timezone-aware"):
            create_ahead(engine, now=dt.datetime(2026, 1, 1), ahead=dt.timedelta(1), interval="day")
        with pytest.raises(ValueError, match="must not be negative"):
            create_ahead(engine, now=at(2026, 1, 1), ahead=-dt.timedelta(1), interval="day")
    finally:
        engine.dispose()
