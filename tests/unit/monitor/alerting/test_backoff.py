"""Retry delays: exponential ceiling, full jitter, Retry-After as a floor, a cap."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting.backoff import RetryPolicy

POLICY = RetryPolicy(base_seconds=5, cap_seconds=3600, max_attempts=10)


@given(attempts=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_delays_stay_under_the_exponential_ceiling_and_the_cap(attempts: int, seed: int) -> None:
    delay = POLICY.delay_seconds(attempts=attempts, retry_after=None, rng=random.Random(seed))

    assert 0 <= delay <= min(3600, 5 * 2 ** (attempts - 1))


def test_the_ceiling_doubles_and_delays_spread_over_it() -> None:
    rng = random.Random(0)
    for attempts, ceiling in ((1, 5), (2, 10), (4, 40), (12, 3600)):
        delays = [
            POLICY.delay_seconds(attempts=attempts, retry_after=None, rng=rng) for _ in range(2000)
        ]
        assert max(delays) <= ceiling
        assert max(delays) > 0.95 * ceiling  # jitter covers the whole range
        assert min(delays) < 0.05 * ceiling


@given(retry_after=st.floats(0, 10_000), seed=st.integers(0, 2**32))
def test_retry_after_is_a_floor_up_to_the_cap(retry_after: float, seed: int) -> None:
    delay = POLICY.delay_seconds(attempts=1, retry_after=retry_after, rng=random.Random(seed))

    assert delay >= min(retry_after, 3600)
    assert delay <= max(5.0, min(retry_after, 3600))


def test_retry_at_adds_the_delay_and_attempts_run_out() -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    at = POLICY.retry_at(now, attempts=1, retry_after=120.0, rng=random.Random(3))

    assert at - now == dt.timedelta(seconds=120)
    assert not POLICY.exhausted(9)
    assert POLICY.exhausted(10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_seconds": 0}, "need 0 < base_seconds <= cap_seconds, got 0 and 3600.0"),
        ({"base_seconds": 10, "cap_seconds": 5}, "got 10 and 5"),
        ({"max_attempts": 0}, "max_attempts must be >= 1, got 0"),
    ],
)
def test_bad_parameters_say_which(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
