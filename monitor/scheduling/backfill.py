"""Backfill: compute a model's monitors over past windows, resumably.

The windows are those the live schedule would have produced over the range
(:func:`~monitor.scheduling.windows.backfill_windows`), so a backfill and the schedule agree
result for result. Windows that already have a result are skipped unless ``recompute`` is
asked, which makes an interrupted backfill resume where it stopped. Streaming detector state
is left alone: past windows computed out of order would corrupt it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from monitor.errors import ConfigError
from monitor.project.monitors import MonitorSpec
from monitor.scheduling.runner import MonitorRunner, RunReport
from monitor.scheduling.windows import TimeRange, backfill_windows
from storage.repositories.monitors import MonitorInfo, get_monitor, list_monitors, result_windows

__all__ = ["BackfillPlan", "plan_backfill", "run_backfill"]


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """The windows to compute, per monitor, and how many were already there."""

    tasks: tuple[tuple[MonitorInfo, TimeRange], ...]
    already_done: int

    def __len__(self) -> int:
        return len(self.tasks)


def plan_backfill(
    engine: Engine,
    model_name: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    monitor_name: str | None = None,
    recompute: bool = False,
) -> BackfillPlan:
    """The windows of the model's monitors (or of one) with an end in ``(start, end]``.

    Raises
    ------
    ConfigError
        If the range is empty or naive, or the model has no such monitor.
    storage.NotFoundError
        If the monitor does not exist.
    """
    for name, moment in (("--from", start), ("--to", end)):
        if moment.tzinfo is None:
            raise ConfigError(f"{name} {moment.isoformat()} needs a timezone, e.g. +00:00 or Z")
    if end <= start:
        raise ConfigError(f"--to {end.isoformat()} must be after --from {start.isoformat()}")
    if monitor_name is not None:
        monitors = [get_monitor(engine, monitor_name)]
        if monitors[0].model_name != model_name:
            watched = monitors[0].model_name
            msg = f"monitor {monitor_name!r} watches model {watched!r}, not {model_name!r}"
            raise ConfigError(msg)
    else:
        monitors = list_monitors(engine, model_name=model_name)
        if not monitors:
            raise ConfigError(f"model {model_name!r} has no monitors to backfill")
    tasks: list[tuple[MonitorInfo, TimeRange]] = []
    done = 0
    for monitor in monitors:
        windows = backfill_windows(MonitorSpec.model_validate(monitor.config), start=start, end=end)
        existing = (
            set()
            if recompute
            else result_windows(engine, monitor.id, start=start - _slack(windows, start), end=end)
        )
        for window in windows:
            if (window.start, window.end) in existing:
                done += 1
            else:
                tasks.append((monitor, window))
    tasks.sort(key=lambda task: (task[1].end, task[0].name))
    return BackfillPlan(tasks=tuple(tasks), already_done=done)


def run_backfill(
    runner: MonitorRunner,
    plan: BackfillPlan,
    *,
    progress: Callable[[RunReport], None] | None = None,
) -> list[RunReport]:
    """Compute every window of the plan in time order; returns what each run stored."""
    reports = []
    for monitor, window in plan.tasks:
        report = runner.run(monitor, window, keep_state=False)
        reports.append(report)
        if progress is not None:
            progress(report)
    return reports


def _slack(windows: Sequence[TimeRange], start: dt.datetime) -> dt.timedelta:
    """Rolling windows may begin before ``start``: widen the lookup of existing results."""
    earliest = min((w.start for w in windows), default=start)
    return max(dt.timedelta(0), start - earliest)
