"""Use of bounded resources: queue depth, CPU, memory, spool size, database write lag.

Inputs are samples of a process metric over the window (a scalar is one sample), e.g. the
sidecar's queue depth scraped every 15 s. Each sample is turned into a utilisation
u = value / limit. A single high sample is a blip; these checks ask whether the resource
was high for a **sustained share** s of the window:

- :func:`check_queue` scores the share of samples with depth / capacity ≥ ``saturation``
  and alarms when that share reaches ``sustained_share`` (warning from ``warning_share``);
- :func:`check_cpu`, :func:`check_memory`, :func:`check_spool` and :func:`check_write_lag`
  score the *sustained utilisation*: the highest level that at least a share s of the
  samples reach — the order statistic of rank n − ⌈s·n⌉ (0-based, ascending), the median for
  s = 0.5, the latest-only value for one sample — and alarm at ``alarm_at`` of the limit
  (warning at ``warning_at``). "Sustained utilisation ≥ a" and "a share ≥ s of samples at or
  above a" are the same statement, so both families read alike.

Limits are the operator's: CPU as a share of the cores allotted (1.0 = all of them), RSS
against the container's memory limit, spool bytes against the spool quota, write lag
against the longest acceptable lag (seconds).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.failures._gate import (
    as_samples,
    check_same_length,
    finite_or_none,
    fraction,
    number,
    span_of,
)
from detectors.outcome import DetectorResult, JSONValue, Span, Status, status_of

__all__ = ["check_cpu", "check_memory", "check_queue", "check_spool", "check_write_lag"]


def sustained(utilisation: NDArray[np.float64], share: float) -> float:
    """Highest level reached by at least ``share`` of the samples (NaN when there are none)."""
    n = len(utilisation)
    if n == 0:
        return math.nan
    rank = n - max(math.ceil(share * n), 1)
    return float(np.partition(utilisation, rank)[rank])


def check_queue(
    depth: ArrayLike,
    *,
    capacity: ArrayLike,
    saturation: float = 0.9,
    sustained_share: float = 0.5,
    warning_share: float = 0.2,
    window: Span | None = None,
) -> DetectorResult:
    """Was the queue at least ``saturation`` full in a sustained share of the samples?

    Parameters
    ----------
    depth
        Queue depth samples (items waiting).
    capacity
        The queue's capacity: one number, or one per sample.
    saturation
        Fill level counted as saturated, in (0, 1].
    sustained_share, warning_share
        Shares of saturated samples giving an alarm and a warning.
    window
        Passed through to the result.

    Returns
    -------
    DetectorResult
        ``health.queue_saturation``: score = share of saturated samples, threshold =
        ``sustained_share``; details hold the peak and latest fill levels.

    Examples
    --------
    >>> result = check_queue([10, 950, 990, 1000, 980, 20], capacity=1000)
    >>> result.status.value, round(result.score, 3), result.details["peak_fill"]
    ('alarm', 0.667, 1.0)
    """
    level = fraction(saturation, "saturation")
    alarm_share = fraction(sustained_share, "sustained_share")
    warn_share = fraction(warning_share, "warning_share")
    if warn_share > alarm_share:
        msg = f"warning_share must be <= sustained_share, got {warn_share:g} > {alarm_share:g}"
        raise InvalidInputError(msg)
    samples = as_samples(depth, "depth")
    limits = as_samples(capacity, "capacity")
    if len(limits) != 1:
        check_same_length("capacity", limits, "depth", samples)
    if (limits <= 0).any():
        raise InvalidInputError("capacity: expected positive capacities, got 0")
    fill = samples / limits
    span = span_of(window, len(samples))
    if not len(fill):
        return DetectorResult(
            "health.queue_saturation",
            Status.INSUFFICIENT_DATA,
            math.nan,
            alarm_share,
            span,
            {"samples": 0},
        )
    share = float(np.count_nonzero(fill >= level)) / len(fill)
    details: dict[str, JSONValue] = {
        "samples": len(fill),
        "saturation": level,
        "peak_fill": float(fill.max()),
        "latest_fill": float(fill[-1]),
        "warning_share": warn_share,
    }
    status = status_of(share, threshold=alarm_share, warning=warn_share)
    return DetectorResult("health.queue_saturation", status, share, alarm_share, span, details)


def _utilisation(
    resource: str,
    values: ArrayLike,
    limit: float,
    *,
    limit_name: str,
    alarm_at: float,
    warning_at: float,
    sustained_share: float,
    window: Span | None,
) -> DetectorResult:
    ceiling = number(limit, limit_name, low=0.0, strict=True)
    alarm = number(alarm_at, "alarm_at", low=0.0, strict=True)
    warn = number(warning_at, "warning_at", low=0.0, strict=True)
    if warn > alarm:
        raise InvalidInputError(f"warning_at must be <= alarm_at, got {warn:g} > {alarm:g}")
    share = fraction(sustained_share, "sustained_share")
    samples = as_samples(values, resource)
    name = f"health.{resource}"
    span = span_of(window, len(samples))
    if not len(samples):
        return DetectorResult(name, Status.INSUFFICIENT_DATA, math.nan, alarm, span, {"samples": 0})
    level = sustained(samples / ceiling, share)
    details: dict[str, JSONValue] = {
        "samples": len(samples),
        "limit": ceiling,
        "sustained_value": finite_or_none(level * ceiling),
        "peak": float(samples.max()),
        "latest": float(samples[-1]),
        "sustained_share": share,
        "warning_at": warn,
    }
    status = status_of(level, threshold=alarm, warning=warn)
    return DetectorResult(name, status, level, alarm, span, details)


def check_cpu(
    cpu_share: ArrayLike,
    *,
    limit: float = 1.0,
    alarm_at: float = 0.9,
    warning_at: float = 0.75,
    sustained_share: float = 0.5,
    window: Span | None = None,
) -> DetectorResult:
    """CPU use (share of the allotted cores) sustained over the window against ``limit``.

    Returns
    -------
    DetectorResult
        ``health.cpu``: score = sustained utilisation (share of ``limit``), threshold =
        ``alarm_at``.

    Examples
    --------
    >>> check_cpu([0.5, 0.95, 0.97, 0.92, 0.4]).status.value
    'alarm'
    >>> check_cpu([0.5, 0.95, 0.3, 0.2, 0.4]).status.value
    'ok'
    """
    return _utilisation(
        "cpu",
        cpu_share,
        limit,
        limit_name="limit",
        alarm_at=alarm_at,
        warning_at=warning_at,
        sustained_share=sustained_share,
        window=window,
    )


def check_memory(
    rss_bytes: ArrayLike,
    *,
    limit_bytes: float,
    alarm_at: float = 0.9,
    warning_at: float = 0.75,
    sustained_share: float = 0.5,
    window: Span | None = None,
) -> DetectorResult:
    """Resident memory sustained over the window against the memory limit.

    Returns
    -------
    DetectorResult
        ``health.memory``: score = sustained RSS as a share of ``limit_bytes``, threshold =
        ``alarm_at``.

    Examples
    --------
    >>> result = check_memory([3.1e9, 3.3e9, 3.4e9], limit_bytes=4e9)
    >>> result.status.value, result.score
    ('warning', 0.825)
    """
    return _utilisation(
        "memory",
        rss_bytes,
        limit_bytes,
        limit_name="limit_bytes",
        alarm_at=alarm_at,
        warning_at=warning_at,
        sustained_share=sustained_share,
        window=window,
    )


def check_spool(
    spool_bytes: ArrayLike,
    *,
    quota_bytes: float,
    alarm_at: float = 0.9,
    warning_at: float = 0.75,
    sustained_share: float = 0.5,
    window: Span | None = None,
) -> DetectorResult:
    """Size of the collector's durable spool against its quota (a full spool drops records).

    Returns
    -------
    DetectorResult
        ``health.spool``: score = sustained size as a share of ``quota_bytes``, threshold =
        ``alarm_at``.

    Examples
    --------
    >>> check_spool(9.5e8, quota_bytes=1e9).status.value
    'alarm'
    """
    return _utilisation(
        "spool",
        spool_bytes,
        quota_bytes,
        limit_name="quota_bytes",
        alarm_at=alarm_at,
        warning_at=warning_at,
        sustained_share=sustained_share,
        window=window,
    )


def check_write_lag(
    lag_seconds: ArrayLike,
    *,
    max_seconds: float,
    alarm_at: float = 1.0,
    warning_at: float = 0.5,
    sustained_share: float = 0.5,
    window: Span | None = None,
) -> DetectorResult:
    """Database write lag (record received to record stored) against the longest acceptable.

    The thresholds are shares of ``max_seconds``: by default an alarm once the lag sustains
    ``max_seconds`` itself, a warning from half of it.

    Returns
    -------
    DetectorResult
        ``health.write_lag``: score = sustained lag as a share of ``max_seconds``, threshold
        = ``alarm_at``.

    Examples
    --------
    >>> result = check_write_lag([2.0, 31.0, 45.0, 40.0], max_seconds=30)
    >>> result.status.value, result.details["sustained_value"]
    ('alarm', 40.0)
    """
    return _utilisation(
        "write_lag",
        lag_seconds,
        max_seconds,
        limit_name="max_seconds",
        alarm_at=alarm_at,
        warning_at=warning_at,
        sustained_share=sustained_share,
        window=window,
    )
