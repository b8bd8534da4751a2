"""When to try a failed delivery again: exponential backoff with full jitter.

The n-th retry waits a random time in ``[0, min(cap, base * 2**(n-1))]`` ("full jitter"),
so receivers coming back after an outage are not hit by every sender at once; a receiver's
``Retry-After`` is a floor (it asked for at least that long). After ``max_attempts`` tries
a delivery is dead: kept in the log for an operator, not retried.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff parameters.

    Examples
    --------
    >>> policy = RetryPolicy(base_seconds=5, cap_seconds=60, max_attempts=3)
    >>> policy.exhausted(3), policy.exhausted(2)
    (True, False)
    >>> policy.delay_seconds(attempts=1, retry_after=30.0, rng=random.Random(1)) >= 30
    True
    """

    base_seconds: float = 5.0
    cap_seconds: float = 3600.0
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.base_seconds <= self.cap_seconds:
            got = f"{self.base_seconds} and {self.cap_seconds}"
            msg = f"need 0 < base_seconds <= cap_seconds, got {got}"
            raise ValueError(msg)
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")

    def exhausted(self, attempts: int) -> bool:
        """Whether a delivery tried ``attempts`` times is dead when this try failed."""
        return attempts >= self.max_attempts

    def delay_seconds(
        self, *, attempts: int, retry_after: float | None, rng: random.Random
    ) -> float:
        """Seconds to wait after the ``attempts``-th failed try."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        delay = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap_seconds))
        return delay

    def retry_at(
        self,
        now: dt.datetime,
        *,
        attempts: int,
        retry_after: float | None,
        rng: random.Random,
    ) -> dt.datetime:
        """When the next try is due."""
        delay = self.delay_seconds(attempts=attempts, retry_after=retry_after, rng=rng)
        return now + dt.timedelta(seconds=delay)
