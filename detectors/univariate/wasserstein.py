"""Wasserstein-1 distance between reference and current, raw and normed (Evidently's score).

W = ∫ |F_ref(t) - F_cur(t)| dt = ∫₀¹ |Q_ref(u) - Q_cur(u)| du. It is computed on the merged
grid of both samples: one linear merge of the prepared sorted reference with the sorted
current column gives both ECDFs at every pooled value, and W is the sum of
``|F_ref - F_cur|`` times the gaps between consecutive pooled values, the same sum
``scipy.stats.wasserstein_distance`` evaluates. Between two grid points both quantile
functions are constant, so this is also the exact integral of the quantile difference.

Two scores:

- :func:`test_raw` (``method="wasserstein"``): W in the units of the data (NannyML's);
- :func:`test` (``method="wasserstein_normed"``): W divided by the reference's standard
  deviation with ``ddof=0``, floored at 0.001 (Evidently's ``wasserstein`` drift score,
  whose default threshold is 0.1). The normaliser uses the reference only.

Distances have no p-value (``p_value`` is None); ``effect`` is the distance itself.
A column with no values on either side gets NaN.
"""

from __future__ import annotations

from queue import SimpleQueue

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors._threads import map_columns, workers
from detectors.results import ColumnTest
from detectors.univariate._sorted import SortedReference, prepare, sorted_pair

__all__ = ["STD_FLOOR", "SortedReference", "prepare", "test", "test_raw"]

#: Smallest reference standard deviation used by the normed score (Evidently's value).
STD_FLOOR = 0.001


def test(
    reference: ArrayLike | SortedReference, current: ArrayLike | SortedReference
) -> ColumnTest:
    """Normed Wasserstein-1 distance of every column: W / max(std(reference), 0.001).

    Parameters
    ----------
    reference
        ``(n, m)`` reference sample, or its :func:`prepare` result. 1-D means one column.
    current
        ``(k, m)`` current sample, or its :func:`prepare` result (a drift check sorts the
        whole window once). NaN values are dropped per column on both sides.

    Returns
    -------
    ColumnTest
        ``method="wasserstein_normed"``; ``statistic`` and ``effect`` are the normed
        distance, ``p_value`` is None. A column with no values left on either side gets NaN.

    Raises
    ------
    InvalidInputError
        If an input is not numeric, not 1- or 2-D, empty, holds an infinity, or the widths
        differ.

    References
    ----------
    .. [1] Ramdas, A., García Trillos, N. and Cuturi, M. (2017). On Wasserstein two-sample
       testing and related families of nonparametric tests. Entropy 19(2), 47.
    .. [2] Evidently ``wasserstein_distance_norm`` drift method (std with ``ddof=0``,
       floored at 0.001).

    Examples
    --------
    >>> result = test([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    >>> round(float(result.statistic[0]), 4)
    0.8944
    """
    fitted, ordered = sorted_pair(reference, current)
    raw = _distances(fitted, ordered)
    scale = np.array(
        map_columns(_scale, fitted.columns, values=int(fitted.counts.sum())), dtype=np.float64
    )
    normed = raw / np.maximum(scale, STD_FLOOR)
    return ColumnTest(
        "wasserstein_normed", normed, None, normed.copy(), fitted.counts, ordered.counts
    )


def test_raw(
    reference: ArrayLike | SortedReference, current: ArrayLike | SortedReference
) -> ColumnTest:
    """Wasserstein-1 distance of every column, in the units of the data.

    Parameters
    ----------
    reference
        ``(n, m)`` reference sample, or its :func:`prepare` result. 1-D means one column.
    current
        ``(k, m)`` current sample, or its :func:`prepare` result (a drift check sorts the
        whole window once). NaN values are dropped per column on both sides.

    Returns
    -------
    ColumnTest
        ``method="wasserstein"``; ``statistic`` and ``effect`` are W, equal to
        ``scipy.stats.wasserstein_distance``; ``p_value`` is None. A column with no values
        left on either side gets NaN.

    Raises
    ------
    InvalidInputError
        If an input is not numeric, not 1- or 2-D, empty, holds an infinity, or the widths
        differ.

    References
    ----------
    .. [1] Ramdas, A., García Trillos, N. and Cuturi, M. (2017). On Wasserstein two-sample
       testing and related families of nonparametric tests. Entropy 19(2), 47.
    .. [2] SciPy ``scipy.stats.wasserstein_distance``.

    Examples
    --------
    >>> result = test_raw([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    >>> float(result.statistic[0])
    1.0
    """
    fitted, ordered = sorted_pair(reference, current)
    raw = _distances(fitted, ordered)
    return ColumnTest("wasserstein", raw, None, raw.copy(), fitted.counts, ordered.counts)


