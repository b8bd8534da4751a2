"""Prometheus metrics of the scheduler, on a registry the caller owns.

Names follow ``driftline_monitor_<what>_<unit>``.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["SchedulerMetrics"]

_RUN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class SchedulerMetrics:
    """Runs, their duration, lag behind schedule, headline scores, and leadership."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.runs = Counter(
            "driftline_monitor_runs",
            "Monitor runs by monitor and outcome (ok, warning, alarm, insufficient_data, error).",
            ("monitor", "status"),
            registry=registry,
        )
        self.run_seconds = Histogram(
            "driftline_monitor_run_duration_seconds",
            "Time one monitor run took: window read, reference, detectors, store.",
            ("kind",),
            buckets=_RUN_BUCKETS,
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "driftline_monitor_lag_seconds",
            "How long after its window became due the monitor's latest result was stored.",
            ("monitor",),
            registry=registry,
        )
        self.score = Gauge(
            "driftline_monitor_score",
            "Headline score of the monitor's newest window: the drifted share of features "
            "(data_drift), the metric's drop (performance), the failure rate (failures), the "
            "headline latency in seconds (health), the headline detector's score "
            "(prediction_drift). Absent while the newest window has no score.",
            ("monitor", "model", "kind"),
            registry=registry,
        )
        self._newest: dict[str, dt.datetime] = {}
        self.leader = Gauge(
            "driftline_monitor_leader",
            "1 while this process schedules the monitors, 0 while it stands by.",
            registry=registry,
        )
        self.cycle_seconds = Gauge(
            "driftline_monitor_last_cycle_duration_seconds",
            "Time the last pass over every due monitor took (refresh and backfill passes).",
            registry=registry,
        )
        self.scheduled = Gauge(
            "driftline_monitor_scheduled_monitors",
            "Enabled monitors with a job in this process's scheduler.",
            registry=registry,
        )

    def observe_run(
        self, monitor: str, kind: str, status: str, seconds: float, lag_seconds: float
    ) -> None:
        """Count one run and record its duration and lag."""
        self.runs.labels(monitor, status).inc()
        self.run_seconds.labels(kind).observe(seconds)
        self.lag_seconds.labels(monitor).set(max(0.0, lag_seconds))

    def observe_score(
        self, monitor: str, model: str, kind: str, window_end: dt.datetime, score: float | None
    ) -> None:
        """Show ``score`` as the monitor's headline, unless a newer window was seen.

        Backfilled past windows leave the gauge alone; a newest window without a score
        (too little data, a failed run) removes the series rather than keep a stale value.
        """
        newest = self._newest.get(monitor)
        if newest is not None and window_end < newest:
            return
        self._newest[monitor] = window_end
        if score is None:
            with contextlib.suppress(KeyError):
                self.score.remove(monitor, model, kind)
        else:
            self.score.labels(monitor, model, kind).set(score)
