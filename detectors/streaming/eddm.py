"""EDDM, the Early Drift Detection Method (Baena-García et al., 2006), over a binary error stream.

EDDM watches the distance between consecutive errors (the first error's distance counts from
the last reset) and acts only on errors. With ``p'`` the mean distance and ``s'`` its
standard deviation (``ddof=1``; 0 for a single distance), once more than ``warm_start``
updates were seen: if ``p' + 2 s'`` exceeds its maximum so far, the maximum moves; otherwise,
once more than ``warm_start`` errors were seen, ``level = (p' + 2 s') / max`` signals a drift
when below ``beta``, sets the warning when below ``alpha`` and clears it otherwise. As in
river, the warning is left as it was by updates that test nothing (and by the detection).

river's ``drift.binary.EDDM`` keeps the mean and variance with Welford's increments; here
they come from exact integer sums of the distances and of their squares (the same values up
to the last bits), which :meth:`EDDM.update_many` computes with cumulative sums.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from detectors.outcome import JSONValue
from detectors.streaming._base import StreamingDetector
from detectors.streaming._params import check_float, check_int
from detectors.streaming._state import StateReader, encode_float

__all__ = ["EDDM"]


class EDDM(StreamingDetector):
    """Early Drift Detection Method: errors coming closer together than they used to.

    Parameters
    ----------
    warm_start
        Updates, and then errors, seen before the detector can warn or detect.
    alpha
        Warning when ``level`` falls below it; in ``(0, 1]``.
    beta
        Drift when ``level`` falls below it; in ``(0, alpha]``.

    Examples
    --------
    river's documented stream (``statistics.md`` §7.2), with its less sensitive thresholds:

    >>> import random
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> eddm = EDDM(alpha=0.8, beta=0.75)
    >>> [i for i, flag in enumerate(eddm.update_many(stream)) if flag]
    [1278]

    References
    ----------
    .. [1] Baena-García, M., del Campo-Ávila, J., Fidalgo, R., Bifet, A., Gavaldà, R. and
       Morales-Bueno, R. (2006). Early drift detection method. Fourth International Workshop
       on Knowledge Discovery from Data Streams.
    .. [2] river ``drift.binary.EDDM`` (compared with river 0.26.1 in the tests).
    """

    name = "eddm"
    binary = True
    warns = True

    def __init__(self, *, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        owner = type(self).__name__
        self.warm_start = check_int(owner, "warm_start", warm_start, low=0)
        self.alpha = check_float(owner, "alpha", alpha, low=0.0, high=1.0, low_open=True)
        self.beta = check_float(owner, "beta", beta, low=0.0, high=self.alpha, low_open=True)
        super().__init__()

    def _reset_state(self) -> None:
        self._n = 0
        self._last_error = 0
        self._errors = 0
        self._sum = 0  # of the distances between errors
        self._sum_squares = 0
        self._p2s_max = -1.0

    def _update(self, value: float) -> bool:
        self._n += 1
        if value != 1.0:
            return False
        distance = self._n - self._last_error
        self._last_error = self._n
        self._errors += 1
        self._sum += distance
        self._sum_squares += distance * distance
        if self._n <= self.warm_start:
            return False
        p2s = _p2s(float(self._sum), float(self._sum_squares), self._errors)
        if p2s > self._p2s_max:
            self._p2s_max = p2s
            return False
        if self._errors <= self.warm_start:
            return False
        level = p2s / self._p2s_max
        if level < self.beta:
            return True
        self._warning_detected = level < self.alpha
        return False

    def _scan(self, values: NDArray[np.float64], start: int, stop: int) -> int | None:
        at = np.flatnonzero(values[start:stop] == 1.0)  # errors, in the chunk
        if at.size == 0:
            self._n += stop - start
            return None
        n = self._n + 1 + at  # updates seen at each error
        distance = np.diff(n, prepend=self._last_error)
        errors = self._errors + np.arange(1, at.size + 1)
        sums = self._sum + np.cumsum(distance)
        sum_squares = self._sum_squares + np.cumsum(distance * distance)
        p2s = _p2s_many(sums.astype(np.float64), sum_squares.astype(np.float64), errors)
        eligible = n > self.warm_start
        running_max = np.maximum.accumulate(np.where(eligible, p2s, -np.inf))
        running_max = np.maximum(running_max, self._p2s_max)
        before = np.concatenate(([self._p2s_max], running_max[:-1]))
        tested = eligible & (p2s <= before) & (errors > self.warm_start)
        level = p2s / before  # before >= 1 wherever it is tested
        drift = tested & (level < self.beta)
        hits = np.flatnonzero(drift)
        last = int(hits[0]) if hits.size else at.size - 1  # the last error processed
        sets = np.flatnonzero(tested[: last + 1] & ~drift[: last + 1])
        if sets.size:
            self._warning_detected = bool(level[sets[-1]] < self.alpha)
        self._errors, self._last_error = int(errors[last]), int(n[last])
        self._sum, self._sum_squares = int(sums[last]), int(sum_squares[last])
        self._p2s_max = float(running_max[last])
        if hits.size:
            self._n = int(n[last])
            return start + int(at[last])
        self._n += stop - start
        return None

    def _dump(self) -> dict[str, JSONValue]:
        return {
            "n": self._n,
            "last_error": self._last_error,
            "errors": self._errors,
            "sum": self._sum,
            "sum_squares": self._sum_squares,
            "p2s_max": encode_float(self._p2s_max),
        }

    def _load(self, reader: StateReader) -> None:
        self._n = reader.integer("n")
        self._last_error = reader.integer("last_error")
        self._errors = reader.integer("errors")
        self._sum = reader.integer("sum")
        self._sum_squares = reader.integer("sum_squares")
        self._p2s_max = reader.number("p2s_max", finite=True)
        if self._last_error > self._n or self._errors > self._n:
            raise reader.error("n", "is smaller than last_error or errors")
        if self._sum != self._last_error:  # the distances add up to the last error's position
            raise reader.error("sum", f"must equal last_error ({self._last_error})")


def _p2s(sums: float, sum_squares: float, errors: int) -> float:
    """``p' + 2 s'`` from the sums of the distances and of their squares."""
    mean = sums / errors
    variance = (sum_squares - sums * mean) / max(errors - 1, 1)
    return mean + 2.0 * math.sqrt(variance if variance > 0.0 else 0.0)


def _p2s_many(
    sums: NDArray[np.float64], sum_squares: NDArray[np.float64], errors: NDArray[np.int64]
) -> NDArray[np.float64]:
    """:func:`_p2s` element by element, with the same floating-point operations."""
    mean = sums / errors
    variance = (sum_squares - sums * mean) / np.maximum(errors - 1, 1)
    return mean + 2.0 * np.sqrt(np.maximum(variance, 0.0))
