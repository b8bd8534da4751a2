"""KSWIN, Kolmogorov–Smirnov windowing (Raab et al., 2020), as river implements it.

A sliding window holds the last ``window_size`` values. Once it is full, every update
compares its newest ``stat_size`` values with ``stat_size`` values drawn without replacement
from the older ones (``random.Random(seed).sample``, as river) by the two-sample
Kolmogorov–Smirnov test (:func:`scipy.stats.ks_2samp`, ``method='auto'``): a drift when the
p-value is at most ``alpha`` and the statistic exceeds 0.1. After a drift the next update
starts an empty window and re-seeds the generator, so the next test needs ``window_size``
new values.

Both samples have ``stat_size`` values, so the statistic is ``h / stat_size`` for an integer
``h`` and the verdict depends on ``h`` alone: it is a drift from the smallest ``h`` scipy's
p-value and the 0.1 rule flag (found once, with scipy). :meth:`KSWIN.update_many` computes
``h`` for a whole chunk of tests with one row-wise sort.

``alpha`` applies to every test, without correction for the many tests of a stream: on N(0,
1) noise the default 0.005 raises 31 false alarms per 20 000 values (``statistics.md`` §7.1).
A change is only visible while the window holds values from both sides of it: a change
missed within ``window_size`` values is never detected.

Cost: a test per update once the window is full (one row-wise sort of ``2 · stat_size``
ranks, vectorised per chunk), and a sample row per test. Rows come from
:class:`~detectors.streaming._sampling.SampleRows`, which keeps them: after a reset the same
seeded rows come again, so a stream with detections draws few new ones, while a long run
without detection draws one per update (a few microseconds each).
"""

from __future__ import annotations

import functools
import warnings
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from detectors.outcome import JSONValue
from detectors.streaming._base import StreamingDetector
from detectors.streaming._params import check_float, check_int
from detectors.streaming._sampling import SampleRows, seeded_state
from detectors.streaming._state import StateReader, encode_floats

__all__ = ["KSWIN"]

#: Largest ``stat_size``: scipy's ``method='auto'`` is exact up to here, with the statistic
#: rounded to ``h / stat_size``.
MAX_STAT_SIZE = 10_000


