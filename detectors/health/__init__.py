"""System health of a model's service, as monitoring detectors.

- :mod:`~detectors.health.quantiles`: sample quantiles with order-statistic intervals;
- :mod:`~detectors.health.latency`: latency quantiles (p50, p95, p99) against SLOs;
- :mod:`~detectors.health.regression`: a latency quantile against a baseline window's;
- :mod:`~detectors.health.throughput`: a drop of traffic against a baseline window;
- :mod:`~detectors.health.absence`: no traffic for too long;
- :mod:`~detectors.health.bursts`: minutes whose failure rate stands out of the window;
- :mod:`~detectors.health.resources`: queue saturation, CPU, memory, spool, write lag.

Every detector returns a :class:`~detectors.outcome.DetectorResult`. Timestamps are int64
microseconds since the epoch (UTC), as the store hands them; ``now`` and window bounds are
timezone-aware datetimes passed in by the caller.
"""

from __future__ import annotations

from detectors.health.absence import check_absence
from detectors.health.bursts import check_error_bursts
from detectors.health.latency import check_latencies, check_latency
from detectors.health.quantiles import QuantileEstimate, minimum_count, quantile_intervals
from detectors.health.regression import check_latency_regression
from detectors.health.resources import (
    check_cpu,
    check_memory,
    check_queue,
    check_spool,
    check_write_lag,
)
from detectors.health.throughput import check_throughput

__all__ = [
    "QuantileEstimate",
    "check_absence",
    "check_cpu",
    "check_error_bursts",
    "check_latencies",
    "check_latency",
    "check_latency_regression",
    "check_memory",
    "check_queue",
    "check_spool",
    "check_throughput",
    "check_write_lag",
    "minimum_count",
    "quantile_intervals",
]
