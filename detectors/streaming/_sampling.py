"""``random.Random(seed).sample(range(population), k)``, call after call, with a saveable state.

river's KSWIN draws its reference sample with Python's ``random.Random.sample``; matching its
detections means drawing the same indices. :class:`SampleRows` reproduces CPython's
``sample`` (:mod:`detectors.streaming._draws`) on the Mersenne Twister words of numpy's
:class:`~numpy.random.MT19937` loaded with Python's seeded state, so it knows how many words
each call used and can give the generator's exact state after any call. The tests compare it
with ``random.Random`` itself.

Rows are kept once drawn: after a reset KSWIN re-seeds, so the same rows come again.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.streaming._draws import Words, looped_rows, pooled_rows, uses_pool

__all__ = ["MTState", "SampleRows", "seeded_state"]

#: Mersenne Twister state as Python and numpy both hold it: 624 words and a position.
MTState = tuple[list[int], int]

_ROWS_PER_FETCH = 256


def seeded_state(seed: int) -> MTState:
    """The state of ``random.Random(seed)`` (Python's seeding, not numpy's)."""
    _, internal, _ = random.Random(seed).getstate()
    return list(internal[:624]), internal[624]


class SampleRows:
    """The rows ``first, first + 1, …`` of samples drawn from a generator in a known state.

    Rows are drawn on demand and kept (as small integers) so that they can be read again;
    past ``max_rows`` kept rows the oldest are dropped and :attr:`first` moves on.

    Parameters
    ----------
    population, k
        Each row is ``sample(range(population), k)``; ``population < 2**32``.
    state
        The generator's state before row ``first``.
    first
        The index of that row.
    max_rows
        How many rows to keep at most.
    """

    def __init__(
        self, population: int, k: int, state: MTState, first: int = 0, *, max_rows: int = 1 << 20
    ) -> None:
        self.population = population
        self.k = k
        self.first = first
        self.max_rows = max_rows
        self._origin = state
        generator = np.random.MT19937()
        generator.state = _numpy_state(state)
        self._words = Words(generator)  # counts the words used since ``state``
        dtype = np.min_scalar_type(max(population - 1, 0))
        self._table = np.empty((_ROWS_PER_FETCH, k), dtype=dtype)
        self._kept = 0  # rows in _table, from row ``first``
        #: Words used before row ``first + i``, relative to ``state``.
        self._used = np.zeros(_ROWS_PER_FETCH + 1, dtype=np.int64)

    def get(self, row: int, count: int) -> NDArray[np.integer[Any]]:
        """Rows ``row … row + count − 1`` as a ``(count, k)`` array."""
        if row < self.first:
            raise ValueError(f"row {row} precedes the first kept row {self.first}")
        if row - self.first > self.max_rows // 2 and self._kept > self.max_rows:
            self._drop(row - self.first)
        while self._kept < row - self.first + count:
            self._draw(max(_ROWS_PER_FETCH, row - self.first + count - self._kept))
        return self._table[row - self.first : row - self.first + count].copy()

    def state_after(self, rows: int) -> MTState:
        """The generator's state once the rows before row ``rows`` were drawn."""
        self.get(rows, 0)
        generator = np.random.MT19937()
        generator.state = _numpy_state(self._origin)
        generator.random_raw(int(self._used[rows - self.first]), output=False)
        state = generator.state["state"]
        return [int(w) for w in state["key"]], int(state["pos"])

    def _drop(self, rows: int) -> None:
        """Forget the oldest ``rows`` rows."""
        kept = self._kept - rows
        self._table[:kept] = self._table[rows : self._kept]
        self._used[: kept + 1] = self._used[rows : self._kept + 1]
        self.first += rows
        self._kept = kept

    def _draw(self, rows: int) -> None:
        if self._kept + rows > self._table.shape[0]:
            capacity = max(2 * self._table.shape[0], self._kept + rows)
            table = np.empty((capacity, self.k), dtype=self._table.dtype)
            table[: self._kept] = self._table[: self._kept]
            used = np.zeros(capacity + 1, dtype=np.int64)
            used[: self._kept + 1] = self._used[: self._kept + 1]
            self._table, self._used = table, used
        fast = uses_pool(self.population, self.k) and self.k <= 254
        draw = pooled_rows if fast else looped_rows
        found, ends = draw(self._words, self.population, self.k, rows)
        self._table[self._kept : self._kept + rows] = found
        self._used[self._kept + 1 : self._kept + rows + 1] = ends
        self._kept += rows


def _numpy_state(state: MTState) -> Any:
    key, pos = state
    return {"bit_generator": "MT19937", "state": {"key": np.array(key, np.uint32), "pos": pos}}
