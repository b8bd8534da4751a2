"""The fitted reference of the ECDF-based tests, and the pooled sample they all walk.

Every test of :mod:`detectors.univariate` (KS, Cramér–von Mises, Anderson–Darling,
Wasserstein) works on sorted columns. :func:`prepare` sorts the reference once; a monitor
keeps the :class:`SortedReference` and hands it to every ``test`` call instead of the raw
array. :func:`pool` merges one sorted reference column with one sorted current column in
linear time, remembering which side each value came from.

Missing values (NaN) are dropped per column, so columns may keep different numbers of values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors._layout import by_column
from detectors._threads import map_columns, workers
from detectors._validation import as_columns, check_same_width

__all__ = ["Pooled", "SortedReference", "pool", "prepare", "sort_columns", "sorted_pair"]


@dataclass(frozen=True, slots=True)
class SortedReference:
    """Per column: the sorted non-NaN reference values (prepared once, reused by every check).

    Build it with :func:`prepare`; the arrays are read-only.

    Attributes
    ----------
    columns
        One ascending float64 array per column, NaN removed.
    """

    columns: tuple[NDArray[np.float64], ...]

    @property
    def width(self) -> int:
        """Number of columns."""
        return len(self.columns)

    @property
    def counts(self) -> NDArray[np.int64]:
        """Non-missing values per column."""
        return np.array([column.size for column in self.columns], dtype=np.int64)


def prepare(reference: ArrayLike) -> SortedReference:
    """Sort every column of ``reference`` once, dropping NaN, for repeated tests.

    Parameters
    ----------
    reference
        ``(n, m)`` reference sample (a 1-D array is one column); NaN marks a missing value.

    Returns
    -------
    SortedReference
        Accepted as ``reference`` by every ``test`` of :mod:`detectors.univariate`.

    Raises
    ------
    InvalidInputError
        If ``reference`` is not numeric, not 1- or 2-D, has no rows, or holds an infinity.

    Examples
    --------
    >>> fitted = prepare([[3.0, 1.0], [1.0, float("nan")], [2.0, 0.5]])
    >>> fitted.width, fitted.counts.tolist()
    (2, [3, 2])
    >>> fitted.columns[0].tolist()
    [1.0, 2.0, 3.0]
    """
    return _sort_columns(as_columns(reference, "reference", min_rows=1))


def sorted_pair(
    reference: ArrayLike | SortedReference, current: ArrayLike | SortedReference
) -> tuple[SortedReference, SortedReference]:
    """Validate both inputs and return them with every column sorted and NaN dropped.

    Either side may already be sorted (a :class:`SortedReference`), as a drift check that
    sorts the whole current window once hands it over.

    Raises
    ------
    InvalidInputError
        If either input is malformed (see :func:`detectors._validation.as_columns`) or the
        widths differ.
    """
    fitted = reference if isinstance(reference, SortedReference) else prepare(reference)
    if isinstance(current, SortedReference):
        ordered = current
    else:
        ordered = _sort_columns(as_columns(current, "current", min_rows=1))
    check_same_width(np.empty((0, fitted.width)), np.empty((0, ordered.width)))
    return fitted, ordered


def sort_columns(
    array: NDArray[np.float64], columns: Sequence[int] | None = None
) -> SortedReference:
    """``array[:, columns]`` (NaN-as-missing float64, no infinities) sorted column by column.

    The unvalidated fast path of :func:`prepare`, for callers that validated ``array``.
    """
    return _sort_columns(array, columns)


def _sort_columns(
    array: NDArray[np.float64], columns: Sequence[int] | None = None
) -> SortedReference:
    ordered = by_column(array, columns)  # a row per column; never the caller's
    # NaN sorts last; blocks of columns sort on threads (numpy releases the GIL)
    blocks = np.array_split(np.arange(ordered.shape[0]), max(1, min(workers(), ordered.shape[0])))
    map_columns(
        lambda rows: ordered[rows[0] : rows[-1] + 1].sort(axis=1),
        [b for b in blocks if b.size],
        values=ordered.size,
    )
    ordered.flags.writeable = False  # the column views below inherit it
    # NaN sorts last, so a column's values end where its first NaN is
    return SortedReference(
        tuple(row[: int(np.searchsorted(row, np.nan, side="left"))] for row in ordered)
    )


@dataclass(frozen=True, slots=True)
class Pooled:
    """The sorted union of one reference column and one current column.

    Ties keep reference values first (a stable merge), so positions within a run of equal
    values are arbitrary but the run boundaries are exact.

    Attributes
    ----------
    values
        The ``n + m`` pooled values, ascending.
    from_reference
        True where the value came from the reference.
    """

    values: NDArray[np.float64]
    from_reference: NDArray[np.bool_]

    def reference_counts(self) -> NDArray[np.int64]:
        """Reference values at or before each position."""
        return np.cumsum(self.from_reference, dtype=np.int64)

    def run_last(self) -> NDArray[np.bool_]:
        """True at the last position of every run of tied values."""
        last = np.empty(self.values.size, dtype=np.bool_)
        np.not_equal(self.values[1:], self.values[:-1], out=last[:-1])
        last[-1] = True
        return last

    def run_bounds(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Start and stop (exclusive) positions of every run of tied values, in order."""
        last = self.run_last()
        stops = np.flatnonzero(last) + 1
        starts = np.empty_like(stops)
        starts[0] = 0
        starts[1:] = stops[:-1]
        return starts, stops


def pool(reference: NDArray[np.float64], current: NDArray[np.float64]) -> Pooled:
    """Merge two ascending, NaN-free columns in linear time.

    A stable argsort of the two runs placed end to end is a single merge (numpy's stable sort
    is a timsort, which finds both runs), and keeps reference values first among ties.
    """
    n = reference.size
    both = np.concatenate([reference, current])
    order = np.argsort(both, kind="stable")
    return Pooled(both[order], order < n)
