"""Prometheus metrics of the inference server, on a registry the caller owns.

Names follow ``driftline_serving_<what>_<unit>``. Queue depth is read from the batchers at
scrape time (a custom collector), so the request path never updates a gauge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ServingMetrics"]

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

QueueDepths = Callable[[], Iterable[tuple[str, str, int]]]
"""Returns ``(model, version, waiting requests)`` for every deployed model version."""
VersionStates = Callable[[], Iterable[tuple[str, str, str]]]
"""Returns ``(model, version, state)`` for every loaded model version."""


class ServingMetrics:
    """Every serving metric, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        labels = ("model", "version")
        self.requests = Counter(
            "driftline_serving_requests",
            "Inference requests by model, version and outcome "
            "(ok, bad_input, error, timeout, overloaded).",
            (*labels, "status"),
            registry=registry,
        )
        self.request_seconds = Histogram(
            "driftline_serving_request_duration_seconds",
            "Time from a request's arrival to its answer.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.queue_seconds = Histogram(
            "driftline_serving_queue_duration_seconds",
            "Time requests waited in the batch queue before their batch started.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.compute_seconds = Histogram(
            "driftline_serving_compute_duration_seconds",
            "Time one batch spent in the model (with pre- and post-processing).",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_rows = Histogram(
            "driftline_serving_batch_size_rows",
            "Rows per model call.",
            labels,
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.inference_errors = Counter(
            "driftline_serving_inference_errors",
            "Model calls that raised (the whole batch or one request of it).",
            labels,
            registry=registry,
        )

    def track_queues(self, queue_depths: QueueDepths) -> None:
        """Report the queue depth of every model, read at scrape time."""
        self.registry.register(_QueueDepthCollector(queue_depths))

    def track_versions(self, version_states: VersionStates) -> None:
        """Report which versions of every model are loaded, and how each is used, read at
        scrape time (``default``, ``addressable``, ``draining`` during a swap)."""
        self.registry.register(_VersionCollector(version_states))


class _QueueDepthCollector(Collector):
    def __init__(self, queue_depths: QueueDepths) -> None:
        self._queue_depths = queue_depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "driftline_serving_queue_depth_requests",
            "Requests waiting for their model right now.",
            labels=("model", "version"),
        )
        for model, version, depth in self._queue_depths():
            family.add_metric((model, version), depth)
        yield family


class _VersionCollector(Collector):
    def __init__(self, version_states: VersionStates) -> None:
        self._version_states = version_states

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "driftline_serving_model_version_info",
            "Loaded model versions (1 each), by state: default (answers requests that name "
            "no version), addressable (only by its version), draining (replaced, finishing "
            "its queued requests).",
            labels=("model", "version", "state"),
        )
        for model, version, state in self._version_states():
            family.add_metric((model, version, state), 1)
        yield family
