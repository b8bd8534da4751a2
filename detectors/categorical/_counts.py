"""Category counts: the fitted reference of the categorical tests and the 2 × c tables.

Categorical features arrive as float64 dictionary codes: integers stored exactly, NaN for a
missing value. Codes identify categories; they are never magnitudes, so only equality between
codes matters, and every test here is unchanged by any relabelling of the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors._layout import by_column, map_row_blocks
from detectors._validation import as_columns, check_same_width, present
from detectors.errors import InvalidInputError

__all__ = [
    "CategoryReference",
    "as_reference",
    "binary_tables",
    "contingency",
    "expected_counts",
    "padded",
    "prepare",
    "unseen",
]

_Array = TypeVar("_Array", bound=NDArray[Any])

#: Rows per block of the integrality check (its temporaries stay in cache).
_BLOCK_ROWS = 16_384
#: Codes below this bound (or below the sample size) are counted densely by ``bincount``.
_DENSE_CODES = 1 << 16


@dataclass(frozen=True, slots=True, eq=False)
class CategoryReference:
    """The reference sample reduced to its category counts, one entry per column.

    Built by :func:`prepare`; every test of :mod:`detectors.categorical` accepts it in place
    of the raw reference, so the reference is counted once. The arrays are read-only.

    Attributes
    ----------
    categories
        Per column, the distinct non-missing codes, sorted ascending.
    counts
        Per column, how often each of ``categories`` occurs (all positive).
    n
        Per column, the number of non-missing values.
    """

    categories: tuple[NDArray[np.float64], ...]
    counts: tuple[NDArray[np.int64], ...]
    n: NDArray[np.int64]

    def __post_init__(self) -> None:
        if not len(self.categories) == len(self.counts) == len(self.n):
            msg = (
                f"CategoryReference: categories, counts and n must have one entry per column, "
                f"got {len(self.categories)}, {len(self.counts)} and {len(self.n)}"
            )
            raise InvalidInputError(msg)

    @property
    def width(self) -> int:
        """The number of columns."""
        return len(self.categories)


def codes(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """``values`` as a float64 ``(rows, columns)`` array of integral codes (NaN = missing).

    Raises
    ------
    InvalidInputError
        As :func:`detectors._validation.as_columns`, or if a column holds a non-integral
        value (the message names the column).
    """
    array = as_columns(values, name)
    fractional = np.any(map_row_blocks(_fractional, array, rows=_BLOCK_ROWS), axis=0)
    if fractional.any():
        column = int(np.flatnonzero(fractional)[0])
        msg = (
            f"{name}: column {column} holds a non-integral value; categorical codes must be "
            f"integers (stored as float64, NaN for missing)"
        )
        raise InvalidInputError(msg)
    return array


def _fractional(block: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Per column of a block of rows: holds a non-integral value (NaN is not one)."""
    fractional = block != np.trunc(block)
    fractional &= ~np.isnan(block)
    return np.asarray(fractional.any(axis=0))


def prepare(reference: ArrayLike) -> CategoryReference:
    """Count the categories of every reference column once, for repeated tests.

    Parameters
    ----------
    reference
        ``(n, k)`` codes (a 1-D array is one column); NaN is missing and not counted.

    Returns
    -------
    CategoryReference
        Sorted distinct codes and their counts per column.

    Raises
    ------
    InvalidInputError
        If ``reference`` is not a numeric 1-D or 2-D array with at least one row, or holds an
        infinity or a non-integral value.

    Examples
    --------
    >>> fitted = prepare([[2.0, 0.0], [1.0, float("nan")], [2.0, 5.0]])
    >>> fitted.categories[0].tolist(), fitted.counts[0].tolist(), fitted.n.tolist()
    ([1.0, 2.0], [1, 2], [3, 2])
    """
    array = codes(reference, "reference")
    categories: list[NDArray[np.float64]] = []
    counts: list[NDArray[np.int64]] = []
    none = np.empty(0)
    for column in by_column(array):
        # the tally against no known category is np.unique(..., return_counts=True)
        _, values, tally = _tally(none, present(column))
        categories.append(_read_only(values.astype(np.float64)))
        counts.append(_read_only(tally.astype(np.int64)))
    n = np.array([tally.sum() for tally in counts], dtype=np.int64)
    return CategoryReference(tuple(categories), tuple(counts), _read_only(n))


def as_reference(reference: ArrayLike | CategoryReference) -> CategoryReference:
    """``reference`` itself if already prepared, else :func:`prepare` of it."""
    if isinstance(reference, CategoryReference):
        return reference
    return prepare(reference)


def contingency(prepared: CategoryReference, current: ArrayLike) -> list[NDArray[np.int64]]:
    """One ``(2, c)`` int64 table per column: reference counts over current counts.

    Columns of a table are the union of the categories of both samples: the reference's in
    its (sorted) order, then the categories only the current sample has, sorted. A category
    absent from both never appears (no all-zero table column). NaN is dropped.

    Raises
    ------
    InvalidInputError
        If ``current`` is malformed (see :func:`prepare`) or its width differs from the
        reference's.

    Examples
    --------
    >>> fitted = prepare([3.0, 1.0, 3.0])
    >>> contingency(fitted, [7.0, 3.0, float("nan"), 0.0])[0].tolist()
    [[1, 2, 0, 0], [0, 1, 1, 1]]
    """
    array = codes(current, "current")
    check_same_width(np.empty((0, prepared.width)), array)
    array = array if array.flags.f_contiguous else by_column(array).T
    return [
        _table(categories, counts, present(column))
        for categories, counts, column in zip(
            prepared.categories, prepared.counts, array.T, strict=True
        )
    ]


