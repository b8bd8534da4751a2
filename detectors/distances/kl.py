"""Kullback–Leibler divergence of binned numeric columns: KL(reference‖current) = Σ p·ln(p/q).

In nats, reference ``p`` first, with ``scipy.stats.entropy(p, q)``'s arithmetic: share rows
are renormalised to sum 1, bins with ``p = 0`` contribute 0, a bin with ``p > 0 = q`` makes it
infinite, and the sum is clamped at 0 against rounding. Asymmetric: a current window
concentrated where the reference is sparse is penalised less than the converse. The default
``empty_bins="evidently"`` fills zero shares as Evidently does (statistics §2.2: S7 0.0523 on
Evidently's bins); with ``"none"`` an empty current bin gives +inf. Bins are fitted on the
reference (:mod:`detectors.binning`).
No p-value; statistic = effect = KL.

Examples
--------
>>> import numpy as np
>>> reference = np.random.default_rng(0).normal(size=(1000, 2))
>>> test(reference, reference).statistic.tolist()
[0.0, 0.0]
>>> round(float(from_shares([0.5, 0.5], [0.9, 0.1])[0]), 6)
0.510826
"""

# `test` is the detector API (STYLE §2.2), not a pytest test: pytest collects test_*.py only.
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import rel_entr

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
    empty_bins: EmptyBins = "evidently",
) -> ColumnTest:
    """KL(reference‖current) of every column.

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
        ``"evidently"`` (default), ``"clip"``, ``"laplace"`` or ``"none"``.

    Returns
    -------
    ColumnTest
        ``method="kl"``, statistic = effect = KL in nats, ``p_value`` None.

    Raises
    ------
    InvalidInputError
        On mismatched widths, infinities, bad ``bins``/``strategy``/``empty_bins``.
    """
    pair = binned_shares(reference, current, bins=bins, strategy=strategy, empty_bins=empty_bins)
    return column_test("kl", pair, from_shares)


def from_shares(p: ArrayLike, q: ArrayLike) -> NDArray[np.float64]:
    """KL(p‖q) per row of ``(columns, bins)`` share matrices (rows renormalised first)."""
    p_matrix, q_matrix = (normalised(s) for s in as_share_matrices(p, q))
    divergence = rel_entr(p_matrix, q_matrix).sum(axis=1)
    # Gibbs: KL >= 0; clamp the last-ulp negatives rounding can leave (NaN passes through).
    return np.asarray(np.maximum(divergence, 0.0), dtype=np.float64)
