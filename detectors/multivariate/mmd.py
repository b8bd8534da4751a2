"""Maximum mean discrepancy (MMD) with a Gaussian kernel and a permutation p-value.

For samples x (n rows) and y (m rows) and k(a, b) = exp(−‖a − b‖² / (2 sigma²)), the unbiased

    MMD²ᵤ = Σ_{i≠j} k(xᵢ, xⱼ) / (n(n−1)) + Σ_{i≠j} k(yᵢ, yⱼ) / (m(m−1)) − 2 Σ k(xᵢ, yⱼ) / (n m)

(it can be negative when nothing changed). Bandwidth by the median heuristic on the
reference: sigma = √(½ · median squared distance), the median (``np.median``) taken over the
n(n−1)/2 distinct reference pairs (alibi-detect takes one order statistic instead; see
``statistics.md`` §4.1). If that median is 0, over all pooled pairs; if still 0, sigma = 1.

p = (1 + #{permutations with MMD² ≥ observed}) / (1 + B), never 0. The kernel matrix of the
pooled rows is computed once; a permutation only relabels rows, and with indicator vectors
a (reference) and r = K·1 the three sums are aᵀKa, aᵀr − aᵀKa and 1ᵀr − 2aᵀr + aᵀKa, so
B permutations cost one (N × N)·(N × B) product, in blocks of 64.

Cost and cap: with N = n + m rows of d values, O(N² d) for the kernel, O(N² B) for the
permutations and 8 N² bytes of memory. At most ``max_rows`` rows a side are used
(default 1,000: N ≤ 2,000, a 32 MB kernel, ~1 s with B = 500), drawn by the seeded,
order-free sampling of :mod:`detectors.multivariate._rows`. Rows must be complete (no NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors._validation import as_columns, check_same_width
from detectors.errors import InvalidInputError
from detectors.multivariate._params import check_count, check_level
from detectors.multivariate._rows import ordered
from detectors.results import MultivariateTest

__all__ = ["MmdReference", "bandwidth", "kernel", "prepare", "test"]

#: Permutations evaluated per matrix product.
_BLOCK = 64


@dataclass(frozen=True, slots=True)
class MmdReference:
    """The reference's sampled rows (seeded order) and the kernel bandwidth sigma."""

    rows: NDArray[np.float64]
    sigma: float


def prepare(reference: ArrayLike, *, max_rows: int = 1_000, seed: int = 0) -> MmdReference:
    """Sample at most ``max_rows`` reference rows ``(n, d)`` and fix sigma on them."""
    check_count("max_rows", max_rows, 2)
    rows = _complete(as_columns(reference, "reference", min_rows=2), "reference")
    rows = rows[ordered(rows, seed, max_rows)]
    return MmdReference(rows, bandwidth(rows))


def bandwidth(rows: NDArray[np.float64], others: NDArray[np.float64] | None = None) -> float:
    """The median heuristic sigma on ``rows`` (then on ``rows`` and ``others`` if it is 0).

    Examples
    --------
    >>> bandwidth(np.array([[0.0], [1.0], [3.0]]))  # squared distances 1, 9, 4
    1.4142135623730951
    """
    for pool in (rows, rows if others is None else np.vstack([rows, others])):
        upper = np.triu_indices(len(pool), k=1)
        median = float(np.median(_squared_distances(pool)[upper])) if len(pool) > 1 else 0.0
        if median > 0:
            return float(np.sqrt(median / 2))
    return 1.0


