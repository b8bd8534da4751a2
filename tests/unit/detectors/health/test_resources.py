"""Queue saturation and resource use (:mod:`detectors.health.resources`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detectors.errors import InvalidInputError
from detectors.health import check_cpu, check_memory, check_queue, check_spool, check_write_lag
from detectors.health.resources import sustained
from detectors.outcome import Span, Status
from tests.unit.detectors.failures.support import assert_drawable


@settings(deadline=None, max_examples=200)
@given(
    arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 10)),
    st.floats(0.01, 1.0),
)
def test_sustained_level_is_the_highest_level_held_by_the_share(
    values: np.ndarray, share: float
) -> None:
    level = sustained(values, share)
    needed = math.ceil(share * len(values))
    assert (values >= level).sum() >= needed
    higher = values[values > level]
    assert all((values >= v).sum() < needed for v in higher)


def test_queue_saturation() -> None:
    depth = np.array([10, 950, 990, 1000, 980, 20])
    result = check_queue(depth, capacity=1000)
    assert result.status is Status.ALARM
    assert result.score == pytest.approx(4 / 6)
    assert (result.details["peak_fill"], result.details["latest_fill"]) == (1.0, 0.02)
    assert_drawable(result, "health.queue_saturation")
    assert check_queue([10, 950, 20, 30], capacity=1000).status is Status.WARNING  # 1 in 4
    assert check_queue(depth, capacity=2000).status is Status.OK
    per_sample = check_queue(depth, capacity=[100, 1000, 2000, 2000, 2000, 100])
    assert per_sample.score == pytest.approx(1 / 6)  # only 950 of 1000
    assert check_queue([], capacity=10).status is Status.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": 0}, r"capacity: expected positive capacities"),
        ({"capacity": [10, 10]}, r"capacity has 2 entries but depth has 3"),
        ({"capacity": 10, "saturation": 0}, r"saturation must be a number in \(0, 1\]"),
        ({"capacity": 10, "warning_share": 0.6}, r"warning_share must be <= sustained_share"),
    ],
)
def test_queue_parameters_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_queue([1, 2, 3], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"depth: expected values >= 0, got -1 at 0"):
        check_queue([-1], capacity=10)


def test_resources_score_their_sustained_utilisation() -> None:
    cpu = check_cpu([0.5, 0.95, 0.97, 0.92, 0.4])
    assert (cpu.status, cpu.score, cpu.threshold) == (Status.ALARM, 0.92, 0.9)
    assert_drawable(cpu, "health.cpu")
    # One spike is not sustained.
    assert check_cpu([0.5, 0.99, 0.3, 0.2, 0.4]).status is Status.OK
    assert check_cpu([0.5, 0.99, 0.3], sustained_share=0.3).alarm
    memory = check_memory([3.1e9, 3.3e9, 3.4e9], limit_bytes=4e9)
    assert (memory.status, memory.score) == (Status.WARNING, 0.825)
    assert memory.details["sustained_value"] == 3.3e9
    assert_drawable(memory, "health.memory")
    spool = check_spool(9.5e8, quota_bytes=1e9, window=Span(n=1))
    assert spool.alarm
    assert spool.window == Span(n=1)
    lag = check_write_lag([2.0, 31.0, 45.0, 40.0], max_seconds=30)
    assert (lag.status, lag.details["sustained_value"]) == (Status.ALARM, 40.0)
    assert check_write_lag([16.0], max_seconds=30).status is Status.WARNING
    assert check_write_lag([], max_seconds=30).status is Status.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_cpu([0.5], limit=0), r"limit must be a finite number in \(0, inf\)"),
        (lambda: check_memory([1.0], limit_bytes=-1), r"limit_bytes must be"),
        (lambda: check_spool([1.0], quota_bytes=1, warning_at=0.95), r"warning_at must be <="),
        (lambda: check_write_lag([math.nan], max_seconds=1), r"write_lag: expected no NaN"),
        (lambda: check_cpu([0.5], sustained_share=1.5), r"sustained_share must be"),
    ],
)
def test_resource_parameters_are_checked(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(InvalidInputError, match=message):
        call()
