"""Keeping the scheduler running in exactly one process: the election loop.

A thread polls for leadership every ``poll`` seconds. The process that wins starts the
scheduler; while it leads, each poll checks it still holds the lock and stops the scheduler
the moment it does not. Runs ask :meth:`Election.leading` (a flag, no database round trip)
before each window, so a process that lost the lock stops within one poll interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from monitor.scheduling.leader import Leadership
from monitor.scheduling.metrics import SchedulerMetrics
from monitor.scheduling.scheduler import MonitorScheduler

__all__ = ["Election"]

logger = logging.getLogger(__name__)


class Election:
    """Runs ``scheduler`` while this process holds ``leadership``."""

    def __init__(
        self,
        leadership: Leadership,
        scheduler: MonitorScheduler,
        *,
        poll: dt.timedelta = dt.timedelta(seconds=1),
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self.leadership = leadership
        self.scheduler = scheduler
        self.poll = poll
        self.metrics = metrics
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        scheduler.leading = self._leading.is_set

    def leading(self) -> bool:
        """Whether this process leads (as of the last poll)."""
        return self._leading.is_set()

    def start(self) -> None:
        """Start polling in a background thread; the first attempt happens at once."""
        self._thread = threading.Thread(target=self._loop, name="leader-election", daemon=True)
        self._thread.start()

    def step(self) -> bool:
        """One poll: acquire, keep or lose leadership; returns whether this process leads."""
        if self._leading.is_set():
            if not self.leadership.check():
                self._leading.clear()
                logger.warning("lost the scheduler lock; another monitor process takes over")
                self.scheduler.stop(wait=False)
            return self._leading.is_set()
        try:
            won = self.leadership.acquire()
        except Exception as exc:
            logger.warning("cannot reach the database to elect a scheduler: %s", exc)
            return False
        if won:
            self._leading.set()
            logger.info("this process is the scheduling leader")
            self.scheduler.start()
        elif self.metrics is not None:
            self.metrics.leader.set(0)
        return won

    def stop(self) -> None:
        """Stop polling, stop the scheduler (letting running windows finish), release."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll.total_seconds() + 5)
        self._leading.clear()
        self.scheduler.stop(wait=True)
        self.leadership.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                logger.exception("leader election step failed")
            self._stop.wait(self.poll.total_seconds())
