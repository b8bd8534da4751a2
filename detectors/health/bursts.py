"""Error bursts: a short bucket of time (a minute) whose failure rate stands out of its window.

The window [start, end) is cut into buckets of ``bucket_seconds`` from ``start`` (the last
one may be shorter). Per bucket i: nᵢ requests and cᵢ failures (two :func:`numpy.bincount`
passes); over the window N and C. Each bucket is tested against **the rest of the window**
with the one-sided exact conditional test: under a constant failure rate, given the margins,
cᵢ is hypergeometric, p = ``hypergeom.sf(cᵢ − 1, N, C, nᵢ)`` — Fisher's exact test of the
2 × 2 table bucket / rest × failed / not (``fisher_exact(..., alternative="greater")``).
Conditioning on nᵢ makes a traffic spike with an unchanged failure rate no burst.

With k buckets that saw traffic, the p-values are Bonferroni-adjusted (min(1, k·p)), so the
chance of any false burst in a window stays below ``alpha`` (it is lower still: the test is
discrete). A bucket is a **burst** when its adjusted p < ``alpha`` and its failure rate is at
least ``min_ratio`` times the window's.

Rule: ``alarm`` when a burst exists; ``warning`` when a bucket is significant but below
``min_ratio``; ``insufficient_data`` under ``min_count`` requests; else ``ok``. The score is
the ratio of the most significant bucket's failure rate to the window's, the threshold
``min_ratio``. A failure rate raised over the whole window is no burst: that is
:func:`~detectors.failures.check_rate_change`'s to find.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.failures._gate import (
    as_timestamps_us,
    check_same_length,
    epoch_us,
    from_epoch_us,
    integer,
    number,
    probability,
)
from detectors.failures.statuses import FailureKind, as_status_codes, failure_mask
from detectors.outcome import DetectorResult, JSONValue, Span, Status

__all__ = ["MAX_LISTED_BUCKETS", "check_error_bursts"]

#: Per-bucket counts go into the details up to this many buckets (a day of minutes).
MAX_LISTED_BUCKETS = 1440


def _bucket_counts(
    timestamps_us: NDArray[np.int64],
    failed: NDArray[np.bool_],
    start_us: int,
    end_us: int,
    bucket_us: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Requests and failures per bucket; timestamps must lie in [start, end)."""
    if timestamps_us.size:
        first, last = int(timestamps_us.min()), int(timestamps_us.max())
        if first < start_us or last >= end_us:
            outside = first if first < start_us else last
            msg = (
                f"timestamps_us: expected every record in [start, end) = "
                f"[{from_epoch_us(start_us).isoformat()}, {from_epoch_us(end_us).isoformat()}), "
                f"got one at {from_epoch_us(outside).isoformat()}"
            )
            raise InvalidInputError(msg)
    buckets = -(-(end_us - start_us) // bucket_us)
    index = (timestamps_us - start_us) // bucket_us
    requests = np.bincount(index, minlength=buckets)
    failures = np.bincount(index[failed], minlength=buckets)
    return requests.astype(np.int64), failures.astype(np.int64)


def check_error_bursts(
    timestamps_us: ArrayLike,
    statuses: ArrayLike,
    *,
    start: datetime,
    end: datetime,
    kind: FailureKind = "failure",
    bucket_seconds: float = 60.0,
    alpha: float = 0.01,
    min_ratio: float = 2.0,
    min_count: int = 100,
) -> DetectorResult:
    """Find buckets whose failure rate is significantly above the rest of the window's.

    Parameters
    ----------
    timestamps_us
        One timestamp per record, integer microseconds since the epoch (UTC), inside
        [start, end); any order.
    statuses
        One status per record (codes or names).
    start, end
        The window's bounds (timezone-aware); buckets start at ``start``.
    kind
        What counts as a failure: ``"failure"`` (any but ok), ``"error"``, ``"timeout"``,
        ``"bad_input"``.
    bucket_seconds
        Bucket length (a whole number of microseconds).
    alpha
        Family-wise level over the window's buckets (Bonferroni).
    min_ratio
        Smallest ratio of a bucket's failure rate to the window's that makes a burst.
    min_count
        Fewer requests in the window give ``insufficient_data``.

    Returns
    -------
    DetectorResult
        ``health.error_bursts``: score = failure-rate ratio of the most significant bucket,
        threshold = ``min_ratio``; details give that bucket's start, counts and p-values, the
        start of every burst, and per-bucket requests and failures (up to 1440 buckets).

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import UTC, datetime, timedelta
    >>> rng = np.random.default_rng(5)
    >>> start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    >>> start_us = int(start.timestamp()) * 1_000_000
    >>> timestamps = np.sort(rng.integers(start_us, start_us + 3_600_000_000, 36_000))
    >>> failed = rng.random(36_000) < np.where(  # 1 % errors, 20 % in 09:40-09:42
    ...     (timestamps - start_us) // 60_000_000 // 2 == 20, 0.20, 0.01
    ... )
    >>> result = check_error_bursts(
    ...     timestamps, failed.astype(int), start=start, end=start + timedelta(hours=1)
    ... )
    >>> result.status.value, result.details["bursts"]
    ('alarm', ['2026-11-24T09:40:00+00:00', '2026-11-24T09:41:00+00:00'])
    """
    start_us, end_us = epoch_us(start, "start"), epoch_us(end, "end")
    if end_us <= start_us:
        raise InvalidInputError(f"end must be after start, got start={start}, end={end}")
    seconds = number(bucket_seconds, "bucket_seconds", low=0.0, strict=True)
    bucket_us = round(seconds * 1e6)
    if bucket_us < 1 or abs(bucket_us - seconds * 1e6) > 1e-6 * seconds * 1e6:
        raise InvalidInputError(f"bucket_seconds must be whole microseconds, got {seconds!r}")
    level = probability(alpha, "alpha")
    ratio_gate = number(min_ratio, "min_ratio", low=1.0)
    minimum = integer(min_count, "min_count", low=1)
    times = as_timestamps_us(timestamps_us)
    codes = as_status_codes(statuses)
    check_same_length("statuses", codes, "timestamps_us", times)
    requests, failures = _bucket_counts(
        times, failure_mask(codes, kind), start_us, end_us, bucket_us
    )
    n, c = int(requests.sum()), int(failures.sum())
    span = Span(n=n, start=start, end=end)
    details: dict[str, JSONValue] = {
        "kind": kind,
        "bucket_seconds": seconds,
        "buckets": len(requests),
        "requests": n,
        "failures": c,
        "rate": c / n if n else None,
        "alpha": level,
    }
    if len(requests) <= MAX_LISTED_BUCKETS:
        details["bucket_requests"] = requests.tolist()
        details["bucket_failures"] = failures.tolist()
    if n < minimum:
        details["min_count"] = minimum
        return DetectorResult(
            "health.error_bursts", Status.INSUFFICIENT_DATA, math.nan, ratio_gate, span, details
        )
    return _decide(
        requests,
        failures,
        start_us=start_us,
        bucket_us=bucket_us,
        alpha=level,
        min_ratio=ratio_gate,
        span=span,
        details=details,
    )


def _decide(
    requests: NDArray[np.int64],
    failures: NDArray[np.int64],
    *,
    start_us: int,
    bucket_us: int,
    alpha: float,
    min_ratio: float,
    span: Span,
    details: dict[str, JSONValue],
) -> DetectorResult:
    n, c = int(requests.sum()), int(failures.sum())
    busy = requests > 0
    p_values = np.ones(len(requests))
    p_values[busy] = scipy.stats.hypergeom.sf(failures[busy] - 1, n, c, requests[busy])
    adjusted = np.minimum(p_values * int(busy.sum()), 1.0)
    bucket_rate = np.divide(failures, requests, out=np.zeros(len(requests)), where=busy)
    ratio = bucket_rate / (c / n) if c else np.zeros(len(requests))
    significant = adjusted < alpha
    bursts = significant & (ratio >= min_ratio)
    # The most significant bucket; ties (e.g. all p = 1) go to the highest ratio.
    order = np.lexsort((-ratio, adjusted))
    worst = int(order[0])
    if bursts.any():
        worst = int(order[np.flatnonzero(bursts[order])[0]])
    details["worst_bucket"] = {
        "start": from_epoch_us(start_us + worst * bucket_us).isoformat(),
        "index": worst,
        "requests": int(requests[worst]),
        "failures": int(failures[worst]),
        "p_value": float(p_values[worst]),
        "adjusted_p_value": float(adjusted[worst]),
    }
    details["bursts"] = [
        from_epoch_us(start_us + int(i) * bucket_us).isoformat()
        for i in np.flatnonzero(bursts)[:MAX_LISTED_BUCKETS]
    ]
    status = Status.WARNING if significant.any() else Status.OK
    if bursts.any():
        status = Status.ALARM
    return DetectorResult(
        "health.error_bursts", status, float(ratio[worst]), min_ratio, span, details
    )
