"""Latency regression against a baseline (:mod:`detectors.health.regression`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from detectors.errors import InvalidInputError
from detectors.health import check_latency_regression
from detectors.health.regression import quantile_test
from detectors.outcome import Status
from tests.unit.detectors.failures.support import assert_drawable
from tests.unit.detectors.health.test_latency import MEDIAN, SIGMA_AFTER, SIGMA_BEFORE, stream


@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_the_quantile_test_is_fishers_exact_test_of_the_pooled_cut(
    rng: np.random.Generator, q: float
) -> None:
    baseline = np.round(rng.lognormal(-4.0, 0.4, 3_000), 4)  # ties at the cut
    current = np.round(rng.lognormal(-3.9, 0.5, 2_000), 4)
    p_value, above, above_baseline = quantile_test(current, baseline, q)
    pooled = np.sort(np.concatenate([current, baseline]))
    cut = pooled[math.ceil(q * len(pooled)) - 1]
    assert above == int((current > cut).sum())
    assert above_baseline == int((baseline > cut).sum())
    table = [[above, len(current) - above], [above_baseline, len(baseline) - above_baseline]]
    expected = scipy.stats.fisher_exact(table, alternative="greater").pvalue
    assert p_value == pytest.approx(expected, rel=1e-9)


def test_rules_and_details(rng: np.random.Generator) -> None:
    baseline = rng.lognormal(math.log(MEDIAN), SIGMA_BEFORE, 6_000)
    regressed = rng.lognormal(math.log(MEDIAN), SIGMA_AFTER, 6_000)
    result = check_latency_regression(regressed, baseline_seconds=baseline)
    assert result.status is Status.ALARM
    assert result.score == pytest.approx(np.quantile(regressed, 0.99) / np.quantile(baseline, 0.99))
    assert result.threshold == 1.5
    assert result.details["p_value"] < 1e-10  # type: ignore[operator]
    assert_drawable(result, "health.latency_p99_regression")
    # The same regression seen in too few requests: large, not significant.
    small = check_latency_regression(
        regressed[:400], baseline_seconds=baseline[:400], min_count=100, alpha=1e-6
    )
    assert small.status is Status.WARNING
    # A significant but small slow-down of the tail: ok.
    slower = baseline * 1.2
    assert check_latency_regression(slower, baseline_seconds=baseline).status is Status.OK
    assert check_latency_regression(baseline, baseline_seconds=regressed).status is Status.OK


def test_small_samples_are_insufficient() -> None:
    result = check_latency_regression(np.full(367, 0.1), baseline_seconds=np.full(1_000, 0.01))
    assert result.status is Status.INSUFFICIENT_DATA
    assert result.details["min_count"] == 368
    assert_drawable(result)
    empty = check_latency_regression([], baseline_seconds=[])
    assert math.isnan(empty.score)
    assert_drawable(empty)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_ratio": 1.0}, r"max_ratio must be a finite number in \(1, inf\)"),
        ({"alpha": 0.0}, r"alpha must be"),
        ({"quantile": 1.5}, r"quantile must be"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_latency_regression([0.1], baseline_seconds=[0.1], **kwargs)  # type: ignore[arg-type]


def test_a_p99_regression_is_found_within_three_minutes(rng: np.random.Generator) -> None:
    """p99 25 -> 60 ms from minute 30 (the median unchanged); every minute the last 5 minutes
    against the same hour yesterday."""
    baseline = np.concatenate(stream(rng, 60, change=None))
    minutes = stream(rng, 45, change=30)
    statuses = {
        m: check_latency_regression(
            np.concatenate(minutes[m - 5 : m]), baseline_seconds=baseline
        ).status
        for m in range(5, 46)
    }
    alarms = [m for m, s in statuses.items() if s is Status.ALARM]
    assert alarms, "never detected"
    assert min(alarms) > 30, "alarm before the change"
    assert min(alarms) - 30 <= 3
    assert all(statuses[m] is Status.ALARM for m in range(33, 46))


def test_no_change_raises_at_most_one_false_alarm(rng: np.random.Generator) -> None:
    """100 five-minute windows against a one-hour baseline, all at p99 = 25 ms."""
    baseline = np.concatenate(stream(rng, 60, change=None))
    minutes = stream(rng, 500, change=None)
    statuses = [
        check_latency_regression(
            np.concatenate(minutes[i : i + 5]), baseline_seconds=baseline
        ).status
        for i in range(0, 500, 5)
    ]
    assert statuses.count(Status.ALARM) <= 1  # alpha = 1 % and a 1.5x gate: expected ~0
    assert statuses.count(Status.WARNING) <= 1
