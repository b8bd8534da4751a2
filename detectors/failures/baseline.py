"""A window's failure rate against the model's own baseline rate.

The change is d = p̂ − p̂₀ (window rate minus baseline rate, in rate units: 0.01 is one
percentage point), with Newcombe's hybrid score interval [L, U]
(:func:`~detectors.failures.newcombe_interval`). Rule:

- ``alarm`` when d ≥ ``min_increase`` **and** L > 0 (the increase is significant: a
  one-sided test at level (1 − confidence)/2);
- ``warning`` when d ≥ ``min_increase`` but L ≤ 0 (large, not yet significant);
- ``insufficient_data`` when either side has fewer than ``min_count`` records;
- ``ok`` otherwise, including significant increases smaller than ``min_increase``: over
  large windows a 0.05-point rise is significant and still not worth a page.

Only increases are flagged; a falling failure rate is never a problem here.
"""

from __future__ import annotations

import math

from numpy.typing import ArrayLike

from detectors.failures._gate import finite_or_none, integer, number, probability, span_of, verdict
from detectors.failures.intervals import newcombe_interval
from detectors.failures.statuses import FailureKind, StatusCounts, check_kind, count_statuses
from detectors.outcome import DetectorResult, JSONValue, Span, Status

__all__ = ["check_rate_change"]


def check_rate_change(
    statuses: ArrayLike | StatusCounts,
    *,
    baseline: ArrayLike | StatusCounts,
    kind: FailureKind = "failure",
    min_increase: float = 0.01,
    confidence: float = 0.95,
    min_count: int = 100,
    window: Span | None = None,
) -> DetectorResult:
    """Has the rate of ``kind`` failures risen above the baseline's, significantly so?

    Parameters
    ----------
    statuses
        The window's statuses (codes or names), or their :class:`StatusCounts`.
    baseline
        The baseline window's statuses or counts (e.g. the same hour a week ago).
    kind
        ``"failure"`` (any outcome but ok), ``"error"``, ``"timeout"`` or ``"bad_input"``.
    min_increase
        Smallest rise of the rate worth an alarm, in rate units (0.01 = one point).
    confidence
        Two-sided level of the Newcombe interval.
    min_count
        Fewer records than this on either side give ``insufficient_data``.
    window
        The window of ``statuses``, passed through to the result.

    Returns
    -------
    DetectorResult
        ``failures.<kind>_rate_change``: score = rate − baseline rate, threshold =
        ``min_increase``; details hold both rates, counts and the interval.

    Examples
    --------
    >>> from detectors.failures.statuses import StatusCounts
    >>> before = StatusCounts(ok=9_900, error=100)
    >>> result = check_rate_change(StatusCounts(ok=1_940, error=60), baseline=before)
    >>> result.detector, result.status.value, round(result.score, 4)
    ('failures.failure_rate_change', 'alarm', 0.02)
    """
    name = f"failures.{check_kind(kind)}_rate_change"
    gate = number(min_increase, "min_increase", low=0.0, high=1.0, strict=True)
    level = probability(confidence, "confidence")
    minimum = integer(min_count, "min_count", low=1)
    current, reference = count_statuses(statuses), count_statuses(baseline, "baseline")
    n, k = current.total, current.failures(kind)
    n0, k0 = reference.total, reference.failures(kind)
    span = span_of(window, n)
    details: dict[str, JSONValue] = {
        "kind": kind,
        "failures": k,
        "requests": n,
        "baseline_failures": k0,
        "baseline_requests": n0,
        "rate": k / n if n else None,
        "baseline_rate": k0 / n0 if n0 else None,
        "confidence": level,
    }
    if min(n, n0) < minimum:
        details["min_count"] = minimum
        score = k / n - k0 / n0 if n and n0 else math.nan
        return DetectorResult(name, Status.INSUFFICIENT_DATA, score, gate, span, details)
    low, high = (float(bound) for bound in newcombe_interval(k, n, k0, n0, level))
    difference = k / n - k0 / n0
    details["interval"] = [finite_or_none(low), finite_or_none(high)]
    status = verdict(effect=difference >= gate, significant=low > 0.0)
    return DetectorResult(name, status, difference, gate, span, details)
