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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors._threads import map_columns
from detectors.results import ColumnTest
from detectors.univariate._sorted import SortedReference, pool, prepare, sorted_pair

__all__ = ["STD_FLOOR", "SortedReference", "prepare", "test", "test_raw"]

#: Smallest reference standard deviation used by the normed score (Evidently's value).
STD_FLOOR = 0.001


def test(reference: ArrayLike | SortedReference, current: ArrayLike) -> ColumnTest:
    """Normed Wasserstein-1 distance of every column: W / max(std(reference), 0.001).

    Parameters
    ----------
    reference
        ``(n, m)`` reference sample, or its :func:`prepare` result. 1-D means one column.
    current
        ``(k, m)`` current sample. NaN values are dropped per column on both sides.

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
    scale = np.array([column.std() if column.size else np.nan for column in fitted.columns])
    normed = raw / np.maximum(scale, STD_FLOOR)
    return ColumnTest(
        "wasserstein_normed", normed, None, normed.copy(), fitted.counts, ordered.counts
    )


def test_raw(reference: ArrayLike | SortedReference, current: ArrayLike) -> ColumnTest:
    """Wasserstein-1 distance of every column, in the units of the data.

    Parameters
    ----------
    reference
        ``(n, m)`` reference sample, or its :func:`prepare` result. 1-D means one column.
    current
        ``(k, m)`` current sample. NaN values are dropped per column on both sides.

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


def _distances(fitted: SortedReference, ordered: SortedReference) -> NDArray[np.float64]:
    pairs = list(zip(fitted.columns, ordered.columns, strict=True))
    values = int(fitted.counts.sum() + ordered.counts.sum())
    return np.array(
        map_columns(
            lambda pair: _distance(*pair) if pair[0].size and pair[1].size else np.nan,
            pairs,
            values=values,
        ),
        dtype=np.float64,
    )


def _distance(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    pooled = pool(reference, current)
    below_reference = pooled.reference_counts()[:-1]
    below_current = np.arange(1, pooled.values.size) - below_reference
    gaps = np.abs(below_reference / reference.size - below_current / current.size)
    return float(np.dot(gaps, np.diff(pooled.values)))
