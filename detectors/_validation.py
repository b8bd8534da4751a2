"""The one input gate of the column-wise tests.

Inputs are 2-D: rows are observations, columns are features. A 1-D array is one column.
NaN means "missing" and is dropped per column by the tests; infinities are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.errors import InvalidInputError

__all__ = ["as_columns", "check_same_width", "present"]


def as_columns(
    values: Any, name: str, *, min_rows: int = 1, allow_infinite: bool = False
) -> NDArray[np.float64]:
    """``values`` as a float64 ``(rows, columns)`` array (not copied when already one).

    ``allow_infinite`` keeps infinities, for callers that report them (data quality).

    Raises
    ------
    InvalidInputError
        If it is not numeric, not 1- or 2-D, has fewer than ``min_rows`` rows, or holds an
        infinity (the message names the column).
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"{name}: expected numbers in a 1-D or 2-D array, got malformed input"
        raise InvalidInputError(msg) from None
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        msg = f"{name}: expected a 1-D or 2-D array (rows, columns), got shape {array.shape}"
        raise InvalidInputError(msg)
    if array.shape[0] < min_rows:
        msg = (
            f"{name}: found array with {array.shape[0]} row(s) (shape={array.shape}) "
            f"while a minimum of {min_rows} is required"
        )
        raise InvalidInputError(msg)
    if allow_infinite:
        return array
    infinite = np.isinf(array)
    if infinite.any():
        column = int(np.flatnonzero(infinite.any(axis=0))[0])
        msg = f"{name}: column {column} holds an infinity; use NaN for missing values"
        raise InvalidInputError(msg)
    return array


def check_same_width(reference: NDArray[Any], current: NDArray[Any]) -> None:
    """Raise unless both arrays have the same number of columns."""
    if reference.shape[1] != current.shape[1]:
        msg = (
            f"current has {current.shape[1]} column(s) but reference has "
            f"{reference.shape[1]}: columns must match one to one"
        )
        raise InvalidInputError(msg)


def present(column: NDArray[np.float64]) -> NDArray[np.float64]:
    """The non-missing values of one column (a view when nothing is missing)."""
    mask = np.isnan(column)
    return column if not mask.any() else column[~mask]
