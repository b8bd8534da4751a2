"""Synthetic request streams for the health scenarios (not a test module).

Time is counted in minutes from :data:`START`; timestamps are int64 epoch microseconds, as
the store hands them out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

__all__ = ["MINUTE_US", "START", "arrivals", "at", "between", "us"]

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
MINUTE_US = 60_000_000
_START_US = int(START.timestamp()) * 1_000_000


def at(minutes: float) -> datetime:
    """The moment ``minutes`` after :data:`START`."""
    return START + timedelta(minutes=minutes)


def us(minutes: float) -> int:
    """Epoch microseconds ``minutes`` after :data:`START`."""
    return _START_US + round(minutes * MINUTE_US)


def arrivals(
    rng: np.random.Generator, per_second: float, start_minute: float, end_minute: float
) -> NDArray[np.int64]:
    """Sorted timestamps of a Poisson stream of ``per_second`` requests in [start, end)."""
    low, high = us(start_minute), us(end_minute)
    count = rng.poisson(per_second * (high - low) / 1e6)
    return np.sort(rng.integers(low, high, count, dtype=np.int64))


def between(timestamps: NDArray[np.int64], start_minute: float, end_minute: float) -> slice:
    """The rows of sorted ``timestamps`` in [start, end): what a window read returns."""
    first, last = np.searchsorted(timestamps, [us(start_minute), us(end_minute)])
    return slice(int(first), int(last))
