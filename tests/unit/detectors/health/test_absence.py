"""Absence of traffic (:mod:`detectors.health.absence`)."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from detectors.errors import InvalidInputError
from detectors.health import check_absence
from detectors.outcome import Status
from tests.unit.detectors.failures.support import assert_drawable
from tests.unit.detectors.health.traffic import START, arrivals, at, between, us


def test_silence_against_thresholds() -> None:
    last = us(0)
    assert check_absence(last, now=at(1)).status is Status.OK
    assert check_absence(last, now=at(2.5)).status is Status.WARNING  # half of 5 minutes
    result = check_absence(last, now=at(5))
    assert result.status is Status.ALARM
    assert (result.score, result.threshold) == (300.0, 300.0)
    assert (result.window.start, result.window.end) == (START, at(5))
    assert result.details["last_record"] == START.isoformat()
    assert_drawable(result, "health.absence")
    assert check_absence(last, now=at(3), warning_silence_seconds=200).status is Status.OK


def test_a_quiet_models_threshold_follows_its_usual_rate() -> None:
    # One request every 2 minutes: a 5-minute gap is common (p = e^-2.5 = 8 %); the alarm
    # waits for a gap with probability 0.001: ln(1000) * 120 s = 13.8 minutes.
    result = check_absence(us(0), now=at(10), expected_rate_per_second=1 / 120)
    assert result.status is Status.WARNING
    assert result.threshold == pytest.approx(math.log(1000) * 120)
    assert result.details["probability"] == pytest.approx(math.exp(-5))
    assert check_absence(us(0), now=at(14), expected_rate_per_second=1 / 120).alarm
    busy = check_absence(us(0), now=at(5), expected_rate_per_second=100.0)
    assert busy.threshold == 300.0
    assert busy.alarm


def test_no_record_at_all_and_clock_skew() -> None:
    unknown = check_absence(None, now=at(60))
    assert unknown.status is Status.INSUFFICIENT_DATA
    assert_drawable(unknown)
    assert check_absence(None, now=at(60), since=at(50)).alarm
    ahead = check_absence(us(61), now=at(60))
    assert (ahead.status, ahead.score) == (Status.OK, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"now": datetime(2026, 11, 24, 9)}, r"now must be a timezone-aware datetime"),
        ({"max_silence_seconds": 0}, r"max_silence_seconds must be a finite number in \(0"),
        ({"warning_silence_seconds": 400}, r"warning_silence_seconds must be <= max_silence"),
        ({"expected_rate_per_second": -1.0}, r"expected_rate_per_second must be"),
        ({"alpha": 0}, r"alpha must be"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"now": at(1), **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        check_absence(us(0), **arguments)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="last_timestamp_us must be an integer"):
        check_absence(1.5e15, now=at(1))  # type: ignore[arg-type]


def last_before(timestamps: np.ndarray, minute: float) -> int | None:
    rows = between(timestamps, -1e9, minute)
    return int(timestamps[rows.stop - 1]) if rows.stop > rows.start else None


def test_a_traffic_stop_is_found_within_its_silence_plus_one_evaluation(
    rng: np.random.Generator,
) -> None:
    """5 requests/s stop at minute 30; checked every minute with a 2-minute silence limit."""
    stream = arrivals(rng, 5.0, 0, 30)
    statuses = {
        m: check_absence(last_before(stream, m), now=at(m), max_silence_seconds=120).status
        for m in range(1, 46)
    }
    alarms = [m for m, s in statuses.items() if s is Status.ALARM]
    assert min(alarms) - 30 == 2  # <= max_silence + one evaluation period (3 minutes)
    assert all(statuses[m] is Status.OK for m in range(1, 31))
    assert statuses[31] is Status.WARNING
    assert statuses[32] is Status.ALARM


def test_no_change_raises_no_alarm(rng: np.random.Generator) -> None:
    """Steady traffic at 5 requests/s, checked 100 times: no alarm."""
    busy = arrivals(rng, 5.0, 0, 1_000)
    statuses = [check_absence(last_before(busy, m), now=at(m)).status for m in range(10, 1_001, 10)]
    assert statuses.count(Status.OK) == 100


def test_a_quiet_model_is_not_paged_for_its_usual_gaps(rng: np.random.Generator) -> None:
    """One request per 2 minutes, checked 300 times 2 hours apart: a fixed 5-minute limit
    pages on e^-2.5 = 8 % of the checks; the model's usual rate keeps it to alpha = 0.1 %."""
    quiet = arrivals(rng, 1 / 120, 0, 300 * 120)
    moments = range(120, 300 * 120 + 1, 120)
    last = [last_before(quiet, m) for m in moments]
    fixed = sum(check_absence(t, now=at(m)).alarm for t, m in zip(last, moments, strict=True))
    adaptive = sum(
        check_absence(t, now=at(m), expected_rate_per_second=1 / 120).alarm
        for t, m in zip(last, moments, strict=True)
    )
    assert fixed >= 10  # expected 25
    assert adaptive <= 2  # expected 0.3
