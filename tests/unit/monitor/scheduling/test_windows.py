"""Which windows the schedule, a catch-up and a backfill compute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from monitor.project.monitors import MonitorSpec
from monitor.scheduling.windows import TimeRange, backfill_windows, due_windows, reference_range

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def spec(
    window: dict[str, Any], schedule: dict[str, Any] | None = None, **more: Any
) -> MonitorSpec:
    return MonitorSpec.model_validate(
        {
            "name": "m",
            "model": "churn",
            "kind": "failures",
            "schedule": schedule or {"every": "1h"},
            "window": window,
            **more,
        }
    )


def test_tumbling_first_run_computes_only_the_latest_complete_window() -> None:
    monitor = spec({"type": "tumbling", "size": "1h"}, {"every": "5m"})

    windows = due_windows(monitor, now=at(2026, 3, 1, 10, 20), last_end=None)

    assert windows == [TimeRange(at(2026, 3, 1, 9), at(2026, 3, 1, 10))]


def test_tumbling_catches_up_every_missed_window_then_nothing() -> None:
    monitor = spec({"type": "tumbling", "size": "1h"})
    now = at(2026, 3, 1, 13, 30)

    windows = due_windows(monitor, now=now, last_end=at(2026, 3, 1, 10))

    assert [w.end.hour for w in windows] == [11, 12, 13]
    assert due_windows(monitor, now=now, last_end=windows[-1].end) == []


def test_tumbling_catch_up_is_bounded_to_the_newest_windows() -> None:
    monitor = spec({"type": "tumbling", "size": "1h"})

    windows = due_windows(monitor, now=at(2026, 3, 2), last_end=at(2026, 3, 1), max_windows=3)

    assert [w.end.hour for w in windows] == [22, 23, 0]


def test_settle_delays_a_window_until_its_records_are_in() -> None:
    monitor = spec({"type": "tumbling", "size": "1h"})
    settle = dt.timedelta(seconds=30)
    last = at(2026, 3, 1, 9)

    assert due_windows(monitor, now=at(2026, 3, 1, 10, 0, 10), last_end=last, settle=settle) == []
    assert due_windows(monitor, now=at(2026, 3, 1, 10, 0, 30), last_end=last, settle=settle) == [
        TimeRange(at(2026, 3, 1, 9), at(2026, 3, 1, 10))
    ]


def test_rolling_computes_the_latest_fire_time_once() -> None:
    monitor = spec({"type": "rolling", "size": "1d"}, {"every": "6h"})
    now = at(2026, 3, 1, 13)

    windows = due_windows(monitor, now=now, last_end=at(2026, 2, 28, 12))

    assert windows == [TimeRange(at(2026, 2, 28, 12), at(2026, 3, 1, 12))]
    assert due_windows(monitor, now=now, last_end=windows[0].end) == []


def test_since_last_run_spans_from_the_last_result_to_the_latest_fire_time() -> None:
    monitor = spec({"type": "since_last_run"}, {"every": "10m"})

    first = due_windows(monitor, now=at(2026, 3, 1, 10, 25), last_end=None)
    later = due_windows(monitor, now=at(2026, 3, 1, 11, 5), last_end=first[0].end)

    assert first == [TimeRange(at(2026, 3, 1, 10, 10), at(2026, 3, 1, 10, 20))]
    assert later == [TimeRange(at(2026, 3, 1, 10, 20), at(2026, 3, 1, 11, 0))]


@pytest.mark.parametrize(
    ("window", "schedule"),
    [
        ({"type": "tumbling", "size": "1h"}, {"every": "10m"}),
        ({"type": "rolling", "size": "3h"}, {"every": "1h"}),
        ({"type": "since_last_run"}, {"every": "30m"}),
        ({"type": "rolling", "size": "1d"}, {"cron": "15 */6 * * *"}),
    ],
)
def test_backfill_produces_what_the_live_schedule_produced(
    window: dict[str, Any], schedule: dict[str, Any]
) -> None:
    monitor = spec(window, schedule)
    start, end = at(2026, 3, 1), at(2026, 3, 3, 7, 45)
    # The live schedule: a run every minute, each after the newest result. Its first run
    # computes only the latest window; compare every window after that one.
    first = due_windows(monitor, now=start, last_end=None)
    seed_end = first[-1].end
    live: list[TimeRange] = []
    now = start
    while now <= end:
        live.extend(due_windows(monitor, now=now, last_end=live[-1].end if live else seed_end))
        now += dt.timedelta(minutes=1)
    backfilled = [w for w in backfill_windows(monitor, start=start, end=end) if w.end > seed_end]

    assert len(live) > 5
    assert backfilled == live


def test_references_relative_to_the_window() -> None:
    window = TimeRange(at(2026, 3, 8, 10), at(2026, 3, 8, 12))
    tumbling = {"type": "tumbling", "size": "2h"}

    previous = spec(tumbling, reference={"type": "previous_window"})
    last_week = spec(tumbling, reference={"type": "same_window_last_week"})
    fixed = spec(tumbling, reference={"type": "fixed_window", "start": "2026-01-01T00:00:00+01:00",
                                      "end": "2026-02-01T00:00:00Z"})  # fmt: skip

    assert reference_range(previous, window) == TimeRange(at(2026, 3, 8, 8), at(2026, 3, 8, 10))
    assert reference_range(last_week, window) == TimeRange(at(2026, 3, 1, 10), at(2026, 3, 1, 12))
    assert reference_range(fixed, window) == TimeRange(at(2025, 12, 31, 23), at(2026, 2, 1))
    assert reference_range(spec(tumbling), window) is None
