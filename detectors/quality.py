"""Data-quality findings met on the way to a drift check, reported rather than raised.

Works on the raw columns (before the tests' input gate), so infinities are counted here
and can then be treated as missing by the caller. Categorical columns are dictionary codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors._layout import map_row_blocks
from detectors._validation import as_columns, present
from detectors.errors import InvalidInputError

__all__ = [
    "ColumnQuality",
    "SideQuality",
    "assess",
    "combine",
    "describe",
    "unseen_share",
    "unseen_share_of",
]


@dataclass(frozen=True, slots=True)
class ColumnQuality:
    """Per-column findings for a reference / current pair (one entry per column).

    Attributes
    ----------
    missing_reference, missing_current
        Share of NaN values.
    infinite_reference, infinite_current
        Count of +inf / -inf values.
    constant_reference, constant_current
        All non-missing finite values are equal (or there are none).
    """

    missing_reference: NDArray[np.float64]
    missing_current: NDArray[np.float64]
    infinite_reference: NDArray[np.int64]
    infinite_current: NDArray[np.int64]
    constant_reference: NDArray[np.bool_]
    constant_current: NDArray[np.bool_]


def _raw(values: ArrayLike, name: str) -> NDArray[np.float64]:
    return as_columns(values, name, min_rows=0, allow_infinite=True)


#: Rows per block of :func:`describe`: 2048 rows of 100 float64 columns are 1.6 MB.
_BLOCK_ROWS = 2048


def _block_stats(
    array: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Missing and infinite counts, ``fmin`` and ``fmax`` per column, one row block at a time.

    Each statistic is exact whatever the blocks (counts add up, minima and maxima combine),
    and a block is small enough for its temporaries to stay in cache.
    """
    missing = np.zeros(array.shape[1], dtype=np.int64)
    infinite = np.zeros(array.shape[1], dtype=np.int64)
    low = np.full(array.shape[1], np.nan)
    high = np.full(array.shape[1], np.nan)
    for start in range(0, array.shape[0], _BLOCK_ROWS):
        block = array[start : start + _BLOCK_ROWS]
        missing += np.count_nonzero(np.isnan(block), axis=0)
        infinite += np.count_nonzero(np.isinf(block), axis=0)
        np.fmin(low, np.fmin.reduce(block, axis=0), out=low)
        np.fmax(high, np.fmax.reduce(block, axis=0), out=high)
    return missing, infinite, low, high


def _constant(
    array: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """No two different finite values in a column (all missing counts as constant).

    ``low`` and ``high`` are the column's ``fmin`` / ``fmax`` (NaN skipped); only columns
    holding an infinity need the slower masked pass.
    """
    if array.shape[0] == 0:
        return np.ones(array.shape[1], dtype=np.bool_)
    infinite = np.isinf(low) | np.isinf(high)
    if infinite.any():
        columns = array[:, infinite]
        finite = np.isfinite(columns)
        low[infinite] = np.where(finite, columns, np.inf).min(axis=0)
        high[infinite] = np.where(finite, columns, -np.inf).max(axis=0)
    return np.asarray(~(high > low))


@dataclass(frozen=True, slots=True)
class SideQuality:
    """The findings of one side (reference or current)."""

    missing: NDArray[np.float64]
    infinite: NDArray[np.int64]
    constant: NDArray[np.bool_]


def describe(values: ArrayLike, name: str = "values") -> SideQuality:
    """Missing share, infinities and constancy of every column of one side."""
    array = _raw(values, name)
    rows = array.shape[0]
    parts = map_row_blocks(_block_stats, array, rows=_BLOCK_ROWS * 16)
    if parts:
        missing = np.sum([part[0] for part in parts], axis=0)
        infinite = np.sum([part[1] for part in parts], axis=0)
        low = np.fmin.reduce([part[2] for part in parts], axis=0)
        high = np.fmax.reduce([part[3] for part in parts], axis=0)
    else:
        missing = infinite = np.zeros(array.shape[1], dtype=np.int64)
        low = high = np.full(array.shape[1], np.nan)
    return SideQuality(
        missing=missing / rows if rows else np.zeros(array.shape[1]),
        infinite=infinite.astype(np.int64),
        constant=_constant(array, low, high),
    )


def combine(reference: SideQuality, current: SideQuality) -> ColumnQuality:
    """The findings of both sides as one :class:`ColumnQuality`."""
    if len(reference.missing) != len(current.missing):
        msg = (
            f"current has {len(current.missing)} column(s) but reference has "
            f"{len(reference.missing)}"
        )
        raise InvalidInputError(msg)
    return ColumnQuality(
        missing_reference=reference.missing,
        missing_current=current.missing,
        infinite_reference=reference.infinite,
        infinite_current=current.infinite,
        constant_reference=reference.constant,
        constant_current=current.constant,
    )


def assess(reference: ArrayLike, current: ArrayLike) -> ColumnQuality:
    """Missing shares, infinities and constant columns of both sides.

    Examples
    --------
    >>> q = assess([[1.0, 5.0], [np.nan, 5.0]], [[2.0, np.inf], [3.0, 5.0]])
    >>> q.missing_reference.tolist(), q.infinite_current.tolist(), q.constant_reference.tolist()
    ([0.5, 0.0], [0, 1], [True, True])
    """
    return combine(describe(reference, "reference"), describe(current, "current"))


def unseen_share(reference_codes: ArrayLike, current_codes: ArrayLike) -> NDArray[np.float64]:
    """Per categorical column: share of current values whose category the reference lacks.

    Missing values (NaN) count in neither numerator nor denominator.

    Examples
    --------
    >>> unseen_share([[1.0], [2.0]], [[1.0], [3.0], [3.0], [np.nan]]).round(3).tolist()
    [0.667]
    """
    ref = _raw(reference_codes, "reference")
    cur = _raw(current_codes, "current")
    if ref.shape[1] != cur.shape[1]:
        msg = f"current has {cur.shape[1]} column(s) but reference has {ref.shape[1]}"
        raise InvalidInputError(msg)
    known = [np.unique(present(ref[:, j])) for j in range(ref.shape[1])]
    return unseen_share_of(known, cur)


def unseen_share_of(
    known: Sequence[NDArray[np.float64]], current_codes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """:func:`unseen_share` against the known categories of each column (e.g. prepared)."""
    out = np.zeros(len(known))
    for j, categories in enumerate(known):
        values = present(current_codes[:, j])
        if values.size:
            out[j] = float(np.mean(~np.isin(values, categories)))
    return out
