"""A window's failure rate against a service-level objective.

Rule, with [l, u] the two-sided Wilson interval (:func:`~detectors.failures.wilson_interval`)
of the failures of ``kind`` among the window's n records:

- ``alarm`` when l > SLO: the rate is *significantly* above the objective (a one-sided test
  at level (1 − confidence)/2, 2.5 % by default, when the true rate sits exactly on the SLO);
- ``warning`` when only the point estimate k/n exceeds the SLO;
- ``insufficient_data`` below ``min_count`` records (default 100);
- ``ok`` otherwise.

Against a 1 % SLO, 2 errors in 100 requests are a warning (the interval [0.55 %, 7.0 %] holds
1 %) and 3 in 100 an alarm ([1.03 %, 8.5 %]). The score is the point rate, the threshold the
SLO.
"""

from __future__ import annotations

import math

from numpy.typing import ArrayLike

from detectors.errors import InvalidInputError
from detectors.failures._gate import finite_or_none, integer, number, probability, span_of, verdict
from detectors.failures.intervals import wilson_interval
from detectors.failures.statuses import FailureKind, StatusCounts, check_kind, count_statuses
from detectors.outcome import DetectorResult, JSONValue, Span, Status

__all__ = ["check_rate", "detector_name"]


def detector_name(kind: FailureKind) -> str:
    """``"failures.error_rate"``, ``"failures.timeout_rate"``, ... (``failure`` = any)."""
    return f"failures.{check_kind(kind)}_rate"


def check_rate(
    statuses: ArrayLike | StatusCounts,
    *,
    slo_rate: float,
    kind: FailureKind = "failure",
    confidence: float = 0.95,
    min_count: int = 100,
    window: Span | None = None,
) -> DetectorResult:
    """Is the rate of ``kind`` failures above ``slo_rate``, significantly so?

    Parameters
    ----------
    statuses
        One status per record (codes or names of :mod:`detectors.failures.statuses`), or
        their :class:`StatusCounts`.
    slo_rate
        The objective: the highest acceptable failure rate, in [0, 1).
    kind
        ``"failure"`` (any outcome but ok), ``"error"``, ``"timeout"`` or ``"bad_input"``.
    confidence
        Two-sided level of the Wilson interval.
    min_count
        Fewer records than this give ``insufficient_data``.
    window
        The window the statuses come from, passed through to the result.

    Returns
    -------
    DetectorResult
        ``failures.<kind>_rate``: score = failure rate, threshold = ``slo_rate``; details hold
        the counts, the interval and the SLO.

    Examples
    --------
    >>> statuses = [0] * 950 + [1] * 50
    >>> result = check_rate(statuses, slo_rate=0.02, kind="error")
    >>> result.detector, result.status.value, result.score
    ('failures.error_rate', 'alarm', 0.05)
    >>> print([round(bound, 4) for bound in result.details["interval"]])
    [0.0381, 0.0653]
    >>> check_rate([0] * 97 + [1] * 3, slo_rate=0.02).status.value
    'warning'
    """
    slo = number(slo_rate, "slo_rate", low=0.0, high=1.0)
    if slo == 1.0:
        raise InvalidInputError(f"slo_rate must be in [0, 1), got {slo_rate!r}")
    level = probability(confidence, "confidence")
    minimum = integer(min_count, "min_count", low=1)
    counts = count_statuses(statuses)
    n, k = counts.total, counts.failures(check_kind(kind))
    span = span_of(window, n)
    details: dict[str, JSONValue] = {
        "kind": kind,
        "failures": k,
        "requests": n,
        "slo_rate": slo,
        "confidence": level,
    }
    if n < minimum:
        details["min_count"] = minimum
        return DetectorResult(
            detector_name(kind),
            Status.INSUFFICIENT_DATA,
            k / n if n else math.nan,
            slo,
            span,
            details,
        )
    low, high = (float(bound) for bound in wilson_interval(k, n, level))
    rate = k / n
    details["interval"] = [finite_or_none(low), finite_or_none(high)]
    status = verdict(effect=rate > slo, significant=low > slo)
    return DetectorResult(detector_name(kind), status, rate, slo, span, details)