def unseen(prepared: CategoryReference, current: ArrayLike) -> NDArray[np.int64]:
    """Per column, how many distinct current categories the reference never saw.

    Examples
    --------
    >>> unseen(prepare([[1.0, 1.0], [2.0, 1.0]]), [[1.0, 4.0], [9.0, 5.0]]).tolist()
    [1, 2]
    """
    tables = contingency(prepared, current)
    return np.array([np.count_nonzero(table[0] == 0) for table in tables], dtype=np.int64)


def padded(tables: list[NDArray[np.int64]], *, min_width: int = 0) -> NDArray[np.int64]:
    """Stack the tables into one ``(columns, 2, c_max)`` array, padding with zero columns.

    A zero column adds nothing to any statistic here and no degree of freedom.
    """
    width = max([min_width, *(table.shape[1] for table in tables)])
    stacked = np.zeros((len(tables), 2, width), dtype=np.int64)
    for stack, table in zip(stacked, tables, strict=True):
        stack[:, : table.shape[1]] = table
    return stacked


def binary_tables(
    prepared: CategoryReference, current: ArrayLike, *, method: str
) -> NDArray[np.int64]:
    """The ``(columns, 2, 2)`` tables of binary columns (a one-category column is padded).

    Raises
    ------
    InvalidInputError
        If a column has more than two categories over both samples (the message names it),
        or as :func:`contingency`.
    """
    tables = contingency(prepared, current)
    wide = [column for column, table in enumerate(tables) if table.shape[1] > 2]
    if wide:
        column = wide[0]
        msg = (
            f"current: column {column} has {tables[column].shape[1]} categories over reference "
            f"and current; {method} needs at most 2 (use chi2 or g_test)"
        )
        raise InvalidInputError(msg)
    return padded(tables, min_width=2)


def expected_counts(
    tables: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Homogeneity expectations of padded tables: E = row total × column total / N.

    Returns
    -------
    expected
        ``(columns, 2, c_max)``; 0 on padding and where a sample is empty.
    dof
        Degrees of freedom, (categories − 1), counting only non-empty table columns.
    testable
        Whether both samples have at least one non-missing value.
    """
    observed = tables.astype(np.float64)
    rows = observed.sum(axis=2)
    columns = observed.sum(axis=1)
    total = rows.sum(axis=1)
    testable = (rows > 0).all(axis=1)
    product = rows[:, :, np.newaxis] * columns[:, np.newaxis, :]
    scale = np.divide(1.0, total, out=np.zeros_like(total), where=testable)
    expected = product * scale[:, np.newaxis, np.newaxis]
    dof = np.maximum(np.count_nonzero(columns, axis=1) - 1, 0).astype(np.int64)
    return expected, dof, testable


def _table(
    categories: NDArray[np.float64], counts: NDArray[np.int64], values: NDArray[np.float64]
) -> NDArray[np.int64]:
    """The ``(2, c)`` table of one column (see :func:`contingency`)."""
    seen, new, new_counts = _tally(categories, values)
    table = np.zeros((2, categories.size + new.size), dtype=np.int64)
    table[0, : categories.size] = counts
    table[1, : categories.size] = seen
    table[1, categories.size :] = new_counts
    return table[:, table.any(axis=0)]


def _tally(
    categories: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Counts of ``values`` in ``categories``, then the other categories and their counts."""
    if values.size and values.min() >= 0 and values.max() < max(_DENSE_CODES, values.size):
        return _tally_dense(categories, values)
    return _tally_sparse(categories, values)


def _tally_dense(
    categories: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Counts of small non-negative codes by ``bincount``: reference categories, then new."""
    tally = np.bincount(values.astype(np.intp))
    inside = (categories >= 0) & (categories < tally.size)
    index = categories[inside].astype(np.intp)
    seen = np.zeros(categories.size, dtype=np.int64)
    seen[inside] = tally[index]
    tally[index] = 0
    new = np.flatnonzero(tally)
    return seen, new.astype(np.float64), tally[new].astype(np.int64)


def _tally_sparse(
    categories: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Counts of arbitrary integral codes by binary search in the reference categories."""
    if categories.size:
        index = np.searchsorted(categories, values)
        np.minimum(index, categories.size - 1, out=index)
        known = categories[index] == values
        seen = np.bincount(index[known], minlength=categories.size).astype(np.int64)
        values = values[~known]
    else:
        seen = np.zeros(0, dtype=np.int64)
    new, new_counts = np.unique(values, return_counts=True)
    return seen, new, new_counts.astype(np.int64)


def _read_only(array: _Array) -> _Array:
    array.setflags(write=False)
    return array
