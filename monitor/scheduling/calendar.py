"""A monitor's schedule as instants: the fire times of ``every`` or ``cron``, in UTC.

``every`` fires on multiples of the interval since the Unix epoch, so every process (and a
backfill) agrees on the same instants without sharing a clock origin. ``cron`` is read as
standard cron (day of week 0 or 7 is Sunday) and evaluated by APScheduler's trigger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.project.monitors import Schedule

__all__ = ["EPOCH", "ScheduleCalendar"]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: How far back a cron schedule is searched for its previous fire time.
_LOOKBACKS = (dt.timedelta(days=1), dt.timedelta(days=32), dt.timedelta(days=367 * 4))


class ScheduleCalendar:
    """Fire times of one schedule.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> calendar = ScheduleCalendar(Schedule(every="15m"))
    >>> calendar.previous(datetime(2026, 1, 1, 10, 7, tzinfo=UTC)).time()
    datetime.time(10, 0)
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self._every = schedule.every
        self._cron = None if schedule.cron is None else _cron_trigger(schedule.cron)

    def trigger(self) -> BaseTrigger:
        """An APScheduler trigger firing at exactly these instants."""
        if self._every is not None:
            return IntervalTrigger(seconds=self._every.total_seconds(), start_date=EPOCH)
        assert self._cron is not None
        return self._cron

    def previous(self, moment: dt.datetime) -> dt.datetime | None:
        """The latest fire time at or before ``moment`` (None if there is none in 4 years)."""
        if self._every is not None:
            steps = (moment - EPOCH) // self._every
            return EPOCH + steps * self._every
        for lookback in _LOOKBACKS:
            found = None
            for fire in self._cron_times(moment - lookback):
                if fire > moment:
                    break
                found = fire
            if found is not None:
                return found
        return None

    def between(self, after: dt.datetime, until: dt.datetime) -> Iterator[dt.datetime]:
        """Fire times ``t`` with ``after < t <= until``, in order."""
        if self._every is not None:
            steps = (after - EPOCH) // self._every + 1
            fire = EPOCH + steps * self._every
            while fire <= until:
                yield fire
                fire += self._every
            return
        for fire in self._cron_times(after):
            if fire > until:
                return
            if fire > after:
                yield fire

    def _cron_times(self, start: dt.datetime) -> Iterator[dt.datetime]:
        assert self._cron is not None
        fire = self._cron.get_next_fire_time(None, start)
        while fire is not None:
            yield fire
            fire = self._cron.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))


def _cron_trigger(expression: str) -> CronTrigger:
    """APScheduler numbers weekdays from Monday; cron from Sunday. Pass days by name."""
    minute, hour, day, month, day_of_week = expression.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_day_names(day_of_week),
        timezone=dt.UTC,
    )


def _day_names(field: str) -> str:
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            low, high = 0, 6
        else:
            first, dash, last = span.partition("-")
            low = _day(first)
            high = _day(last) if dash else low
            if dash and _day(last) == 0 and last not in ("0", "sun"):
                high = 7  # "5-7": Friday to Sunday
        days.update(value % 7 for value in range(low, high + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _day(text: str) -> int:
    lowered = text.lower()
    if lowered in _DAY_NAMES:
        return _DAY_NAMES.index(lowered)
    return int(text) % 7  # 7 is Sunday too