def kernel(rows: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    """The Gaussian kernel matrix of ``rows`` with bandwidth ``sigma`` (ones on the diagonal)."""
    matrix = _squared_distances(rows)
    matrix *= -1.0 / (2.0 * sigma**2)
    np.exp(matrix, out=matrix)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def test(
    reference: ArrayLike | MmdReference,
    current: ArrayLike,
    *,
    n_permutations: int = 500,
    max_rows: int = 1_000,
    alpha: float = 0.05,
    min_mmd2: float = 0.0,
    seed: int = 0,
) -> MultivariateTest:
    """MMD² permutation test of the rows of ``current`` against ``reference``.

    Parameters
    ----------
    reference
        ``(n, d)`` rows (embeddings, say), or their :func:`prepare` result.
    current
        ``(m, d)`` rows, same width. No NaN or infinity.
    n_permutations
        B, the seeded relabellings of the pooled rows.
    max_rows
        Rows used at most a side.
    alpha, min_mmd2
        Drift when the p-value is at most ``alpha`` and MMD²ᵤ at least ``min_mmd2``.
    seed
        Seeds sampling and permutations.

    Returns
    -------
    MultivariateTest
        ``method="mmd"``; ``statistic`` and ``effect`` are MMD²ᵤ.

    Raises
    ------
    InvalidInputError
        Bad parameters, non-numeric, missing or infinite values, widths that differ, fewer
        than 2 rows on a side.

    References
    ----------
    .. [1] Gretton, A., Borgwardt, K. M., Rasch, M. J., Schölkopf, B. and Smola, A. (2012).
       A kernel two-sample test. Journal of Machine Learning Research 13, 723–773.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(200, 16))
    >>> same = test(reference, rng.normal(size=(150, 16)), n_permutations=200)
    >>> moved = test(reference, rng.normal(0.3, 1.0, size=(150, 16)), n_permutations=200)
    >>> same.drift, moved.drift, moved.p_value
    (False, True, 0.004975124378109453)
    """
    check_count("n_permutations", n_permutations, 1)
    check_count("max_rows", max_rows, 2)
    check_level("alpha", alpha)
    fitted = reference if isinstance(reference, MmdReference) else prepare(
        reference, max_rows=max_rows, seed=seed
    )  # fmt: skip
    cur = _complete(as_columns(current, "current", min_rows=2), "current")
    check_same_width(fitted.rows, cur)
    cur = cur[ordered(cur, seed, max_rows)]
    n = len(fitted.rows)
    matrix = kernel(np.vstack([fitted.rows, cur]), fitted.sigma)
    identity = np.zeros((len(matrix), 1))
    identity[:n] = 1.0
    observed = float(_mmd2(matrix, identity, n)[0])
    rng = np.random.default_rng(seed)
    exceed = 0
    for start in range(0, n_permutations, _BLOCK):
        block = _indicators(rng, len(matrix), n, min(_BLOCK, n_permutations - start))
        exceed += int(np.count_nonzero(_mmd2(matrix, block, n) >= observed))
    p_value = (1 + exceed) / (1 + n_permutations)
    return MultivariateTest(
        method="mmd",
        statistic=observed,
        p_value=p_value,
        alpha=alpha,
        effect=observed,
        min_effect=float(min_mmd2),
        drift=p_value <= alpha and observed >= min_mmd2,
        n_reference=n,
        n_current=len(cur),
    )


def _complete(rows: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    missing = np.isnan(rows)
    if missing.any():
        column = int(np.flatnonzero(missing.any(axis=0))[0])
        msg = (
            f"{name}: column {column} has missing values (NaN); MMD needs complete rows "
            "(drop or fill them, or use the domain classifier)"
        )
        raise InvalidInputError(msg)
    return rows


def _squared_distances(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    norms = np.einsum("ij,ij->i", rows, rows)
    out = rows @ rows.T
    out *= -2.0
    out += norms[:, np.newaxis]
    out += norms[np.newaxis, :]
    np.maximum(out, 0.0, out=out)
    np.fill_diagonal(out, 0.0)
    return out


def _indicators(rng: np.random.Generator, size: int, n: int, count: int) -> NDArray[np.float64]:
    """``(size, count)`` 0/1 columns, each marking a uniformly drawn set of n rows."""
    chosen = np.argpartition(rng.random((count, size)), n - 1, axis=1)[:, :n]
    out = np.zeros((count, size))
    np.put_along_axis(out, chosen, 1.0, axis=1)
    return out.T


def _mmd2(matrix: NDArray[np.float64], a: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """MMD²ᵤ for each labelling column of ``a`` (1: reference), ``k(x, x) = 1``."""
    m = len(matrix) - n
    row_sums = matrix.sum(axis=1)
    within: NDArray[np.float64] = np.einsum("ij,ij->j", a, matrix @ a)  # aᵀKa
    across = a.T @ row_sums - within  # aᵀK(1 − a)
    other = row_sums.sum() - 2 * (a.T @ row_sums) + within  # (1 − a)ᵀK(1 − a)
    out: NDArray[np.float64] = (
        (within - n) / (n * (n - 1)) + (other - m) / (m * (m - 1)) - 2 * across / (n * m)
    )
    return out
