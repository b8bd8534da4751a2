"""Data-quality findings met on the way to a drift check, reported rather than raised.

Works on the raw columns (before the tests' input gate), so infinities are counted here
and can then be treated as missing by the caller. Categorical columns are dictionary codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

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


def _constant(array: NDArray[np.float64]) -> NDArray[np.bool_]:
    """No two different finite values in a column (all missing counts as constant).

    ``fmin`` / ``fmax`` skip NaN without temporary copies; only columns holding an
    infinity need the slower masked pass.
    """
    if array.shape[0] == 0:
        return np.ones(array.shape[1], dtype=np.bool_)
    low = np.fmin.reduce(array, axis=0)
    high = np.fmax.reduce(array, axis=0)
    infinite = np.isinf(low) | np.isinf(high)
    if infinite.any():
        columns = array[:, infinite]
        finite = np.isfinite(columns)
        low[infinite] = np.where(finite, columns, np.inf).min(axis=0)
        high[infinite] = np.where(finite, columns, -np.inf).max(axis=0)
    return np.asarray(~(high > low))


def _share(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    rows = mask.shape[0]
    if rows == 0:
        return np.zeros(mask.shape[1])
    return np.asarray(mask.sum(axis=0) / rows, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SideQuality:
    """The findings of one side (reference or current)."""

    missing: NDArray[np.float64]
    infinite: NDArray[np.int64]
    constant: NDArray[np.bool_]


def describe(values: ArrayLike, name: str = "values") -> SideQuality:
    """Missing share, infinities and constancy of every column of one side."""
    array = _raw(values, name)
    return SideQuality(
        missing=_share(np.isnan(array)),
        infinite=np.isinf(array).sum(axis=0).astype(np.int64),
        constant=_constant(array),
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