class _Scratch:
    """One thread's work arrays for :func:`_distance`, for pooled samples of up to ``size``.

    Fresh multi-megabyte temporaries cost page faults that threads of one process take in
    turn; reusing these keeps the column loop from waiting on them.
    """

    def __init__(self, size: int) -> None:
        self.values = np.empty(size)
        self.float_a = np.empty(size)
        self.float_b = np.empty(size)
        self.from_reference = np.empty(size, dtype=np.bool_)
        self.positions = np.arange(1, size + 1, dtype=np.int64)


def _distances(fitted: SortedReference, ordered: SortedReference) -> NDArray[np.float64]:
    pairs = list(zip(fitted.columns, ordered.columns, strict=True))
    size = max((r.size + c.size for r, c in pairs), default=0)
    free: SimpleQueue[_Scratch] = SimpleQueue()
    for _ in range(workers()):
        free.put(_Scratch(size))  # pages are only mapped where a thread writes

    def one(pair: tuple[NDArray[np.float64], NDArray[np.float64]]) -> float:
        if not (pair[0].size and pair[1].size):
            return np.nan
        scratch = free.get()
        try:
            return _distance(*pair, scratch)
        finally:
            free.put(scratch)

    values = int(fitted.counts.sum() + ordered.counts.sum())
    return np.array(map_columns(one, pairs, values=values), dtype=np.float64)


def _scale(column: NDArray[np.float64]) -> float:
    return float(column.std()) if column.size else np.nan


def _distance(
    reference: NDArray[np.float64], current: NDArray[np.float64], scratch: _Scratch
) -> float:
    """Σ |F_ref - F_cur| × gap over the pooled values, into ``scratch``'s arrays.

    The pooled sample is :func:`detectors.univariate._sorted.pool`'s (a stable merge); every
    elementwise step and the final ``dot`` are those of scipy's formula, so for unequal sizes
    the sum is the same to the last bit whatever the buffers.
    """
    n, m = reference.size, current.size
    if n == m:
        # Equal sizes: the optimal coupling pairs the i-th smallest values, so the distance
        # is the mean gap between the sorted columns: one pass instead of a merge. It agrees
        # with scipy's cdf formula to rounding (a few ulp), not to the last bit.
        gaps = np.subtract(reference, current, out=scratch.float_a[:n])
        np.abs(gaps, out=gaps)
        return float(gaps.sum() / n)
    size = n + m
    values = scratch.values[:size]
    both = np.concatenate([reference, current], out=scratch.float_a[:size])
    order = np.argsort(both, kind="stable")  # one merge of the two sorted runs
    np.take(both, order, out=values)
    from_reference = np.less(order, n, out=scratch.from_reference[:size])
    del order
    # reference and current values at or before each pooled position but the last
    below_reference = scratch.float_a[: size - 1].view(np.int64)
    np.cumsum(from_reference[:-1], dtype=np.int64, out=below_reference)
    below_current = scratch.float_b[: size - 1].view(np.int64)
    np.subtract(scratch.positions[: size - 1], below_reference, out=below_current)
    gaps = np.divide(below_reference, n, out=below_reference.view(np.float64))
    share_current = np.divide(below_current, m, out=below_current.view(np.float64))
    gaps -= share_current
    np.abs(gaps, out=gaps)
    steps = np.subtract(values[1:], values[:-1], out=share_current)
    return float(np.dot(gaps, steps))
