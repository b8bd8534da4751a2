"""Prometheus metrics of a collector, on a registry the caller owns.

Spool and queue sizes are read at scrape time by a custom collector, so the write path only
increments counters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Backlog", "CollectorMetrics"]

_WRITE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits to be written, read at scrape time."""

    queue_batches: int
    spool_bytes: int
    spool_quota_bytes: int
    spool_records: int
    oldest_unwritten_at: float | None
    """Wall time (epoch seconds) the oldest unwritten record was spooled, if any."""


class CollectorMetrics:
    """Every collector metric, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.received = Counter(
            "driftline_collector_records_received",
            "Records accepted, by source (tap, ingest).",
            ("source",),
            registry=registry,
        )
        self.written = Counter(
            "driftline_collector_records_written",
            "Records written to the store (duplicates of stored ones included).",
            registry=registry,
        )
        self.rejected = Counter(
            "driftline_collector_records_rejected",
            "Records that can never be written (unknown model, not fitting its schema), by reason.",
            ("reason",),
            registry=registry,
        )
        self.dropped = Counter(
            "driftline_collector_records_dropped",
            "Records lost before the spool (queue full, spool quota reached), by reason.",
            ("reason",),
            registry=registry,
        )
        self.write_seconds = Histogram(
            "driftline_collector_write_duration_seconds",
            "Time of one bulk write to the store.",
            buckets=_WRITE_BUCKETS,
            registry=registry,
        )

    def track_backlog(self, backlog: Callable[[], Backlog]) -> None:
        """Report queue and spool sizes, and the age of the oldest unwritten record."""
        self.registry.register(_BacklogCollector(backlog))


class _BacklogCollector(Collector):
    def __init__(self, backlog: Callable[[], Backlog]) -> None:
        self._backlog = backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._backlog()
        yield GaugeMetricFamily(
            "driftline_collector_queue_batches",
            "Tapped batches waiting in memory for the spool.",
            value=now.queue_batches,
        )
        yield GaugeMetricFamily(
            "driftline_collector_spool_bytes",
            "Bytes the spool holds on disk.",
            value=now.spool_bytes,
        )
        yield GaugeMetricFamily(
            "driftline_collector_spool_quota_bytes",
            "Disk quota of the spool; appends beyond it are refused.",
            value=now.spool_quota_bytes,
        )
        yield GaugeMetricFamily(
            "driftline_collector_spool_records",
            "Record batches in the spool not yet written to the store.",
            value=now.spool_records,
        )
        age = 0.0 if now.oldest_unwritten_at is None else time.time() - now.oldest_unwritten_at
        yield GaugeMetricFamily(
            "driftline_collector_oldest_unwritten_age_seconds",
            "Age of the oldest record batch not yet in the store (0 when none).",
            value=max(age, 0.0),
        )
