"""Jensen–Shannon distance of binned numeric columns: √(½KL(p‖M) + ½KL(q‖M)), M = (p + q)/2.

The *distance* (the square root of the divergence), as
``scipy.spatial.distance.jensenshannon`` returns it, with the same arithmetic: each share
vector is renormalised to sum 1 first, and ``base=None`` means the natural log. It is symmetric
and bounded: by √ln 2 ≈ 0.8326 in base e and by 1 in base 2 (distance₂ = distanceₑ / √ln 2),
so a threshold means different things per base (Evidently: base e, 0.1; NannyML: base 2).

Shares come from bins fitted on the reference (:mod:`detectors.binning`). JS is finite with
empty bins, so the default ``empty_bins="none"`` uses raw shares, as Evidently does for JS
(statistics §2.2). No p-value; statistic = effect = the distance.

Examples
--------
>>> import numpy as np
>>> reference = np.random.default_rng(0).normal(size=(1000, 2))
>>> result = test(reference, reference)
>>> result.method, result.statistic.tolist()
('jensen_shannon', [0.0, 0.0])
>>> round(float(from_shares([0.5, 0.5], [1.0, 0.0], base=2)[0]), 6)
0.557923
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
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

__all__ = ["from_shares", "prepare", "test"]


def test(
    reference: ArrayLike | BinnedReference,
    current: ArrayLike,
    *,
    bins: int | None = None,
    strategy: Strategy | None = None,
    empty_bins: EmptyBins = "none",
    base: float | None = None,
) -> ColumnTest:
    """Jensen–Shannon distance of every column of ``current`` against ``reference``.

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
    base
        Logarithm base; None is e.

    Returns
    -------
    ColumnTest
        ``method="jensen_shannon"``, statistic = effect = the distance, ``p_value`` None.

    Raises
    ------
    InvalidInputError
        On mismatched widths, infinities, bad ``bins``/``strategy``/``empty_bins``/``base``.
    """
    check_base(base)
    pair = binned_shares(reference, current, bins=bins, strategy=strategy, empty_bins=empty_bins)
    return column_test("jensen_shannon", pair, lambda p, q: from_shares(p, q, base=base))


def from_shares(p: ArrayLike, q: ArrayLike, base: float | None = None) -> NDArray[np.float64]:
    """JS distance per row of ``(columns, bins)`` share matrices (rows renormalised first)."""
    check_base(base)
    p_matrix, q_matrix = (normalised(s) for s in as_share_matrices(p, q))
    mixture = (p_matrix + q_matrix) / 2.0
    divergence = rel_entr(p_matrix, mixture).sum(axis=1) + rel_entr(q_matrix, mixture).sum(axis=1)
    if base is not None:
        divergence = divergence / np.log(base)
    return np.asarray(np.sqrt(np.maximum(divergence / 2.0, 0.0)), dtype=np.float64)


def check_base(base: object) -> None:
    """Raise :class:`InvalidInputError` unless ``base`` is None or a positive number ≠ 1."""
    if base is None:
        return
    if isinstance(base, bool) or not isinstance(base, int | float) or not base > 0 or base == 1:
        msg = f"The 'base' parameter must be None or a positive number other than 1. Got {base!r}."
        raise InvalidInputError(msg)
