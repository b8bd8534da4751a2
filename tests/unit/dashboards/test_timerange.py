"""The dashboard's time range parameters."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboards.web.timerange import PageQueryError, parse_moment, parse_time_range

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - dt.timedelta(minutes=30)),
        ("24h", NOW - dt.timedelta(hours=24)),
        ("7d", NOW - dt.timedelta(days=7)),
        ("2w", NOW - dt.timedelta(weeks=2)),
        ("now", NOW),
        ("2026-03-01", dt.datetime(2026, 3, 1, tzinfo=dt.UTC)),
        ("2026-03-01T06:30:00Z", dt.datetime(2026, 3, 1, 6, 30, tzinfo=dt.UTC)),
        ("2026-03-01T08:30+02:00", dt.datetime(2026, 3, 1, 6, 30, tzinfo=dt.UTC)),
        (" 2026-03-01 06:30 ", dt.datetime(2026, 3, 1, 6, 30, tzinfo=dt.UTC)),
    ],
)
def test_moments(text: str, expected: dt.datetime) -> None:
    found = parse_moment(text, now=NOW, name="from")
    assert found == expected
    assert found.tzinfo is not None
    assert found.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "7", "0d", "-3d", "7y", "2026-13-01", "d7"])
def test_bad_moments_name_the_parameter(text: str) -> None:
    with pytest.raises(PageQueryError, match=r"^to: ") as error:
        parse_moment(text, now=NOW, name="to")
    assert repr(text) in str(error.value) or "longer than 0" in str(error.value)


def test_default_range_is_the_last_week() -> None:
    span = parse_time_range({}, now=NOW)
    assert (span.start, span.end) == (NOW - dt.timedelta(days=7), NOW)
    assert span.is_default
    assert not parse_time_range({"from": "24h"}, now=NOW).is_default


def test_empty_parameters_mean_the_default() -> None:
    assert parse_time_range({"from": "", "to": ""}, now=NOW) == parse_time_range({}, now=NOW)


def test_an_inverted_range_is_refused() -> None:
    with pytest.raises(PageQueryError, match="must be before"):
        parse_time_range({"from": "2026-03-02T12:00Z", "to": "2026-03-01"}, now=NOW)
    with pytest.raises(PageQueryError, match="must be before"):
        parse_time_range({"from": "now"}, now=NOW)


def test_a_fixed_range_keeps_its_spelling() -> None:
    span = parse_time_range({"from": "2026-02-01", "to": "2026-02-03T00:00Z"}, now=NOW)
    assert (span.raw_from, span.raw_to) == ("2026-02-01", "2026-02-03T00:00Z")
    assert span.end - span.start == dt.timedelta(days=2)
