"""Absence of traffic: no record for too long before ``now``.

The silence is ``now`` minus the last record's timestamp. ``alarm`` when it reaches
``max_silence_seconds``, ``warning`` from ``warning_silence_seconds`` (default half of it).

A fixed silence means different things for a busy and a quiet model: for Poisson arrivals
at rate λ a gap of at least s has probability exp(−λs). Given ``expected_rate_per_second``
(from a baseline: the same hour last week), the alarm threshold becomes
max(``max_silence_seconds``, ln(1/``alpha``)/λ), so a model that usually sees one request
every ten minutes is not paged after five quiet minutes; both thresholds are in the details,
the effective one is the result's threshold (warnings scale with it).

With no record at all, the silence runs from ``since`` (when monitoring began) if given;
otherwise the result is ``insufficient_data``. A last timestamp after ``now`` (clock skew
between hosts) counts as no silence.
"""

from __future__ import annotations

import math
from datetime import datetime

from detectors.errors import InvalidInputError
from detectors.failures._gate import epoch_us, from_epoch_us, integer, number, probability
from detectors.outcome import DetectorResult, JSONValue, Span, Status, status_of

__all__ = ["check_absence"]


def check_absence(
    last_timestamp_us: int | None,
    *,
    now: datetime,
    max_silence_seconds: float = 300.0,
    warning_silence_seconds: float | None = None,
    expected_rate_per_second: float | None = None,
    alpha: float = 0.001,
    since: datetime | None = None,
) -> DetectorResult:
    """Has the model received nothing for ``max_silence_seconds`` before ``now``?

    Parameters
    ----------
    last_timestamp_us
        Timestamp of the latest record, microseconds since the epoch (UTC); None if none.
    now
        The evaluation time (timezone-aware); detectors have no clock of their own.
    max_silence_seconds
        Silence that raises an alarm.
    warning_silence_seconds
        Silence that raises a warning (default: half the alarm threshold).
    expected_rate_per_second
        The usual request rate at this time, if known: raises the threshold for quiet models.
    alpha
        Probability of a silence under the usual rate below which it is an alarm.
    since
        When monitoring started; the silence of a model that never had a record runs from it.

    Returns
    -------
    DetectorResult
        ``health.absence``: score = silence (seconds), threshold = the effective alarm
        silence; the window is the silent interval (from the last record to ``now``).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    >>> last = 1_795_521_420_000_000  # 11:57:00 UTC
    >>> result = check_absence(last, now=now, max_silence_seconds=120)
    >>> result.status.value, result.score, result.window.start.isoformat()
    ('alarm', 180.0, '2026-11-24T11:57:00+00:00')
    >>> quiet = check_absence(last, now=now, max_silence_seconds=120, expected_rate_per_second=0.01)
    >>> quiet.status.value, round(quiet.threshold)
    ('ok', 691)
    """
    now_us = epoch_us(now, "now")
    alarm_at = number(max_silence_seconds, "max_silence_seconds", low=0.0, strict=True)
    level = probability(alpha, "alpha")
    rate = None
    if expected_rate_per_second is not None:
        rate = number(expected_rate_per_second, "expected_rate_per_second", low=0.0, strict=True)
    threshold, warn_at = _thresholds(alarm_at, warning_silence_seconds, rate, level)
    details: dict[str, JSONValue] = {
        "max_silence_seconds": alarm_at,
        "warning_silence_seconds": warn_at,
        "expected_rate_per_second": rate,
    }
    if last_timestamp_us is None:
        details["last_record"] = None
        if since is None:
            span = Span(n=0, end=now)
            return DetectorResult(
                "health.absence", Status.INSUFFICIENT_DATA, math.nan, threshold, span, details
            )
        start_us = epoch_us(since, "since")
    else:
        start_us = integer(last_timestamp_us, "last_timestamp_us", low=-(2**63))
        details["last_record"] = from_epoch_us(start_us).isoformat()
    silence = max(now_us - start_us, 0) / 1e6
    if rate is not None:
        details.update({"alpha": level, "probability": math.exp(-rate * silence)})
    status = status_of(silence, threshold=threshold, warning=warn_at)
    span = Span(n=0, start=from_epoch_us(min(start_us, now_us)), end=now)
    return DetectorResult("health.absence", status, silence, threshold, span, details)


def _thresholds(
    alarm_at: float, warning: float | None, rate: float | None, alpha: float
) -> tuple[float, float]:
    """The effective alarm and warning silences (the warning scales with the alarm)."""
    threshold = alarm_at if rate is None else max(alarm_at, math.log(1.0 / alpha) / rate)
    if warning is None:
        return threshold, threshold / 2.0
    warn_at = number(warning, "warning_silence_seconds", low=0.0, strict=True)
    if warn_at > alarm_at:
        msg = (
            "warning_silence_seconds must be <= max_silence_seconds, "
            f"got {warn_at:g} > {alarm_at:g}"
        )
        raise InvalidInputError(msg)
    return threshold, warn_at * threshold / alarm_at
