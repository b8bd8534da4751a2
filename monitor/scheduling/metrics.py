"""Prometheus metrics of the scheduler, on a registry the caller owns.

Names follow ``driftline_monitor_<what>_<unit>``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["SchedulerMetrics"]

_RUN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class SchedulerMetrics:
    """Runs, their duration, lag behind schedule, and leadership."""

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
