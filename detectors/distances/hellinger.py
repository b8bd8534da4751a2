"""Hellinger distance of binned numeric columns: √(1 − Σ√(p·q)) = ‖√p − √q‖₂ / √2 ∈ [0, 1].

Computed in the second, equivalent form, which is exactly 0 for identical shares and cannot
go negative by rounding; share rows are renormalised to sum 1 first. No logarithm, so empty
bins are harmless and the default ``empty_bins="none"`` uses raw shares. Bins are fitted on
the reference (:mod:`detectors.binning`). No p-value; statistic = effect = the distance.

Examples
--------
>>> import numpy as np
>>> reference = np.random.default_rng(0).normal(size=(1000, 2))
>>> test(reference, reference).statistic.tolist()
[0.0, 0.0]
>>> float(from_shares([1.0, 0.0], [0.0, 1.0])[0])
1.0
"""

# `test` is the detector API (STYLE §2.2), not a pytest test: pytest collects test_*.py only.
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.binning import BinnedReference, Strategy
from detectors.binning import fit as prepare
from detectors.distances._shares import (
    EmptyBins,
    as_share_matrices,
    binned_shares,
    column_test,
    normalised,
)
from detectors.results import ColumnTest

__all__ = ["from_shares", "prepare", "test"]


def test(
    reference: ArrayLike | BinnedReference,
    current: ArrayLike,
    *,
    bins: int | None = None,
    strategy: Strategy | None = None,
    empty_bins: EmptyBins = "none",
) -> ColumnTest:
    """Hellinger distance of every column of ``current`` against ``reference``.

    Parameters
    ----------
    reference
        ``(n, k)`` numbers, or a :class:`BinnedReference` from :func:`prepare`.
    current
        ``(m, k)`` numbers; NaN is missing and dropped per column.
    bins, strategy
        Binning of a raw reference (default 10, ``"quantile"``). With a prepared reference
        leave them None; a value contradicting the prepared one is refused.
    empty_bins
        ``"none"`` (default), ``"evidently"``, ``"clip"`` or ``"laplace"``.

    Returns
    -------
    ColumnTest
        ``method="hellinger"``, statistic = effect = the distance, ``p_value`` None.

    Raises
    ------
    InvalidInputError
        On mismatched widths, infinities, bad ``bins``/``strategy``/``empty_bins``.
    """
    pair = binned_shares(reference, current, bins=bins, strategy=strategy, empty_bins=empty_bins)
    return column_test("hellinger", pair, from_shares)


def from_shares(p: ArrayLike, q: ArrayLike) -> NDArray[np.float64]:
    """Hellinger distance per row of ``(columns, bins)`` share matrices (rows renormalised)."""
    p_matrix, q_matrix = (normalised(s) for s in as_share_matrices(p, q))
    squared = ((np.sqrt(p_matrix) - np.sqrt(q_matrix)) ** 2).sum(axis=1) / 2.0
    return np.asarray(np.sqrt(np.minimum(squared, 1.0)), dtype=np.float64)
