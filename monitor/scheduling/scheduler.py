"""The scheduler: one APScheduler job per enabled monitor, kept in step with the store.

Each job fires on its monitor's schedule, shifted by ``settle`` so that the window that just
ended is complete, and computes every due window (:func:`~monitor.scheduling.windows.due_windows`)
after the newest stored result. Jobs are coalesced, never run two instances at once, and
get a misfire grace time; since the due windows follow from the stored results, a job that
was missed, or a process that took over from a dead leader, computes exactly the windows
still missing.

A refresh job re-reads the enabled monitors every few seconds, so monitors created,
changed or deleted through the API or a project sync are picked up without a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor as Pool
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from monitor.project.monitors import MonitorSpec
from monitor.scheduling.calendar import ScheduleCalendar
from monitor.scheduling.metrics import SchedulerMetrics
from monitor.scheduling.runner import MonitorRunner, RunReport
from monitor.scheduling.windows import due_windows
from storage.repositories.monitors import MonitorInfo, get_monitor, last_window_ends, list_monitors
from storage.types import utc_now

__all__ = ["MonitorScheduler", "PeriodicJob"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """Housekeeping the leader runs besides the monitors (retention, ...)."""

    name: str
    every: dt.timedelta
    run: Callable[[], object]


class _Shifted(BaseTrigger):  # type: ignore[misc]
    """Fires ``offset`` after each fire time of ``base``, on ``base``'s own grid.

    The next fire time is always the grid's next instant after the previous run, never the
    previous run plus the interval: a job's first run is a catch-up at an arbitrary moment
    (``next_run_time=now``), and an interval counted from it would put every later run off
    the grid, computing each window up to a whole period late.
    """

    def __init__(self, base: BaseTrigger, offset: dt.timedelta) -> None:
        self.base = base
        self.offset = offset

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        after = now
        if previous_fire_time is not None:
            after = max(now, previous_fire_time + dt.timedelta(microseconds=1))
        fire = self.base.get_next_fire_time(None, after - self.offset)
        return None if fire is None else fire + self.offset

    def __str__(self) -> str:
        return f"{self.base} + {self.offset}"


class MonitorScheduler:
    """Schedules the store's enabled monitors.

    Parameters
    ----------
    engine, runner
        The store and the runner that computes and stores each window.
    settle
        How long after a window's end it is computed.
    max_windows
        Most windows one run of a monitor computes when catching up.
    refresh
        How often the list of monitors is re-read.
    workers
        Monitors run at the same time.
    misfire_grace
        How late a job may still start after its fire time (later: it waits for the next).
    leading
        Asked before each window: False stops the run (this process lost leadership).
    periodic
        Housekeeping jobs.
    """

    def __init__(
        self,
        engine: Engine,
        runner: MonitorRunner,
        *,
        settle: dt.timedelta = dt.timedelta(seconds=15),
        max_windows: int = 100,
        refresh: dt.timedelta = dt.timedelta(seconds=5),
        workers: int = 4,
        misfire_grace: dt.timedelta = dt.timedelta(minutes=5),
        leading: Callable[[], bool] = lambda: True,
        periodic: Sequence[PeriodicJob] = (),
        metrics: SchedulerMetrics | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.runner = runner
        self.settle = settle
        self.max_windows = max_windows
        self.refresh_interval = refresh
        self.workers = workers
        self.misfire_grace = misfire_grace
        self.leading = leading
        self.periodic = tuple(periodic)
        self.metrics = metrics
        self.clock = clock
        self._scheduler: BackgroundScheduler | None = None
        self._jobs: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- computing windows -------------------------------------------------------------

    def run_due(self, monitor: MonitorInfo, *, now: dt.datetime | None = None) -> list[RunReport]:
        """Compute every due window of one monitor; stops early if leadership is lost."""
        now = self.clock() if now is None else now
        spec = MonitorSpec.model_validate(monitor.config)
        last_end = last_window_ends(self.engine, [monitor.id]).get(monitor.id)
        windows = due_windows(
            spec, now=now, last_end=last_end, settle=self.settle, max_windows=self.max_windows
        )
        reports = []
        for window in windows:
            if not self.leading():
                logger.warning("not the leader any more: monitor %s stops", monitor.name)
                break
            reports.append(self.runner.run(monitor, window))
        return reports

    def run_all_due(self, *, now: dt.datetime | None = None) -> list[RunReport]:
        """One pass over every enabled monitor, ``workers`` at a time; returns every run."""
        started = time.perf_counter()
        now = self.clock() if now is None else now
        monitors = list_monitors(self.engine, enabled=True)
        with Pool(max_workers=self.workers, thread_name_prefix="monitor") as pool:
            batches = list(pool.map(lambda m: self.run_due(m, now=now), monitors))
        if self.metrics is not None:
            self.metrics.cycle_seconds.set(time.perf_counter() - started)
        return [report for batch in batches for report in batch]

    # -- the live schedule ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the schedule is running in this process."""
        return self._scheduler is not None

    def start(self) -> None:
        """Start the jobs (the caller has become the leader)."""
        with self._lock:
            if self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(
                executors={"default": ThreadPoolExecutor(self.workers)},
                job_defaults={
                    "coalesce": True,
                    "max_instances": 1,
                    "misfire_grace_time": int(self.misfire_grace.total_seconds()),
                },
                timezone=dt.UTC,
            )
            scheduler.add_job(
                self.refresh,
                IntervalTrigger(seconds=self.refresh_interval.total_seconds(), timezone=dt.UTC),
                id="__refresh__",
                next_run_time=self.clock(),
            )
            for job in self.periodic:
                scheduler.add_job(
                    _guarded(job),
                    IntervalTrigger(seconds=job.every.total_seconds(), timezone=dt.UTC),
                    id=f"__{job.name}__",
                    next_run_time=self.clock() + dt.timedelta(seconds=30),
                )
            self._jobs = {}
            scheduler.start()
            self._scheduler = scheduler
        if self.metrics is not None:
            self.metrics.leader.set(1)
        logger.info("scheduler started")

    def stop(self, *, wait: bool = True) -> None:
        """Stop the jobs; with ``wait``, let running ones finish."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
            self._jobs = {}
        if scheduler is not None:
            scheduler.shutdown(wait=wait)
            logger.info("scheduler stopped")
        if self.metrics is not None:
            self.metrics.leader.set(0)
            self.metrics.scheduled.set(0)

    def refresh(self) -> None:
        """Add, change and remove jobs to match the enabled monitors in the store."""
        try:
            monitors = {m.name: m for m in list_monitors(self.engine, enabled=True)}
        except Exception as exc:
            logger.warning("cannot read the monitors, keeping the current jobs: %s", exc)
            return
        with self._lock:
            scheduler = self._scheduler
            if scheduler is None:
                return
            for name in [n for n in self._jobs if n not in monitors]:
                scheduler.remove_job(_job_id(name))
                del self._jobs[name]
                logger.info("monitor %s unscheduled", name)
            for name, monitor in monitors.items():
                digest = _digest(monitor.config)
                if self._jobs.get(name) == digest:
                    continue
                try:
                    trigger = self._trigger(monitor)
                except ValueError as exc:
                    logger.error("monitor %s cannot be scheduled: %s", name, exc)
                    continue
                scheduler.add_job(
                    self._tick,
                    trigger,
                    args=(name,),
                    id=_job_id(name),
                    replace_existing=True,
                    next_run_time=self.clock(),  # catch up at once, then on schedule
                )
                action = "rescheduled" if name in self._jobs else "scheduled"
                self._jobs[name] = digest
                logger.info("monitor %s %s (%s)", name, action, trigger)
            if self.metrics is not None:
                self.metrics.scheduled.set(len(self._jobs))

    def _trigger(self, monitor: MonitorInfo) -> BaseTrigger:
        spec = MonitorSpec.model_validate(monitor.config)
        return _Shifted(ScheduleCalendar(spec.schedule).trigger(), self.settle)

    def _tick(self, name: str) -> None:
        if not self.leading():
            return
        try:
            monitor = get_monitor(self.engine, name)
        except Exception as exc:
            logger.warning("monitor %s skipped: %s", name, exc)
            return
        if monitor.enabled:
            self.run_due(monitor)


def _guarded(job: PeriodicJob) -> Callable[[], None]:
    def run() -> None:
        try:
            job.run()
        except DBAPIError as error:  # the store is busy or away: one line, the next run retries
            logger.warning("%s failed, retried at its next run: %s", job.name, error.orig)
        except Exception:
            logger.exception("%s failed", job.name)

    return run


def _job_id(name: str) -> str:
    return f"monitor:{name}"


def _digest(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
