"""Throughput drop against a baseline (:mod:`detectors.health.throughput`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from detectors.errors import InvalidInputError
from detectors.health import check_throughput
from detectors.outcome import Status
from tests.unit.detectors.failures.support import assert_drawable
from tests.unit.detectors.health.traffic import arrivals, between


@pytest.mark.parametrize(
    ("x", "t", "x0", "t0"), [(1_200, 600, 3_000, 600), (37, 60, 50, 120), (0, 300, 40, 3_600)]
)
def test_p_value_is_scipys_conditional_binomial_test(x: int, t: float, x0: int, t0: float) -> None:
    result = check_throughput(
        x, duration_seconds=t, baseline_count=x0, baseline_duration_seconds=t0, min_expected=1
    )
    expected = scipy.stats.binomtest(x, x + x0, t / (t + t0), alternative="less").pvalue
    assert result.details["p_value"] == pytest.approx(expected, rel=1e-12)
    assert result.score == pytest.approx(1 - (x / t) / (x0 / t0))


def test_rules() -> None:
    def status(count: int, baseline: int) -> Status:
        return check_throughput(
            count, duration_seconds=600, baseline_count=baseline, baseline_duration_seconds=600
        ).status

    assert status(1_200, 3_000) is Status.ALARM  # 60 % down, significant
    assert status(8, 20) is Status.WARNING  # 60 % down, p = 0.018: not significant
    assert status(2_500, 3_000) is Status.OK  # significant, only 17 % down
    assert status(6_000, 3_000) is Status.OK  # traffic doubled
    assert status(5, 10) is Status.INSUFFICIENT_DATA  # 10 expected < 20
    result = check_throughput(
        0, duration_seconds=60, baseline_count=0, baseline_duration_seconds=60
    )
    assert result.status is Status.INSUFFICIENT_DATA
    assert math.isnan(result.score)
    assert_drawable(result, "health.throughput")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": -1}, r"count must be an integer >= 0, got -1"),
        ({"count": 1.5}, r"count must be an integer"),
        ({"duration_seconds": 0}, r"duration_seconds must be a finite number in \(0, inf\)"),
        ({"max_drop": 0.0}, r"max_drop must be a number in \(0, 1\]"),
        ({"max_drop": 1.5}, r"max_drop must be a finite number in \[0, 1\]"),
        ({"alpha": 1.0}, r"alpha must be"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    arguments: dict[str, float] = {
        "count": 10,
        "duration_seconds": 60,
        "baseline_count": 10,
        "baseline_duration_seconds": 60,
        **kwargs,
    }
    count = arguments.pop("count")
    with pytest.raises(InvalidInputError, match=message):
        check_throughput(count, **arguments)  # type: ignore[arg-type]


def test_a_traffic_stop_is_found_within_three_minutes(rng: np.random.Generator) -> None:
    """5 requests/s stop at minute 30; every minute, the last 5 minutes against yesterday's."""
    yesterday = arrivals(rng, 5.0, 0, 60)
    today = arrivals(rng, 5.0, 0, 30)
    statuses = {}
    for m in range(5, 46):
        now, then = between(today, m - 5, m), between(yesterday, m - 5, m)
        statuses[m] = check_throughput(
            now.stop - now.start,
            duration_seconds=300,
            baseline_count=then.stop - then.start,
            baseline_duration_seconds=300,
        ).status
    alarms = [m for m, s in statuses.items() if s is Status.ALARM]
    assert min(alarms) - 30 == 3  # the window is 60 % empty 3 minutes after the stop
    assert all(statuses[m] is Status.OK for m in range(5, 31))


def test_no_change_raises_no_alarm(rng: np.random.Generator) -> None:
    """100 five-minute windows against yesterday's, both at 5 requests/s."""
    counts = rng.poisson(1_500, (100, 2))
    statuses = [
        check_throughput(
            int(x), duration_seconds=300, baseline_count=int(x0), baseline_duration_seconds=300
        ).status
        for x, x0 in counts
    ]
    assert statuses.count(Status.OK) == 100
