"""Prometheus metrics of ``driftline writer``, on a registry the caller owns.

The lag is read at scrape time from what the workers last saw: the stream's messages not yet
delivered to the consumer (``num_pending`` of the last message fetched) and the age of the
last batch written (stream time to commit). Both are 0 when the workers find nothing to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["WriterMetrics"]

_WRITE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WriterMetrics:
    """Every writer metric, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.batches = Counter(
            "driftline_writer_batches_written",
            "Batches (stream messages) stored and acknowledged.",
            registry=registry,
        )
        self.records = Counter(
            "driftline_writer_records_written",
            "Records of the batches stored (records already stored included).",
            registry=registry,
        )
        self.inserted = Counter(
            "driftline_writer_records_inserted",
            "Records that were new to the store (the others were stored before: a redelivery).",
            registry=registry,
        )
        self.redeliveries = Counter(
            "driftline_writer_redeliveries",
            "Batches received again after a writer failed, timed out or handed them back.",
            registry=registry,
        )
        self.naks = Counter(
            "driftline_writer_batches_returned",
            "Batches handed back to the stream for later (store unavailable, shutting down).",
            ("reason",),
            registry=registry,
        )
        self.rejected = Counter(
            "driftline_writer_records_rejected",
            "Records the store can never take (unknown model, not fitting its schema, "
            "malformed), by reason; their batches are not delivered again.",
            ("reason",),
            registry=registry,
        )
        self.write_seconds = Histogram(
            "driftline_writer_write_duration_seconds",
            "Time to store one fetched set of batches (decode, insert, commit).",
            buckets=_WRITE_BUCKETS,
            registry=registry,
        )
        self._lock = threading.Lock()
        self._pending = 0
        self._lag_seconds = 0.0
        registry.register(_LagCollector(self))

    def saw(self, *, pending: int, stored_at: float | None) -> None:
        """Record the lag seen by a worker: messages not yet delivered, and the stream time of
        the batch just written (None when the worker found nothing to do)."""
        with self._lock:
            self._pending = pending
            self._lag_seconds = 0.0 if stored_at is None else max(time.time() - stored_at, 0.0)

    def lag(self) -> tuple[int, float]:
        """The last lag seen: messages, seconds."""
        with self._lock:
            return self._pending, self._lag_seconds


class _LagCollector(Collector):
    def __init__(self, metrics: WriterMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending, seconds = self._metrics.lag()
        yield GaugeMetricFamily(
            "driftline_writer_lag_messages",
            "Batches in the stream not yet delivered to the writers (as last seen).",
            value=pending,
        )
        yield GaugeMetricFamily(
            "driftline_writer_lag_seconds",
            "Time from a batch's arrival in the stream to its commit (the last one written).",
            value=seconds,
        )
