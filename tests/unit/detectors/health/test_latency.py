"""Latency quantiles against SLOs (:mod:`detectors.health.latency`), rules and scenarios."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.health import check_latencies, check_latency
from detectors.health.latency import detector_name
from detectors.outcome import Span, Status
from tests.unit.detectors.failures.support import assert_drawable

MEDIAN = 0.010
#: Log-scale spreads giving p99 = 25 ms (before) and 60 ms (after) with the median at 10 ms.
SIGMA_BEFORE = math.log(2.5) / float(scipy.stats.norm.ppf(0.99))
SIGMA_AFTER = math.log(6.0) / float(scipy.stats.norm.ppf(0.99))
PER_MINUTE = 600


def stream(rng: np.random.Generator, minutes: int, change: int | None) -> list[NDArray[np.float64]]:
    """Latencies per minute; the tail regresses (p99 25 -> 60 ms) from minute ``change``."""
    return [
        rng.lognormal(
            math.log(MEDIAN),
            SIGMA_AFTER if change is not None and m >= change else SIGMA_BEFORE,
            rng.poisson(PER_MINUTE),
        )
        for m in range(minutes)
    ]


def with_slower(count: int, *, n: int = 400, slo: float = 0.05) -> NDArray[np.float64]:
    """``n`` latencies of which exactly ``count`` exceed ``slo``."""
    return np.concatenate([np.linspace(0.001, slo, n - count), np.full(count, 2 * slo)])


def test_a_few_slow_requests_warn_before_they_alarm() -> None:
    # Of 400 requests at most 1 % may exceed the p99 SLO: 8 over it are a warning (not
    # significant), 9 an alarm (one-sided binomial p = 0.021 < 0.025).
    assert check_latency(with_slower(3), slo_seconds=0.05).status is Status.OK
    assert check_latency(with_slower(8), slo_seconds=0.05).status is Status.WARNING
    alarm = check_latency(with_slower(9), slo_seconds=0.05)
    assert alarm.status is Status.ALARM
    assert alarm.details["slower_than_slo"] == 9
    assert scipy.stats.binom.sf(8, 400, 0.01) < 0.025 < scipy.stats.binom.sf(7, 400, 0.01)
    assert alarm.threshold == 0.05
    assert alarm.score == np.quantile(with_slower(9), 0.99)
    assert_drawable(alarm, "health.latency_p99")


def test_small_windows_are_insufficient_and_missing_values_are_counted() -> None:
    latency = np.full(368, 0.2)
    assert check_latency(latency[:367], slo_seconds=0.1).status is Status.INSUFFICIENT_DATA
    assert check_latency(latency, slo_seconds=0.1).status is Status.ALARM
    with_missing = np.concatenate([latency[:367], [math.nan] * 5])
    result = check_latency(with_missing, slo_seconds=0.1, min_count=300)
    assert result.status is Status.ALARM
    assert (result.details["latencies"], result.details["missing"]) == (367, 5)
    assert result.window.n == 372
    assert check_latency([math.nan] * 400, slo_seconds=0.1).status is Status.INSUFFICIENT_DATA
    empty = check_latency([], slo_seconds=0.1)
    assert empty.status is Status.INSUFFICIENT_DATA
    assert_drawable(empty)


def test_several_quantiles_at_once_equal_one_at_a_time(rng: np.random.Generator) -> None:
    latency = rng.lognormal(math.log(MEDIAN), SIGMA_BEFORE, 5_000)
    objectives = {0.5: 0.011, 0.95: 0.015, 0.99: 0.030}
    window = Span(n=5_000)
    together = check_latencies(latency, slo_seconds=objectives, window=window)
    apart = tuple(
        check_latency(latency, quantile=q, slo_seconds=s, window=window)
        for q, s in objectives.items()
    )
    assert together == apart
    assert [r.detector for r in together] == [
        "health.latency_p50",
        "health.latency_p95",
        "health.latency_p99",
    ]
    assert [r.status for r in together] == [Status.OK, Status.ALARM, Status.OK]


def test_detector_names() -> None:
    assert [detector_name(q) for q in (0.5, 0.9, 0.999, 0.9999)] == [
        "health.latency_p50",
        "health.latency_p90",
        "health.latency_p99_9",
        "health.latency_p99_99",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slo_seconds": 0.0}, r"slo_seconds\[0.99\] must be a finite number in \(0, inf\)"),
        ({"slo_seconds": 0.1, "quantile": 0.0}, r"quantile must be"),
        ({"slo_seconds": 0.1, "min_count": 0}, r"min_count must be an integer >= 1"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_latency([0.1], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="slo_seconds must map quantiles to seconds"):
        check_latencies([0.1], slo_seconds={})


def test_a_p99_regression_breaks_the_slo_within_four_minutes(rng: np.random.Generator) -> None:
    """p99 25 -> 60 ms from minute 30; every minute the last 5 minutes against a 40 ms SLO."""
    minutes = stream(rng, 45, change=30)
    statuses = {
        m: check_latency(np.concatenate(minutes[m - 5 : m]), slo_seconds=0.040).status
        for m in range(5, 46)
    }
    alarms = [m for m, s in statuses.items() if s is Status.ALARM]
    assert alarms, "never detected"
    assert min(alarms) > 30, "alarm before the change"
    assert min(alarms) - 30 <= 4
    assert all(statuses[m] is Status.ALARM for m in range(35, 46))


def test_no_change_raises_no_alarm(rng: np.random.Generator) -> None:
    """100 five-minute windows at p99 = 25 ms against a 40 ms SLO: not even a warning."""
    minutes = stream(rng, 500, change=None)
    statuses = [
        check_latency(np.concatenate(minutes[i : i + 5]), slo_seconds=0.040).status
        for i in range(0, 500, 5)
    ]
    assert statuses.count(Status.OK) == 100
