"""Fire times of ``every`` and ``cron`` schedules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.project.monitors import Schedule
from monitor.scheduling.calendar import ScheduleCalendar

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_every_fires_on_multiples_of_the_interval_since_the_epoch() -> None:
    calendar = ScheduleCalendar(Schedule(every="15m"))

    assert calendar.previous(at(2026, 3, 1, 10, 14, 59)) == at(2026, 3, 1, 10, 0)
    assert calendar.previous(at(2026, 3, 1, 10, 15)) == at(2026, 3, 1, 10, 15)
    fires = list(calendar.between(at(2026, 3, 1, 10, 0), at(2026, 3, 1, 11, 0)))
    assert fires == [at(2026, 3, 1, 10, 15), at(2026, 3, 1, 10, 30), at(2026, 3, 1, 10, 45),
                     at(2026, 3, 1, 11, 0)]  # fmt: skip


def test_cron_day_of_week_counts_from_sunday_like_cron() -> None:
    # 2026-03-01 is a Sunday.
    calendar = ScheduleCalendar(Schedule(cron="0 6 * * 1-5"))
    fires = list(calendar.between(at(2026, 2, 28), at(2026, 3, 8)))

    assert [f.strftime("%a %H:%M") for f in fires] == [
        "Mon 06:00", "Tue 06:00", "Wed 06:00", "Thu 06:00", "Fri 06:00",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "days"),
    [("0", {"Sun"}), ("7", {"Sun"}), ("sun", {"Sun"}), ("5-7", {"Fri", "Sat", "Sun"}),
     ("*/2", {"Sun", "Tue", "Thu", "Sat"}), ("sat,mon", {"Sat", "Mon"})],
)  # fmt: skip
def test_cron_day_of_week_forms(field: str, days: set[str]) -> None:
    calendar = ScheduleCalendar(Schedule(cron=f"30 1 * * {field}"))
    fires = calendar.between(at(2026, 3, 1), at(2026, 3, 15))

    assert {f.strftime("%a") for f in fires} == days


def test_cron_previous_finds_a_monthly_fire_time() -> None:
    calendar = ScheduleCalendar(Schedule(cron="0 0 1 * *"))

    assert calendar.previous(at(2026, 3, 20, 12)) == at(2026, 3, 1)


@given(
    minutes=st.integers(min_value=1, max_value=24 * 60),
    offset=st.integers(min_value=0, max_value=10**9),
)
def test_every_previous_is_the_last_of_between(minutes: int, offset: int) -> None:
    calendar = ScheduleCalendar(Schedule(every=f"{minutes}m"))
    moment = at(2020, 1, 1) + dt.timedelta(seconds=offset)
    fires = list(itertools.islice(calendar.between(moment - dt.timedelta(days=2), moment), 10**6))

    assert fires[-1] == calendar.previous(moment)
    assert all(b - a == dt.timedelta(minutes=minutes) for a, b in itertools.pairwise(fires))


def test_the_apscheduler_trigger_fires_at_the_same_instants() -> None:
    for schedule in (Schedule(every="7m"), Schedule(cron="*/20 3 * * mon")):
        calendar = ScheduleCalendar(schedule)
        trigger = calendar.trigger()
        start = at(2026, 3, 1, 2, 59)
        fire = trigger.get_next_fire_time(None, start)
        expected = list(itertools.islice(calendar.between(start, at(2026, 3, 30)), 5))
        got = []
        for _ in range(5):
            got.append(fire)
            fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        assert got == expected
