"""A window's request count against a baseline window's (same hour last week or last day).

**Effect**: the drop d = 1 − (x / t) / (x₀ / t₀), with x requests over t seconds now and x₀
over t₀ in the baseline (negative when traffic grew).

**Significance**: the conditional test of two Poisson rates (Przyborowski & Wilenski 1940):
given x + x₀, x is Binomial(x + x₀, t / (t + t₀)) when both rates are equal, so the one-sided
p-value of a drop is ``binom.cdf(x, x + x₀, t / (t + t₀))``, the same number as
:func:`scipy.stats.binomtest` with ``alternative="less"``. It accounts for the noise of the
baseline count as well as the window's.

Rule: ``alarm`` when d ≥ ``max_drop`` and p < ``alpha``; ``warning`` when d ≥ ``max_drop``
only; ``insufficient_data`` when the baseline predicts fewer than ``min_expected`` requests
for the window (x₀·t/t₀) — a quiet hour cannot show a drop. Real traffic varies more from
week to week than Poisson noise, which is why the effect gate, not the p-value, carries the
decision over large counts.

Counts must be of every record of the window, not of a sampled read (the store's
``Window.total_rows``).
"""

from __future__ import annotations

import math

import scipy.stats

from detectors.failures._gate import fraction, integer, number, probability, span_of, verdict
from detectors.outcome import DetectorResult, JSONValue, Span, Status

__all__ = ["check_throughput"]


def check_throughput(
    count: int,
    *,
    duration_seconds: float,
    baseline_count: int,
    baseline_duration_seconds: float,
    max_drop: float = 0.5,
    alpha: float = 0.01,
    min_expected: float = 20.0,
    window: Span | None = None,
) -> DetectorResult:
    """Has traffic dropped by ``max_drop`` or more against the baseline, significantly?

    Parameters
    ----------
    count
        Records in the window.
    duration_seconds
        Length of the window, seconds.
    baseline_count
        Records in the baseline window.
    baseline_duration_seconds
        Length of the baseline window, seconds.
    max_drop
        Smallest relative drop of the request rate worth an alarm, in (0, 1].
    alpha
        Level of the one-sided test.
    min_expected
        Fewer expected requests (from the baseline rate) give ``insufficient_data``.
    window
        Passed through to the result.

    Returns
    -------
    DetectorResult
        ``health.throughput``: score = relative drop, threshold = ``max_drop``; details hold
        both rates, the expected count and the p-value.

    Examples
    --------
    >>> result = check_throughput(
    ...     1_200, duration_seconds=600, baseline_count=3_000, baseline_duration_seconds=600
    ... )
    >>> result.detector, result.status.value, result.score
    ('health.throughput', 'alarm', 0.6)
    >>> check_throughput(
    ...     2_900, duration_seconds=600, baseline_count=3_000, baseline_duration_seconds=600
    ... ).status.value
    'ok'
    """
    x = integer(count, "count")
    t = number(duration_seconds, "duration_seconds", low=0.0, strict=True)
    x0 = integer(baseline_count, "baseline_count")
    t0 = number(baseline_duration_seconds, "baseline_duration_seconds", low=0.0, strict=True)
    gate = fraction(max_drop, "max_drop")
    level = probability(alpha, "alpha")
    floor = number(min_expected, "min_expected", low=0.0)
    expected = x0 * t / t0
    details: dict[str, JSONValue] = {
        "count": x,
        "rate_per_second": x / t,
        "baseline_count": x0,
        "baseline_rate_per_second": x0 / t0,
        "expected": expected,
        "alpha": level,
    }
    span = span_of(window, x)
    if expected < floor or x0 == 0:
        details["min_expected"] = floor
        score = 1.0 - x / expected if expected else math.nan
        return DetectorResult(
            "health.throughput", Status.INSUFFICIENT_DATA, score, gate, span, details
        )
    drop = 1.0 - x / expected
    p_value = float(scipy.stats.binom.cdf(x, x + x0, t / (t + t0)))
    details["p_value"] = p_value
    status = verdict(effect=drop >= gate, significant=p_value < level)
    return DetectorResult("health.throughput", status, drop, gate, span, details)
