from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from detectors.errors import InvalidInputError
from detectors.outcome import DetectorResult, Span, Status, status_of


def test_status_thresholds_are_inclusive_and_follow_direction() -> None:
    assert status_of(0.1, threshold=0.1) is Status.ALARM
    assert status_of(0.0999, threshold=0.1) is Status.OK
    assert status_of(0.05, threshold=0.1, warning=0.05) is Status.WARNING
    assert status_of(0.8, threshold=0.8, direction="lower_is_worse") is Status.ALARM
    assert status_of(0.85, threshold=0.8, warning=0.9, direction="lower_is_worse") is (
        Status.WARNING
    )


def test_unknown_direction_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="direction"):
        status_of(1.0, threshold=0.5, direction="up")  # type: ignore[arg-type]


def test_severity_orders_statuses() -> None:
    ranked = sorted(Status, key=lambda s: s.severity)
    assert ranked[-1] is Status.ALARM
    assert Status.INSUFFICIENT_DATA.severity == Status.OK.severity


def test_span_rejects_reversed_bounds_and_negative_counts() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="before it starts"):
        Span(n=1, start=now, end=now - timedelta(seconds=1))
    with pytest.raises(InvalidInputError, match="n must be"):
        Span(n=-1)


def test_result_serialises_to_json_without_nan() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    result = DetectorResult(
        detector="performance.accuracy",
        status=Status.INSUFFICIENT_DATA,
        score=math.nan,
        threshold=0.05,
        window=Span(n=3, start=start, end=start + timedelta(hours=1)),
        details={"labels": 3},
    )
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["score"] is None
    assert payload["status"] == "insufficient_data"
    assert payload["window"] == {
        "n": 3,
        "start": "2026-01-01T00:00:00+00:00",
        "end": "2026-01-01T01:00:00+00:00",
    }
    assert not result.alarm
