"""Latency quantiles (p50, p95, p99, …) of a window against their SLOs.

For each quantile q with objective s (seconds), with the estimate and the two-sided
order-statistic interval [l, u] of :mod:`detectors.health.quantiles`:

- ``alarm`` when l > s: the quantile is significantly above its objective. Equivalently the
  window holds significantly more than (1 − q)·n requests slower than s (a one-sided exact
  binomial test at level (1 − confidence)/2), so a handful of slow requests in a small
  window is not an alarm on its own: of 400 requests, 8 slower than the p99 SLO (2 %, where
  1 % are allowed) are a warning, 9 an alarm;
- ``warning`` when only the estimate exceeds s (or no lower bound exists);
- ``insufficient_data`` below ``min_count`` latencies, by default
  :func:`~detectors.health.quantiles.minimum_count` (368 for p99, 72 for p95, 6 for p50);
- ``ok`` otherwise.

Missing latencies (NaN: a failed request has none) are dropped and counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from detectors.errors import InvalidInputError
from detectors.failures._gate import finite_or_none, integer, number, probability, span_of, verdict
from detectors.health.quantiles import (
    QuantileEstimate,
    latencies,
    minimum_count,
    quantile_intervals,
)
from detectors.outcome import DetectorResult, JSONValue, Span, Status

__all__ = ["check_latencies", "check_latency", "detector_name"]


def detector_name(quantile: float) -> str:
    """``"health.latency_p99"`` for 0.99, ``"health.latency_p99_9"`` for 0.999."""
    label = f"{round(100.0 * quantile, 6):g}".replace(".", "_")
    return f"health.latency_p{label}"


def check_latency(
    latency_seconds: ArrayLike,
    *,
    slo_seconds: float,
    quantile: float = 0.99,
    confidence: float = 0.95,
    min_count: int | None = None,
    window: Span | None = None,
) -> DetectorResult:
    """Is the ``quantile`` of the window's latencies significantly above ``slo_seconds``?

    Parameters
    ----------
    latency_seconds
        One latency per record, seconds (NaN = missing).
    slo_seconds
        The objective for this quantile, seconds.
    quantile
        Which quantile, strictly between 0 and 1 (0.99 = p99).
    confidence
        Two-sided level of the order-statistic interval.
    min_count
        Fewer latencies give ``insufficient_data``; None: the smallest sample that can bound
        the quantile on both sides.
    window
        Passed through to the result.

    Returns
    -------
    DetectorResult
        ``health.latency_p<NN>``: score = the quantile's estimate (seconds), threshold =
        ``slo_seconds``; details hold the interval, how many requests exceeded the SLO and
        the estimation method.

    Examples
    --------
    >>> import numpy as np
    >>> latency = np.random.default_rng(1).lognormal(np.log(0.010), 0.4, 5_000)
    >>> result = check_latency(latency, quantile=0.99, slo_seconds=0.020)
    >>> result.detector, result.status.value, round(result.score, 4)
    ('health.latency_p99', 'alarm', 0.0258)
    >>> check_latency(latency, quantile=0.5, slo_seconds=0.020).status.value
    'ok'
    """
    (result,) = check_latencies(
        latency_seconds,
        slo_seconds={quantile: slo_seconds},
        confidence=confidence,
        min_count=min_count,
        window=window,
    )
    return result


def check_latencies(
    latency_seconds: ArrayLike,
    *,
    slo_seconds: Mapping[float, float],
    confidence: float = 0.95,
    min_count: int | None = None,
    window: Span | None = None,
) -> tuple[DetectorResult, ...]:
    """:func:`check_latency` for several quantiles at once, over one partition of the data.

    ``slo_seconds`` maps quantiles to objectives, e.g. ``{0.5: 0.01, 0.95: 0.03, 0.99: 0.05}``;
    results come in the mapping's order.

    Examples
    --------
    >>> import numpy as np
    >>> latency = np.random.default_rng(1).lognormal(np.log(0.010), 0.4, 5_000)
    >>> results = check_latencies(latency, slo_seconds={0.5: 0.012, 0.99: 0.030})
    >>> [(r.detector, r.status.value) for r in results]
    [('health.latency_p50', 'ok'), ('health.latency_p99', 'ok')]
    """
    if not isinstance(slo_seconds, Mapping) or not slo_seconds:
        raise InvalidInputError(f"slo_seconds must map quantiles to seconds, got {slo_seconds!r}")
    objectives = {
        probability(q, "quantile"): number(s, f"slo_seconds[{q}]", low=0.0, strict=True)
        for q, s in slo_seconds.items()
    }
    level = probability(confidence, "confidence")
    minimum = None if min_count is None else integer(min_count, "min_count", low=1)
    sample, missing = latencies(latency_seconds)
    span = span_of(window, len(sample) + missing)
    estimates = quantile_intervals(sample, list(objectives), level)
    exceeding = {q: int(np.count_nonzero(sample > s)) for q, s in objectives.items()}
    return tuple(
        _result(
            estimate,
            objectives[estimate.quantile],
            exceeding[estimate.quantile],
            missing=missing,
            minimum=minimum,
            level=level,
            span=span,
        )
        for estimate in estimates
    )


def _result(
    estimate: QuantileEstimate,
    slo: float,
    exceeding: int,
    *,
    missing: int,
    minimum: int | None,
    level: float,
    span: Span,
) -> DetectorResult:
    needed = minimum_count(estimate.quantile, level) if minimum is None else minimum
    details: dict[str, JSONValue] = {
        "quantile": estimate.quantile,
        "interval": [finite_or_none(estimate.low), finite_or_none(estimate.high)],
        "confidence": level,
        "slo_seconds": slo,
        "slower_than_slo": exceeding,
        "latencies": estimate.n,
        "missing": missing,
        "min_count": needed,
        "method": "numpy linear (type 7); order-statistic interval",
    }
    name = detector_name(estimate.quantile)
    if estimate.n < needed:
        score = estimate.estimate if estimate.n else math.nan
        return DetectorResult(name, Status.INSUFFICIENT_DATA, score, slo, span, details)
    significant = not math.isnan(estimate.low) and estimate.low > slo
    status = verdict(effect=estimate.estimate > slo, significant=significant)
    return DetectorResult(name, status, estimate.estimate, slo, span, details)
