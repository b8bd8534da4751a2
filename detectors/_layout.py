"""Row-major frames to one contiguous row per column, copied in cache-sized blocks on threads.

A frame arrives as ``(rows, columns)`` in C order, so one column is strided: reading it touches
a cache line per value, and ``np.array(frame.T, order="C")`` walks the frame that way too. Per
column work (sorting, counting) wants each column contiguous. :func:`by_column` copies blocks of
a few hundred rows at a time, each small enough to stay in cache while it is transposed, and
splits the rows between the threads of :mod:`detectors._threads` (copies release the GIL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from detectors._threads import map_columns, workers

__all__ = ["by_column", "map_row_blocks"]

T = TypeVar("T")

#: Rows copied at a time: 512 rows of 100 float64 columns are 400 KB, within L2.
_BLOCK_ROWS = 512


def by_column(
    array: NDArray[np.float64], columns: Sequence[int] | None = None
) -> NDArray[np.float64]:
    """A new C-ordered ``(len(columns), rows)`` copy of ``array[:, columns]`` (all by default)."""
    rows = array.shape[0]
    picked = None if columns is None else np.asarray(columns, dtype=np.intp)
    width = array.shape[1] if picked is None else picked.size
    out = np.empty((width, rows), dtype=array.dtype)
    if rows == 0 or width == 0:
        return out
    if picked is not None and picked.size == array.shape[1] and (picked == np.arange(width)).all():
        picked = None

    def copy(bounds: tuple[int, int]) -> None:
        for start in range(bounds[0], bounds[1], _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, bounds[1])
            block = array[start:stop] if picked is None else array[start:stop, picked]
            out[:, start:stop] = block.T

    edges = np.linspace(0, rows, workers() + 1).astype(int).tolist()
    map_columns(copy, list(pairwise(edges)), values=out.size)
    return out


def map_row_blocks(
    function: Callable[[NDArray[np.float64]], T], array: NDArray[np.float64], *, rows: int
) -> list[T]:
    """``function`` of each block of ``rows`` rows of ``array`` in order, on threads."""
    starts = range(0, array.shape[0], rows)
    return map_columns(
        lambda start: function(array[start : start + rows]), starts, values=array.size
    )
