"""Error bursts (:mod:`detectors.health.bursts`), scipy parity and scenarios."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import scipy.stats
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.health import check_error_bursts
from detectors.outcome import Status
from tests.unit.detectors.failures.support import assert_drawable
from tests.unit.detectors.health.traffic import START, arrivals, at, between, us

PER_SECOND = 10.0


def stream(
    rng: np.random.Generator,
    start_minute: float,
    end_minute: float,
    burst: tuple[float, float] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Timestamps and status codes: 1 % errors, 20 % inside ``burst`` (minutes)."""
    timestamps = arrivals(rng, PER_SECOND, start_minute, end_minute)
    rate = np.full(len(timestamps), 0.01)
    if burst is not None:
        inside = (timestamps >= us(burst[0])) & (timestamps < us(burst[1]))
        rate[inside] = 0.20
    return timestamps, (rng.random(len(timestamps)) < rate).astype(np.int64)


def minute(iso: object) -> float:
    """Minutes after START of an ISO timestamp from the details."""
    return (datetime.fromisoformat(str(iso)) - START).total_seconds() / 60


def test_a_two_minute_burst_in_an_hour_is_found_and_located(rng: np.random.Generator) -> None:
    timestamps, statuses = stream(rng, 0, 60, burst=(37, 39))
    result = check_error_bursts(timestamps, statuses, start=at(0), end=at(60))
    assert result.status is Status.ALARM
    worst = result.details["worst_bucket"]
    assert isinstance(worst, dict)
    assert worst["index"] in (37, 38)
    bursts = result.details["bursts"]
    assert isinstance(bursts, list)
    assert [minute(b) for b in bursts] == [37.0, 38.0]
    assert result.score >= 2.0  # the ratio to the window's rate; ~12 here
    assert len(result.details["bucket_requests"]) == 60  # type: ignore[arg-type]
    assert_drawable(result, "health.error_bursts")


def test_a_burst_across_bucket_edges_is_located_within_one_bucket(
    rng: np.random.Generator,
) -> None:
    timestamps, statuses = stream(rng, 0, 60, burst=(37.5, 39.5))
    result = check_error_bursts(timestamps, statuses, start=at(0), end=at(60))
    assert result.alarm
    worst = result.details["worst_bucket"]
    assert isinstance(worst, dict)
    assert abs(minute(worst["start"]) - 37.5) <= 1.0


def test_a_burst_is_found_one_bucket_after_it_starts(rng: np.random.Generator) -> None:
    """Every minute, the last hour in 1-minute buckets; the burst starts at minute 37."""
    timestamps, statuses = stream(rng, -30, 45, burst=(37, 39))
    first_alarm = None
    for m in range(31, 46):
        rows = between(timestamps, m - 60, m)
        if check_error_bursts(timestamps[rows], statuses[rows], start=at(m - 60), end=at(m)).alarm:
            first_alarm = m
            break
    assert first_alarm is not None
    assert first_alarm - 37 == 1  # delay: one bucket (the first burst minute, complete)


def test_no_change_raises_few_false_alarms(rng: np.random.Generator) -> None:
    """100 hours at a steady 1 %: family-wise alpha = 1 % per hour, so expected <= 1.

    Measured over 2 000 such hours: 0.8 % of hours raise a false alarm. At most 4 of 100
    (P(X >= 5) < 0.004 for a 1 % rate) keeps the test stable under other seeds.
    """
    results = []
    for _ in range(100):
        timestamps, statuses = stream(rng, 0, 60)
        results.append(check_error_bursts(timestamps, statuses, start=at(0), end=at(60)))
    assert sum(r.alarm for r in results) <= 4
    assert sum(r.status is Status.WARNING for r in results) <= 4


def test_a_traffic_spike_with_the_usual_error_rate_is_no_burst(rng: np.random.Generator) -> None:
    base, base_statuses = stream(rng, 0, 60)
    spike = arrivals(rng, 5 * PER_SECOND, 20, 21)
    timestamps = np.concatenate([base, spike])
    statuses = np.concatenate([base_statuses, (rng.random(len(spike)) < 0.01).astype(np.int64)])
    result = check_error_bursts(timestamps, statuses, start=at(0), end=at(60))
    assert result.status is Status.OK


def test_bucket_p_values_are_fishers_exact_test_against_the_rest(
    rng: np.random.Generator,
) -> None:
    timestamps, statuses = stream(rng, 0, 10, burst=(4, 5))
    result = check_error_bursts(timestamps, statuses, start=at(0), end=at(10), kind="error")
    requests = np.array(result.details["bucket_requests"])
    failures = np.array(result.details["bucket_failures"])
    worst = result.details["worst_bucket"]
    assert isinstance(worst, dict)
    i = int(worst["index"])  # type: ignore[arg-type]
    table = [
        [failures[i], requests[i] - failures[i]],
        [failures.sum() - failures[i], requests.sum() - requests[i] - failures.sum() + failures[i]],
    ]
    expected = scipy.stats.fisher_exact(table, alternative="greater").pvalue
    assert worst["p_value"] == pytest.approx(expected, rel=1e-9)
    assert worst["adjusted_p_value"] == pytest.approx(min(1.0, 10 * expected), rel=1e-9)


def test_kinds_partial_buckets_and_long_windows(rng: np.random.Generator) -> None:
    timestamps, statuses = stream(rng, 0, 30, burst=(10, 11))
    timeouts = np.where(statuses == 1, 3, 0)
    assert check_error_bursts(timestamps, timeouts, start=at(0), end=at(30), kind="timeout").alarm
    assert not check_error_bursts(timestamps, timeouts, start=at(0), end=at(30), kind="error").alarm
    uneven = check_error_bursts(
        timestamps, statuses, start=at(0), end=at(30), bucket_seconds=7 * 60
    )
    assert uneven.details["buckets"] == 5  # 4 full buckets of 7 minutes and one of 2
    day = check_error_bursts(
        timestamps, statuses, start=at(0), end=at(0) + timedelta(days=2), bucket_seconds=60
    )
    assert "bucket_requests" not in day.details  # 2 880 buckets: too many to list
    assert_drawable(day)


def test_small_windows_are_insufficient() -> None:
    result = check_error_bursts([us(1)] * 99, [1] * 99, start=at(0), end=at(60))
    assert result.status is Status.INSUFFICIENT_DATA
    assert_drawable(result)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end": at(0)}, r"end must be after start"),
        ({"bucket_seconds": 1e-7}, r"bucket_seconds must be whole microseconds"),
        ({"bucket_seconds": -60}, r"bucket_seconds must be a finite number in \(0, inf\)"),
        ({"min_ratio": 0.5}, r"min_ratio must be a finite number in \[1, inf\]"),
        ({"alpha": 2.0}, r"alpha must be"),
        ({"start": at(5)}, r"expected every record in \[start, end\).*got one at"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"start": at(0), "end": at(60), **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        check_error_bursts([us(1), us(2)], [0, 1], **arguments)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="statuses has 1 entries but timestamps_us has 2"):
        check_error_bursts([us(1), us(2)], [0], start=at(0), end=at(60))
    with pytest.raises(InvalidInputError, match="expected integer microseconds"):
        check_error_bursts([1.5e15], [0], start=at(0), end=at(60))
