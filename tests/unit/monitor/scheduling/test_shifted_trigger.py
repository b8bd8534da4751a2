"""A monitor's trigger stays on its schedule's grid, shifted by the settle time."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.project.monitors import MonitorSpec, Schedule
from monitor.scheduling.calendar import ScheduleCalendar
from monitor.scheduling.scheduler import _Shifted
from monitor.scheduling.windows import due_windows

SETTLE = dt.timedelta(seconds=2)
T = dt.datetime(2026, 11, 25, 7, 45, 30, 221_000, tzinfo=dt.UTC)


def trigger(schedule: dict[str, str]) -> _Shifted:
    return _Shifted(ScheduleCalendar(Schedule.model_validate(schedule)).trigger(), SETTLE)


def fires(
    shifted: _Shifted, previous: dt.datetime | None, now: dt.datetime, n: int
) -> list[dt.datetime]:
    times: list[dt.datetime] = []
    for _ in range(n):
        fire = shifted.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous = now = fire
    return times


def test_after_an_off_grid_catch_up_run_the_next_runs_are_on_the_grid() -> None:
    """The first run is a catch-up at an arbitrary instant (the job's next_run_time)."""
    shifted = trigger({"every": "10s"})

    times = fires(shifted, previous=T, now=T + dt.timedelta(milliseconds=50), n=3)

    assert [t.second for t in times] == [32, 42, 52]
    assert {t.microsecond for t in times} == {0}


@pytest.mark.parametrize("schedule", [{"every": "10s"}, {"every": "15m"}, {"cron": "*/5 * * * *"}])
def test_each_run_computes_the_window_that_just_settled(schedule: dict[str, str]) -> None:
    shifted = trigger(schedule)
    calendar = ScheduleCalendar(Schedule.model_validate(schedule))
    spec = MonitorSpec.model_validate(
        {
            "name": "m",
            "model": "m",
            "kind": "failures",
            "schedule": schedule,
            "window": {"type": "rolling", "size": "20s"},
        }
    )

    for fire in fires(shifted, previous=T, now=T, n=4):
        (window,) = due_windows(spec, now=fire, last_end=None, settle=SETTLE)
        assert window.end == fire - SETTLE  # not a whole period earlier
        assert calendar.previous(window.end) == window.end


def test_no_fire_time_repeats() -> None:
    shifted = trigger({"every": "10s"})
    on_grid = dt.datetime(2026, 11, 25, 7, 45, 32, tzinfo=dt.UTC)

    assert shifted.get_next_fire_time(on_grid, on_grid) == on_grid + dt.timedelta(seconds=10)
