"""Failure rate against the model's own baseline (:mod:`detectors.failures.baseline`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.errors import InvalidInputError
from detectors.failures import StatusCounts, check_rate_change, newcombe_interval
from detectors.outcome import Status
from tests.unit.detectors.failures.support import assert_drawable
from tests.unit.detectors.failures.test_slo import minute_counts, window_counts

BASELINE = StatusCounts(ok=9_900, error=100)  # 1 %


def test_a_large_significant_rise_is_an_alarm() -> None:
    result = check_rate_change(StatusCounts(ok=1_940, error=60), baseline=BASELINE)
    assert result.status is Status.ALARM
    assert result.score == pytest.approx(0.02)
    assert result.threshold == 0.01
    low, high = newcombe_interval(60, 2_000, 100, 10_000)
    assert result.details["interval"] == [float(low), float(high)]
    assert result.details["baseline_rate"] == 0.01
    assert_drawable(result, "failures.failure_rate_change")


def test_large_but_not_significant_is_a_warning_small_but_significant_is_ok() -> None:
    # 3 in 120 (2.5 %): 1.5 points up, but the interval holds 0.
    warning = check_rate_change(StatusCounts(ok=117, error=3), baseline=BASELINE)
    assert warning.status is Status.WARNING
    interval = warning.details["interval"]
    assert isinstance(interval, list)
    assert interval[0] <= 0.0  # type: ignore[operator]
    # 1.5 % over 200 000 requests: significant, but half a point.
    small = check_rate_change(StatusCounts(ok=197_000, error=3_000), baseline=BASELINE)
    assert small.status is Status.OK
    assert small.details["interval"][0] > 0  # type: ignore[index,operator]


def test_a_falling_rate_is_fine_and_kinds_are_separate() -> None:
    assert check_rate_change(StatusCounts(ok=1_000), baseline=BASELINE).status is Status.OK
    current = StatusCounts(ok=1_900, error=20, timeout=80)
    assert check_rate_change(current, baseline=BASELINE, kind="error").status is Status.OK
    timeouts = check_rate_change(current, baseline=BASELINE, kind="timeout")
    assert timeouts.status is Status.ALARM
    assert timeouts.detector == "failures.timeout_rate_change"


def test_arrays_and_counts_agree() -> None:
    current = np.repeat([0, 1], [940, 60])
    baseline = np.repeat(["ok", "error"], [2_970, 30])
    assert check_rate_change(current, baseline=baseline) == check_rate_change(
        StatusCounts(ok=940, error=60), baseline=StatusCounts(ok=2_970, error=30)
    )


def test_either_small_side_is_insufficient() -> None:
    result = check_rate_change(StatusCounts(ok=50, error=40), baseline=BASELINE)
    assert result.status is Status.INSUFFICIENT_DATA
    assert result.details["min_count"] == 100
    empty = check_rate_change(StatusCounts(), baseline=StatusCounts())
    assert empty.status is Status.INSUFFICIENT_DATA
    assert math.isnan(empty.score)
    assert_drawable(empty)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_increase": 0.0}, r"min_increase must be a finite number in \(0, 1\)"),
        ({"confidence": 0.0}, r"confidence must be"),
        ({"min_count": -3}, r"min_count must be an integer >= 1"),
        ({"baseline": [0, 5]}, r"baseline: expected codes"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"baseline": BASELINE, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        check_rate_change([0] * 200, **arguments)  # type: ignore[arg-type]


def test_a_rise_from_one_to_three_percent_is_found_within_eight_minutes(
    rng: np.random.Generator,
) -> None:
    """Every minute, the last 10 minutes against the same hour yesterday (1 %).

    The window's rate reaches the 1-point gate once half of it is at 3 % (5 minutes); the
    noise of 6 000 requests a window adds up to three more (over 500 seeds: delays 3-8
    minutes, median 5).
    """
    yesterday_requests, yesterday_errors = minute_counts(rng, np.full(60, 0.01))
    baseline = window_counts(yesterday_requests, yesterday_errors)
    requests, errors = minute_counts(rng, np.where(np.arange(60) < 30, 0.01, 0.03))
    alarms = [
        m
        for m in range(10, 61)
        if check_rate_change(
            window_counts(requests[m - 10 : m], errors[m - 10 : m]), baseline=baseline
        ).alarm
    ]
    assert alarms, "never detected"
    assert alarms[0] > 30, "alarm before the change"
    assert alarms[0] - 30 <= 8


def test_no_change_raises_no_alarm(rng: np.random.Generator) -> None:
    """100 ten-minute windows against a one-hour baseline, both at 1 %."""
    baseline = window_counts(*minute_counts(rng, np.full(60, 0.01)))
    requests, errors = minute_counts(rng, np.full(1000, 0.01))
    statuses = [
        check_rate_change(
            window_counts(requests[i : i + 10], errors[i : i + 10]), baseline=baseline
        ).status
        for i in range(0, 1000, 10)
    ]
    assert statuses.count(Status.ALARM) == 0
    assert statuses.count(Status.WARNING) == 0
