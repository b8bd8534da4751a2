"""Metrics as functions of row weights, so that one code path serves a metric and its bootstrap.

Every metric is built as a *kernel*: a function of an ``(B, n)`` array of row weights
returning ``B`` metric values, where row ``i`` of the window counts ``weights[b, i]`` times
in replicate ``b``. ``None`` means every row once (``B = 1``): that is the metric itself. A
bootstrap replicate is the metric under the weights "how often each row was drawn"
(:mod:`detectors.performance._bootstrap`), so a kernel never gathers or re-sorts rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Kernel", "dot", "grouped_sums", "mean_kernel", "ones", "ratio", "weighted_mean"]

#: Row weights ``(B, n)`` (or None: each row once) to ``B`` metric values.
Kernel = Callable[[NDArray[np.float64] | None], NDArray[np.float64]]


def dot(weights: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per replicate, Σ_i weights[b, i]·values[i] (einsum: no BLAS threads for a matvec)."""
    return np.asarray(np.einsum("bn,n->b", weights, values), dtype=np.float64)


def ratio(numerator: ArrayLike, denominator: ArrayLike) -> NDArray[np.float64]:
    """``numerator / denominator`` elementwise, NaN where the denominator is not positive."""
    top = np.asarray(numerator, dtype=np.float64)
    bottom = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast_shapes(top.shape, bottom.shape), np.nan)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def ones(weights: NDArray[np.float64] | None, n: int) -> NDArray[np.float64]:
    """``weights``, or one replicate that counts every row once."""
    return np.ones((1, n)) if weights is None else weights


def weighted_mean(
    values: NDArray[np.float64], weights: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Per replicate, the weighted mean of per-row ``values`` (NaN for zero total weight)."""
    if weights is None:
        return np.array([values.mean()]) if values.size else np.array([np.nan])
    total = weights.sum(axis=1)
    return ratio(dot(weights, values), total)


def grouped_sums(
    groups: NDArray[np.intp],
    size: int,
    values: NDArray[np.float64] | None,
    weights: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Per replicate, the weighted sum of ``values`` (or of 1) in each group: ``(B, size)``.

    ``groups`` gives each row's group in ``range(size)``; one ``bincount`` over all replicates.
    """
    if weights is None:
        return np.bincount(groups, weights=values, minlength=size)[np.newaxis, :].astype(
            np.float64, copy=False
        )
    b = weights.shape[0]
    flat = (np.arange(b)[:, np.newaxis] * size + groups).ravel()
    mass = weights if values is None else weights * values
    sums = np.bincount(flat, weights=mass.ravel(), minlength=b * size)
    return np.asarray(sums, dtype=np.float64).reshape(b, size)


def mean_kernel(values: NDArray[np.float64], *, root: bool = False) -> Kernel:
    """The mean of per-row ``values`` (or its square root) as a function of row weights."""
    if root:
        return lambda weights: np.sqrt(weighted_mean(values, weights))
    return lambda weights: weighted_mean(values, weights)
