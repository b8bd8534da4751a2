"""Observing finished requests: Prometheus metrics and the tap, off the response path.

The batcher calls :meth:`Observer.batch_hook`'s function on the event loop after it has
resolved a batch's futures; requests refused before batching are reported through
:meth:`Observer.refused`. Neither blocks: metrics are in-memory counters and the tap only
queues.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.batcher import BatchDone, Computed, Pending
from serving.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    PredictionError,
    QueueFullError,
)
from serving.metrics import ServingMetrics
from serving.model import LoadedModel
from serving.tap import RequestStatus, Tap, TappedBatch

__all__ = ["Observer", "status_of"]


def status_of(error: BaseException | None) -> RequestStatus:
    """The tapped outcome of a request that ended with ``error`` (None: answered)."""
    if error is None:
        return "ok"
    if isinstance(error, InvalidRequestError | PredictionError):
        return "bad_input"
    if isinstance(error, DeadlineExceededError):
        return "timeout"
    if isinstance(error, QueueFullError):
        return "overloaded"
    return "error"


class Observer:
    """Counts, times and taps every request of every model."""

    def __init__(self, metrics: ServingMetrics, tap: Tap) -> None:
        self._metrics = metrics
        self._tap = tap

    def batch_hook(self, model: LoadedModel) -> BatchDone:
        """The function the model's batcher calls after each batch."""
        config = model.config
        labels = (config.name, config.version)
        metrics = self._metrics
        ok = metrics.requests.labels(*labels, "ok")
        request_seconds = metrics.request_seconds.labels(*labels)
        queue_seconds = metrics.queue_seconds.labels(*labels)
        compute_seconds = metrics.compute_seconds.labels(*labels)
        batch_rows = metrics.batch_rows.labels(*labels)
        roles: dict[str, str] = dict(model.runtime.roles.items())
        names = model.config.feature_names

        def done(batch: list[Pending], computed: Computed, seconds: float) -> None:
            whole = len(batch)
            batch = [pending for pending in batch if not pending.abandoned]
            for pending in batch:
                pending.observed = True
            now = time.perf_counter()
            compute_seconds.observe(seconds)
            rows = sum(pending.rows for pending in batch)
            batch_rows.observe(rows)
            latencies = np.fromiter((now - p.arrived for p in batch), np.float64, len(batch))
            for pending, latency in zip(batch, latencies, strict=True):
                request_seconds.observe(latency)
                queue_seconds.observe(pending.dispatched - pending.arrived)
            if computed.outputs is not None and len(batch) == whole:
                ok.inc(len(batch))
                self._tap.submit(
                    _tapped(
                        config.name,
                        config.version,
                        batch,
                        computed.features,
                        computed.outputs,
                        latencies,
                        names,
                        roles,
                    )
                )
                return
            self._mixed(model, batch, computed, latencies, roles)

        return done

    def refused(
        self,
        model: LoadedModel,
        *,
        request_id: str,
        features: NDArray[Any] | None,
        error: BaseException,
        received_at: float,
        arrived: float,
    ) -> None:
        """Count and tap a request that failed before or instead of its batch."""
        config = model.config
        status = status_of(error)
        latency = time.perf_counter() - arrived
        self._metrics.requests.labels(config.name, config.version, status).inc()
        self._metrics.request_seconds.labels(config.name, config.version).observe(latency)
        rows = 0 if features is None else len(features)
        self._tap.submit(
            TappedBatch(
                model=config.name,
                version=config.version,
                request_ids=(request_id,),
                row_counts=np.array([rows], dtype=np.int64),
                features=features,
                feature_names=config.feature_names,
                outputs={},
                received_at=np.array([received_at]),
                latency_seconds=np.array([latency]),
                statuses=(status,),
                errors=(str(error),),
            )
        )

    def _mixed(
        self,
        model: LoadedModel,
        batch: list[Pending],
        computed: Computed,
        latencies: NDArray[np.float64],
        roles: dict[str, str],
    ) -> None:
        """Report a batch whose requests were run one by one: answered and failed apart."""
        config = model.config
        labels = (config.name, config.version)
        latency = dict(zip(map(id, batch), latencies.tolist(), strict=True))
        answered: list[tuple[Pending, dict[str, NDArray[Any]]]] = []
        failed: list[tuple[Pending, BaseException]] = []
        for pending in batch:
            if isinstance(pending.result, dict):
                answered.append((pending, pending.result))
            elif isinstance(pending.result, BaseException):
                failed.append((pending, pending.result))
        if answered:
            self._metrics.requests.labels(*labels, "ok").inc(len(answered))
            requests = [pending for pending, _ in answered]
            outputs = {
                name: np.concatenate([result[name] for _, result in answered])
                for name in answered[0][1]
            }
            times = np.array([latency[id(pending)] for pending in requests])
            self._tap.submit(
                _tapped(
                    config.name,
                    config.version,
                    requests,
                    _rows(requests),
                    outputs,
                    times,
                    config.feature_names,
                    roles,
                )
            )
        if not failed:
            return
        statuses: tuple[RequestStatus, ...] = tuple(status_of(e) for _, e in failed)
        for status in statuses:
            self._metrics.requests.labels(*labels, status).inc()
        if errors := statuses.count("error"):
            self._metrics.inference_errors.labels(*labels).inc(errors)
        requests = [pending for pending, _ in failed]
        self._tap.submit(
            TappedBatch(
                model=config.name,
                version=config.version,
                request_ids=tuple(pending.request_id for pending in requests),
                row_counts=np.array([pending.rows for pending in requests], dtype=np.int64),
                features=_rows(requests),
                feature_names=config.feature_names,
                outputs={},
                received_at=np.array([pending.received_at for pending in requests]),
                latency_seconds=np.array([latency[id(pending)] for pending in requests]),
                statuses=statuses,
                errors=tuple(str(error) for _, error in failed),
            )
        )


def _tapped(
    model: str,
    version: str,
    batch: list[Pending],
    features: NDArray[Any] | None,
    outputs: dict[str, NDArray[Any]],
    latencies: NDArray[np.float64],
    feature_names: tuple[str, ...],
    roles: dict[str, str],
) -> TappedBatch:
    # List comprehensions, not generators into np.fromiter: this runs on the event loop for
    # every batch, and a generator (with the ``rows`` property) costs twice as much.
    n = len(batch)
    return TappedBatch(
        model=model,
        version=version,
        request_ids=tuple([p.request_id for p in batch]),
        row_counts=np.array([len(p.features) for p in batch], dtype=np.int64),
        features=features,
        feature_names=feature_names,
        outputs=outputs,
        received_at=np.array([p.received_at for p in batch], dtype=np.float64),
        latency_seconds=latencies,
        statuses=_all_ok(n),
        errors=(None,) * n,
        roles=roles,
    )


def _rows(batch: list[Pending]) -> NDArray[Any]:
    return np.concatenate([p.features for p in batch]) if len(batch) > 1 else batch[0].features


def _all_ok(n: int) -> tuple[RequestStatus, ...]:
    ok: RequestStatus = "ok"
    return (ok,) * n
