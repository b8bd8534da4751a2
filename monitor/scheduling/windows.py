"""Which windows a monitor computes, and which reference each window is compared with.

Windows follow from the monitor's declaration and the schedule's fire times alone, never
from when a process happened to run, so the live schedule, a monitor process that took
over from another, and a backfill all produce the same windows:

``tumbling``
    Aligned windows ``[k * size, (k + 1) * size)`` since the Unix epoch. A run computes every
    complete window since the last result (at most ``max_windows``, the newest).
``rolling``
    At each fire time ``t``, the window ``[t - size, t)``. A run that missed fire times
    computes only the latest, like a coalesced job.
``since_last_run``
    From the previous fire time (or the end of the last result) to the latest fire time.

A window is due once its end is at least ``settle`` in the past, so that records still in
flight through a collector's spool are in the store when it is read.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from monitor.project.monitors import (
    FixedWindowReference,
    MonitorSpec,
    PreviousWindowReference,
    RollingWindow,
    SameWindowLastWeekReference,
    TumblingWindow,
)
from monitor.scheduling.calendar import EPOCH, ScheduleCalendar

__all__ = ["TimeRange", "backfill_windows", "due_windows", "reference_range"]

_WEEK = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """``start <= t < end``, aware UTC datetimes."""

    start: dt.datetime
    end: dt.datetime

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def due_windows(
    spec: MonitorSpec,
    *,
    now: dt.datetime,
    last_end: dt.datetime | None,
    settle: dt.timedelta = dt.timedelta(0),
    max_windows: int = 100,
) -> list[TimeRange]:
    """The windows a run at ``now`` computes, oldest first.

    Parameters
    ----------
    last_end
        End of the monitor's latest stored window (None before its first result: then
        only the latest window is computed; history is for :func:`backfill_windows`).
    max_windows
        Most windows computed in one run; older ones are left to a backfill.
    """
    until = now - settle
    calendar = ScheduleCalendar(spec.schedule)
    window = spec.window
    if isinstance(window, TumblingWindow):
        latest_end = _floor(until, window.size)
        if last_end is None:
            first_end = latest_end
        else:
            oldest = latest_end - (max_windows - 1) * window.size
            first_end = max(_floor(last_end, window.size) + window.size, oldest)
        return _tumbling(first_end, latest_end, window.size)
    fire = calendar.previous(until)
    if fire is None or (last_end is not None and fire <= last_end):
        return []
    if isinstance(window, RollingWindow):
        return [TimeRange(fire - window.size, fire)]
    start = last_end
    if start is None:
        start = calendar.previous(fire - dt.timedelta(microseconds=1))
        if start is None:
            return []
    return [TimeRange(start, fire)]


def backfill_windows(spec: MonitorSpec, *, start: dt.datetime, end: dt.datetime) -> list[TimeRange]:
    """Every window the schedule produces whose end lies in ``(start, end]``, oldest first.

    Tumbling windows must also begin at or after ``start``; a ``since_last_run`` monitor
    gets one window per pair of consecutive fire times.
    """
    window = spec.window
    if isinstance(window, TumblingWindow):
        first_end = _ceil(start, window.size) + window.size
        return _tumbling(first_end, _floor(end, window.size), window.size)
    fires = list(ScheduleCalendar(spec.schedule).between(start, end))
    if isinstance(window, RollingWindow):
        return [TimeRange(fire - window.size, fire) for fire in fires]
    previous = ScheduleCalendar(spec.schedule).previous(start)
    edges = ([previous] if previous is not None else []) + fires
    return [TimeRange(a, b) for a, b in itertools.pairwise(edges)]


def reference_range(spec: MonitorSpec, window: TimeRange) -> TimeRange | None:
    """The production records a window is compared with (None: no range of records)."""
    reference = spec.reference
    if isinstance(reference, FixedWindowReference):
        return TimeRange(reference.start.astimezone(dt.UTC), reference.end.astimezone(dt.UTC))
    if isinstance(reference, PreviousWindowReference):
        return TimeRange(window.start - (window.end - window.start), window.start)
    if isinstance(reference, SameWindowLastWeekReference):
        return TimeRange(window.start - _WEEK, window.end - _WEEK)
    return None


def _tumbling(first_end: dt.datetime, last_end: dt.datetime, size: dt.timedelta) -> list[TimeRange]:
    out = []
    end = first_end
    while end <= last_end:
        out.append(TimeRange(end - size, end))
        end += size
    return out


def _floor(moment: dt.datetime, size: dt.timedelta) -> dt.datetime:
    return EPOCH + ((moment - EPOCH) // size) * size


def _ceil(moment: dt.datetime, size: dt.timedelta) -> dt.datetime:
    floor = _floor(moment, size)
    return floor if floor == moment else floor + size
