"""Metrics over all workers: ``prometheus_client``'s multiprocess mode.

The supervisor gives every worker one directory for the run (``PROMETHEUS_MULTIPROC_DIR``);
counters and histograms then live in memory-mapped files there, and a scrape of any worker
sums the files of all of them, those of dead workers included, so totals never go back
when a worker is restarted.

Gauges read at scrape time by custom collectors (queue depths, loaded versions, a recording
collector's backlog) exist only inside their worker. :class:`GaugeMirror` copies them every
second or so into multiprocess gauges of the same names, which only count live workers:
summed (``livesum``), except info-style and age gauges, where the largest value is the
answer (``livemax``). A series that disappears (a retired version) reads 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["ENVIRONMENT_VARIABLE", "GaugeMirror", "exposition_registry", "multiprocess_dir"]

logger = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Read by ``prometheus_client`` when it is imported: set before a worker starts."""

_MAX_SUFFIXES = ("_info", "_age_seconds")


def multiprocess_dir() -> str:
    """The run's metrics directory, as the supervisor set it for this worker.

    Raises
    ------
    RuntimeError
        If this process was not started with one.
    """
    path = os.environ.get(ENVIRONMENT_VARIABLE)
    if not path:
        raise RuntimeError(f"{ENVIRONMENT_VARIABLE} is not set: not a worker process")
    return path


def exposition_registry(path: str) -> CollectorRegistry:
    """A registry that reads every worker's metrics from ``path`` at scrape time."""
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return registry


class GaugeMirror:
    """Copies the gauges of a worker's own registry into the shared multiprocess files."""

    def __init__(self, source: CollectorRegistry, *, interval_seconds: float) -> None:
        self._source = source
        self._interval = interval_seconds
        self._sink = CollectorRegistry(auto_describe=False)
        self._gauges: dict[str, Gauge] = {}
        self._last: set[tuple[str, tuple[str, ...]]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Refresh on the running loop until :meth:`stop`."""
        self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def refresh(self) -> None:
        """Copy every live gauge once."""
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for name, documentation, labels, values, value in self._samples():
            gauge = self._gauge(name, documentation, labels)
            (gauge.labels(*values) if labels else gauge).set(value)
            seen.add((name, values))
        for name, values in self._last - seen:
            gauge = self._gauges[name]
            (gauge.labels(*values) if values else gauge).set(0)
        self._last = seen

    def _samples(self) -> Iterator[tuple[str, str, tuple[str, ...], tuple[str, ...], float]]:
        for family in self._source.collect():
            if family.type != "gauge":
                continue
            for sample in family.samples:
                labels = tuple(sorted(sample.labels))
                values = tuple(sample.labels[label] for label in labels)
                yield sample.name, family.documentation, labels, values, sample.value

    def _gauge(self, name: str, documentation: str, labels: tuple[str, ...]) -> Gauge:
        gauge = self._gauges.get(name)
        if gauge is None:
            mode = "livemax" if name.endswith(_MAX_SUFFIXES) else "livesum"
            gauge = Gauge(
                name,
                documentation,
                labels,
                registry=self._sink,
                multiprocess_mode=mode,  # type: ignore[arg-type]
            )
            self._gauges[name] = gauge
        return gauge

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                self.refresh()
            except Exception:  # process boundary: a failing collector must not stop serving
                logger.exception("copying the live gauges failed")
