"""Share matrices of a binned reference and a current window, and the empty-bin rules.

Every binned distance is one numpy expression over a padded ``(columns, max_bins)`` share
matrix: columns have different bin counts (tie deduplication), so the bins past a column's own
are padding with share 0 in both ``p`` (reference) and ``q`` (current). Each metric's terms are
0 where ``p = q = 0``, so padding contributes nothing; the empty-bin rules below never touch it.

Empty-bin rules (``empty_bins``), applied to each distribution (reference, current) separately:

- ``"evidently"`` — Evidently 0.7's rule, for parity: a zero share becomes ``1e-4``, or
  ``(smallest non-zero share of that column) / 1e6`` when that smallest share is ≤ ``1e-4``;
  shares are **not** renormalised, so they may sum to slightly more than 1.
- ``"clip"`` — credit-risk practice: shares below ``1e-4`` are raised to ``1e-4``, not
  renormalised (statistics §2.3, "reference deciles").
- ``"laplace"`` — add 0.5 to every bin's count (Jeffreys / Krichevsky–Trofimov), then
  normalise: the principled choice; shares always sum to 1 and no constant is arbitrary in scale.
- ``"none"`` — raw shares ``count / n``. PSI and KL are then infinite when a bin is empty on one
  side only (KL: empty in the current window); JS and Hellinger are finite anyway.

A current column with no present value has undefined shares: its row is NaN, so every metric
reports NaN for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.binning import BinnedReference, Strategy, check_bins, check_strategy, count, fit
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

__all__ = [
    "EMPTY_BINS",
    "EPSILON",
    "EmptyBins",
    "SharePair",
    "as_share_matrices",
    "binned_shares",
    "column_test",
    "shares",
]

EmptyBins = Literal["evidently", "clip", "laplace", "none"]
EMPTY_BINS: tuple[str, ...] = get_args(EmptyBins)
#: The share an empty bin gets under ``"evidently"`` and the floor of ``"clip"``.
EPSILON = 1e-4
_LAPLACE_PSEUDOCOUNT = 0.5


@dataclass(frozen=True, slots=True)
class SharePair:
    """Padded ``(columns, max_bins)`` shares of reference (``p``) and current (``q``)."""

    p: NDArray[np.float64]
    q: NDArray[np.float64]
    n_reference: NDArray[np.int64]
    n_current: NDArray[np.int64]


def check_empty_bins(empty_bins: object) -> EmptyBins:
    """``empty_bins`` unchanged, or :class:`InvalidInputError` listing the valid rules."""
    if empty_bins not in EMPTY_BINS:
        valid = ", ".join(repr(rule) for rule in EMPTY_BINS)
        msg = f"The 'empty_bins' parameter must be one of {valid}. Got {empty_bins!r} instead."
        raise InvalidInputError(msg)
    return empty_bins  # type: ignore[return-value]


def shares(counts: tuple[NDArray[np.int64], ...], empty_bins: EmptyBins) -> NDArray[np.float64]:
    """Padded share matrix of per-column bin counts under an empty-bin rule."""
    sizes = np.array([len(c) for c in counts], dtype=np.intp)
    width = int(sizes.max(initial=1))
    in_column = np.arange(width) < sizes[:, np.newaxis]
    matrix = np.zeros((len(counts), width))
    if counts:
        matrix[in_column] = np.concatenate(counts)
    n = matrix.sum(axis=1, keepdims=True)
    if empty_bins == "laplace":
        matrix = np.where(in_column, matrix + _LAPLACE_PSEUDOCOUNT, 0.0)
        n = n + _LAPLACE_PSEUDOCOUNT * sizes[:, np.newaxis]
    result = np.divide(matrix, n, out=np.full_like(matrix, np.nan), where=n > 0)
    if empty_bins == "clip":
        result = np.where(in_column, np.maximum(result, EPSILON), 0.0)
    elif empty_bins == "evidently":
        positive = np.where(in_column & (result > 0), result, np.inf).min(axis=1, keepdims=True)
        epsilon = np.where(positive <= EPSILON, positive / 1e6, EPSILON)
        result = np.where(in_column & (result == 0), epsilon, result)
    return np.where(n > 0, result, np.nan)


def resolve(
    reference: ArrayLike | BinnedReference, bins: int | None, strategy: Strategy | None
) -> BinnedReference:
    """``reference`` binned: fitted when raw, checked against ``bins``/``strategy`` when not."""
    if not isinstance(reference, BinnedReference):
        return fit(
            reference,
            bins=10 if bins is None else bins,
            strategy="quantile" if strategy is None else strategy,
        )
    if bins is not None and check_bins(bins) != reference.bins:
        msg = f"bins={bins} contradicts the prepared reference, binned with bins={reference.bins}"
        raise InvalidInputError(msg)
    if strategy is not None and check_strategy(strategy) != reference.strategy:
        msg = (
            f"strategy={strategy!r} contradicts the prepared reference, binned with "
            f"strategy={reference.strategy!r}"
        )
        raise InvalidInputError(msg)
    return reference


def binned_shares(
    reference: ArrayLike | BinnedReference,
    current: ArrayLike,
    *,
    bins: int | None,
    strategy: Strategy | None,
    empty_bins: EmptyBins,
) -> SharePair:
    """Bin (or reuse) the reference, count the current window, and apply the empty-bin rule."""
    empty_bins = check_empty_bins(empty_bins)
    binned = resolve(reference, bins, strategy)
    current_counts = count(binned, current)
    return SharePair(
        p=shares(binned.counts, empty_bins),
        q=shares(current_counts, empty_bins),
        n_reference=binned.n_reference,
        n_current=np.array([c.sum() for c in current_counts], dtype=np.int64),
    )


def as_share_matrices(
    p: ArrayLike, q: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``p`` and ``q`` as float64 ``(columns, bins)`` matrices (a 1-D vector is one column).

    Raises
    ------
    InvalidInputError
        If they differ in shape, are more than 2-D, or hold a negative share.
    """
    p_matrix = np.atleast_2d(np.asarray(p, dtype=np.float64))
    q_matrix = np.atleast_2d(np.asarray(q, dtype=np.float64))
    if p_matrix.ndim != 2 or p_matrix.shape != q_matrix.shape:
        msg = (
            f"p and q must be (columns, bins) matrices of one shape, got {p_matrix.shape} "
            f"and {q_matrix.shape}"
        )
        raise InvalidInputError(msg)
    if (p_matrix < 0).any() or (q_matrix < 0).any():
        raise InvalidInputError("p and q must be non-negative shares")
    return p_matrix, q_matrix


def normalised(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row divided by its sum (as scipy's ``entropy`` and ``jensenshannon`` do)."""
    total = matrix.sum(axis=1, keepdims=True)
    result: NDArray[np.float64] = np.divide(
        matrix, total, out=np.full_like(matrix, np.nan), where=total > 0
    )
    return result


def column_test(
    method: str,
    pair: SharePair,
    distance: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
) -> ColumnTest:
    """The :class:`ColumnTest` of a distance: statistic = effect = the distance, no p-value."""
    value = distance(pair.p, pair.q)
    return ColumnTest(
        method=method,
        statistic=value,
        p_value=None,
        effect=value,
        n_reference=pair.n_reference,
        n_current=pair.n_current,
    )