class KSWIN(StreamingDetector):
    """Kolmogorov–Smirnov windowing: the newest values against a sample of older ones.

    Parameters
    ----------
    alpha
        Significance of each test, in ``(0, 1)``.
    window_size
        Length of the sliding window.
    stat_size
        Values in each of the two samples, at most ``window_size // 2`` (the older part of
        the window must hold enough values to draw from) and 10 000.
    seed
        Seed of the sampling generator, a non-negative integer. river's default is
        ``None`` (a fresh seed at every reset); here runs are reproducible by default.

    Examples
    --------
    river's documented stream (``statistics.md`` §7.2): values in {0, 1}, then in 4–7.

    >>> import random
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> kswin = KSWIN(alpha=0.0001, seed=42)
    >>> [i for i, flag in enumerate(kswin.update_many(stream)) if flag]
    [1016]

    The statistic and p-value of the test that detected it:

    >>> kswin = KSWIN(alpha=0.0001, seed=42)
    >>> bool(kswin.update_many(stream[:1017])[-1]), round(kswin.statistic, 4)
    (True, 0.5667)
    >>> kswin.p_value < 0.0001
    True

    References
    ----------
    .. [1] Raab, C., Heusinger, M. and Schleif, F.-M. (2020). Reactive soft prototype
       computing for concept drift streams. Neurocomputing 416, 340–351.
    .. [2] river ``drift.KSWIN`` (compared with river 0.26.1 in the tests).
    """

    name = "kswin"
    max_chunk = 1 << 15

    def __init__(
        self, *, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30, seed: int = 0
    ) -> None:
        owner = type(self).__name__
        self.alpha = check_float(
            owner, "alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True
        )
        self.window_size = check_int(owner, "window_size", window_size, low=2, high=2**31)
        self.stat_size = check_int(
            owner, "stat_size", stat_size, low=1, high=min(window_size // 2, MAX_STAT_SIZE)
        )
        self.seed = check_int(owner, "seed", seed, low=0)
        self._critical = _critical(self.stat_size, self.alpha)
        self._seeded_rows = self._rows_from_seed()
        super().__init__()

    @property
    def statistic(self) -> float | None:
        """The Kolmogorov–Smirnov statistic of the last test (None before the first)."""
        return None if self._h is None else _ks(self.stat_size, self._h)[0]

    @property
    def p_value(self) -> float | None:
        """scipy's p-value of the last test (None before the first)."""
        return None if self._h is None else _ks(self.stat_size, self._h)[1]

    def _rows_from_seed(self) -> SampleRows:
        older = self.window_size - self.stat_size
        return SampleRows(older, self.stat_size, seeded_state(self.seed))

    def _reset_state(self) -> None:
        self._n = 0
        self._window: deque[float] = deque(maxlen=self.window_size)
        self._h: int | None = None
        if self._seeded_rows.first != 0:  # it dropped its first rows: draw them again
            self._seeded_rows = self._rows_from_seed()
        self._rows = self._seeded_rows

    def _update(self, value: float) -> bool:
        self._n += 1
        self._window.append(value)
        if len(self._window) < self.window_size:
            return False
        window = np.array(self._window)
        recent = window[self.window_size - self.stat_size :]
        sample = np.sort(window[self._rows.get(self._n - self.window_size, 1)[0]])
        newest = np.sort(recent)
        pooled = np.concatenate((sample, newest))
        below = np.searchsorted(sample, pooled, "right") - np.searchsorted(newest, pooled, "right")
        self._h = int(np.abs(below).max())
        if self._h < self._critical:
            return False
        self._window = deque(recent, maxlen=self.window_size)
        return True

    def _scan(self, values: NDArray[np.float64], start: int, stop: int) -> int | None:
        size, width = self.window_size, self.stat_size
        window = np.concatenate((np.array(self._window), values[start:stop]))
        first = max(0, size - 1 - self._n)  # the chunk's first update that tests
        count = stop - start
        if first < count:
            ends = np.arange(len(self._window) + first, window.size)  # each test's newest value
            rows = self._rows.get(self._n + first + 1 - size, ends.size)
            h = _distances(window, ends, rows, size, width)
            hits = np.flatnonzero(h >= self._critical)
            if hits.size:
                hit = int(hits[0])
                self._n += first + hit + 1
                self._h = int(h[hit])
                newest = window[ends[hit] - width + 1 : ends[hit] + 1]
                self._window = deque(newest, maxlen=size)
                return start + first + hit
            self._h = int(h[-1])
        self._n += count
        self._window = deque(window[-size:], maxlen=size)
        return None

    def _dump(self) -> dict[str, JSONValue]:
        key, position = self._rows.state_after(max(0, self._n - self.window_size + 1))
        return {
            "n": self._n,
            "window": encode_floats(self._window),
            "h": self._h,
            "rng_key": list[JSONValue](key),
            "rng_pos": position,
        }

    def _load(self, reader: StateReader) -> None:
        self._n = reader.integer("n")
        expected = self.stat_size if self.drift_detected else min(self._n, self.window_size)
        self._window = deque(reader.numbers("window", length=expected), maxlen=self.window_size)
        self._h = reader.optional_integer("h")
        if self._h is not None and self._h > self.stat_size:
            raise reader.error("h", f"must be at most stat_size ({self.stat_size})")
        key = reader.integers("rng_key")
        position = reader.integer("rng_pos")
        if len(key) != 624 or max(key, default=0) >= 2**32 or not any(key) or position > 624:
            msg = "and 'rng_pos' must be a Mersenne Twister state (624 words, position <= 624)"
            raise reader.error("rng_key", msg)
        older = self.window_size - self.stat_size
        tests = max(0, self._n - self.window_size + 1)
        self._rows = SampleRows(older, self.stat_size, (key, position), first=tests)


def _distances(
    window: NDArray[np.float64],
    ends: NDArray[np.int64],
    rows: NDArray[np.integer[Any]],
    size: int,
    width: int,
) -> NDArray[np.int16]:
    """``h = width · D`` of each test: the newest ``width`` values up to ``ends`` against
    the values at ``rows`` of the ``size`` values up to ``ends``.

    Values become ranks (ties equal), each tagged with its sample in the lowest bit; after a
    row-wise sort, the running count difference at the last value of each run of ties is
    the ECDF difference there, times ``width``.
    """
    unique, ranks = np.unique(window, return_inverse=True)
    tagged = (ranks * 2).astype(np.int32)
    sample = tagged[(ends - size + 1)[:, np.newaxis] + rows]
    recent = tagged[(ends - width + 1)[:, np.newaxis] + np.arange(width)] + 1
    keys = np.sort(np.concatenate((sample, recent), axis=1), axis=1).T.copy()  # (2 width, tests)
    difference = (keys & 1).astype(np.int16)  # running: recent values minus sample values
    for i in range(1, difference.shape[0]):
        np.add(difference[i - 1], difference[i], out=difference[i])
    difference *= 2
    difference -= np.arange(1, difference.shape[0] + 1, dtype=np.int16)[:, np.newaxis]
    if unique.size < window.size:  # ties: only the last of equal values ends a step
        difference[:-1] *= (keys[:-1] >> 1) != (keys[1:] >> 1)
    return np.asarray(np.maximum(difference.max(axis=0), -difference.min(axis=0)), np.int16)


@functools.lru_cache(maxsize=1024)
def _ks(stat_size: int, h: int) -> tuple[float, float]:
    """scipy's ``ks_2samp(method='auto')`` statistic and p-value for two samples of
    ``stat_size`` values at distance ``h / stat_size`` (they depend on nothing else)."""
    reference = np.arange(stat_size, dtype=np.float64)
    with warnings.catch_warnings():  # as river: method='auto' may warn
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ks_2samp(reference, reference + h, method="auto")
    return float(result.statistic), float(result.pvalue)


@functools.lru_cache(maxsize=64)
def _critical(stat_size: int, alpha: float) -> int:
    """The smallest ``h`` river's rule flags (``p <= alpha`` and statistic ``> 0.1``), or
    ``stat_size + 1`` if none; the p-value falls as ``h`` grows, so a bisection finds it."""
    low, high = 0, stat_size + 1
    while low < high:
        h = (low + high) // 2
        statistic, p_value = _ks(stat_size, h)
        if p_value <= alpha and statistic > 0.1:
            high = h
        else:
            low = h + 1
    return low
