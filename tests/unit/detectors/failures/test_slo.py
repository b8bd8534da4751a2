"""Failure rate against an SLO (:mod:`detectors.failures.slo`), rules and scenarios."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.failures import StatusCounts, check_rate, wilson_interval
from detectors.outcome import Span, Status
from tests.unit.detectors.failures.support import assert_drawable

#: Requests per minute in the scenarios (10 per second).
PER_MINUTE = 600


def minute_counts(
    rng: np.random.Generator, error_rates: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Requests and errors per minute, Poisson traffic, binomial errors at the given rates."""
    requests = rng.poisson(PER_MINUTE, len(error_rates))
    return requests, rng.binomial(requests, error_rates)


def window_counts(requests: NDArray[np.int64], errors: NDArray[np.int64]) -> StatusCounts:
    return StatusCounts(ok=int(requests.sum() - errors.sum()), error=int(errors.sum()))


def test_status_follows_the_wilson_interval() -> None:
    # 2 in 100 against 1 %: interval [0.55 %, 7.0 %] holds the SLO: a warning;
    # 3 in 100: [1.03 %, 8.5 %] does not: an alarm; 1 in 100 equals the SLO: ok.
    statuses = {k: ["ok"] * (100 - k) + ["error"] * k for k in (1, 2, 3)}
    assert check_rate(statuses[1], slo_rate=0.01).status is Status.OK
    assert check_rate(statuses[2], slo_rate=0.01).status is Status.WARNING
    result = check_rate(statuses[3], slo_rate=0.01, kind="error")
    assert result.status is Status.ALARM
    assert result.score == 0.03
    assert result.threshold == 0.01
    low, high = wilson_interval(3, 100)
    assert result.details["interval"] == [float(low), float(high)]
    assert_drawable(result, "failures.error_rate")


def test_kinds_are_counted_apart() -> None:
    counts = StatusCounts(ok=900, error=10, timeout=60, bad_input=30)
    results = {
        kind: check_rate(counts, slo_rate=0.02, kind=kind)
        for kind in ("failure", "error", "timeout", "bad_input")
    }
    assert {k: r.status for k, r in results.items()} == {
        "failure": Status.ALARM,
        "error": Status.OK,
        "timeout": Status.ALARM,
        "bad_input": Status.ALARM,
    }
    assert results["failure"].detector == "failures.failure_rate"
    assert results["bad_input"].detector == "failures.bad_input_rate"
    assert results["failure"].details["failures"] == 100


def test_counts_and_statuses_agree_and_window_passes_through() -> None:
    statuses = np.array([0] * 480 + [1] * 15 + [3] * 5, dtype=np.int16)
    window = Span(n=500)
    by_array = check_rate(statuses, slo_rate=0.05, window=window)
    by_counts = check_rate(StatusCounts(ok=480, error=15, timeout=5), slo_rate=0.05)
    assert by_array == by_counts
    assert by_array.window is window


def test_small_windows_are_insufficient() -> None:
    result = check_rate([1] * 99, slo_rate=0.01)
    assert result.status is Status.INSUFFICIENT_DATA
    assert result.score == 1.0
    assert result.details["min_count"] == 100
    assert_drawable(result)
    empty = check_rate([], slo_rate=0.01, min_count=1)
    assert empty.status is Status.INSUFFICIENT_DATA
    assert math.isnan(empty.score)
    assert_drawable(empty)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slo_rate": 1.0}, r"slo_rate must be in \[0, 1\), got 1.0"),
        ({"slo_rate": -0.01}, r"slo_rate must be a finite number in \[0, 1\], got -0.01"),
        ({"slo_rate": 0.01, "confidence": 1.5}, r"confidence must be"),
        ({"slo_rate": 0.01, "min_count": 0}, r"min_count must be an integer >= 1, got 0"),
        ({"slo_rate": 0.01, "kind": "errors"}, r"kind must be one of"),
        ({"slo_rate": 0.01, "window": "last hour"}, r"window must be a Span or None"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_rate([0] * 200, **kwargs)  # type: ignore[arg-type]


def test_a_rising_error_rate_is_found_within_six_minutes(rng: np.random.Generator) -> None:
    """1 % errors, then 5 % from minute 30; every minute the last 10 minutes against 2 %.

    Over 500 seeds the delay was 2-6 minutes (median 4).
    """
    rates = np.where(np.arange(60) < 30, 0.01, 0.05)
    requests, errors = minute_counts(rng, rates)
    statuses = [
        check_rate(window_counts(requests[m - 10 : m], errors[m - 10 : m]), slo_rate=0.02).status
        for m in range(10, 61)
    ]
    minutes = np.arange(10, 61)
    alarms = minutes[[s is Status.ALARM for s in statuses]]
    assert not (alarms <= 30).any(), "alarm before the change"
    delay = int(alarms[0]) - 30
    assert 1 <= delay <= 6
    assert all(s is Status.ALARM for s in statuses[30 + 6 - 10 :])


def test_no_change_raises_no_alarm(rng: np.random.Generator) -> None:
    """100 ten-minute windows at 1 % errors against a 2 % SLO: no alarm and no warning."""
    requests, errors = minute_counts(rng, np.full(1000, 0.01))
    results = [
        check_rate(window_counts(requests[i : i + 10], errors[i : i + 10]), slo_rate=0.02)
        for i in range(0, 1000, 10)
    ]
    assert sum(r.status is Status.ALARM for r in results) == 0
    assert sum(r.status is Status.WARNING for r in results) == 0


def test_a_rate_on_the_slo_alarms_at_most_at_the_nominal_level(rng: np.random.Generator) -> None:
    """400 windows whose true rate *equals* the SLO: alarms are one-sided 2.5 % false alarms."""
    n = rng.poisson(6_000, 400)
    k = rng.binomial(n, 0.02)
    alarms = sum(
        check_rate(StatusCounts(ok=int(a - b), error=int(b)), slo_rate=0.02).alarm
        for a, b in zip(n, k, strict=True)
    )
    assert alarms <= 20  # expected about 10 (2.5 %); P(> 20) < 0.002
