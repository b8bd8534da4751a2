"""Two-sample Cramér–von Mises test, column by column, with scipy's p-values.

T = (n m / (n + m)) ∫ (F_ref - F_cur)² dH, H the pooled ECDF, computed from midranks
(Anderson 1962, eq. 9–10), so ties are handled as in ``scipy.stats.cramervonmises_2samp``.
Midranks come from one linear merge of the prepared sorted reference with the sorted current
column.

p-values follow scipy's ``method='auto'``:

- **asymptotic** unless both samples have at most 20 values: T is standardised with its exact
  mean and variance (Anderson 1962, eq. 11, 14, 15) and referred to the limiting one-sample
  distribution, whose series (Csörgő & Faraway 1996, eq. 1.2) is reimplemented here
  term for term as scipy's private ``_cdf_cvm_inf`` (same stopping rule), vectorised over
  columns;
- **exact** when ``n, m <= 20``: the public ``scipy.stats.cramervonmises_2samp(...,
  method='exact')`` is called for that column (cheap at these sizes).

Effect size: T grows with the sample sizes, so ``effect`` is the L2 distance between the two
ECDFs under the pooled measure, ``sqrt(T (n + m) / (n m)) = sqrt(∫ (F_ref - F_cur)² dH)``,
which lies in [0, 1] and estimates a population quantity. Under no drift it is about
``sqrt((1/n + 1/m) / 6)``, not 0.

Columns with fewer than two values on either side get NaN (scipy refuses them too).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from detectors.results import ColumnTest
from detectors.univariate._sorted import SortedReference, pool, prepare, sorted_pair

__all__ = ["EXACT_MAX_SIZE", "SortedReference", "prepare", "test"]

#: ``method='auto'`` uses the exact distribution when both samples are at most this large.
EXACT_MAX_SIZE = 20


def test(
    reference: ArrayLike | SortedReference, current: ArrayLike | SortedReference
) -> ColumnTest:
    """Two-sample Cramér–von Mises test of every column of ``current`` against ``reference``.

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
        ``method="cvm"``; ``statistic`` is T, ``p_value`` equals scipy's ``method='auto'``,
        ``effect`` is ``sqrt(T (n + m) / (n m))``. A column with fewer than two values left
        on either side gets NaN statistic, p-value and effect.

    Raises
    ------
    InvalidInputError
        If an input is not numeric, not 1- or 2-D, empty, holds an infinity, or the widths
        differ.

    References
    ----------
    .. [1] Anderson, T. W. (1962). On the distribution of the two-sample Cramér–von Mises
       criterion. Annals of Mathematical Statistics 33(3), 1148–1159.
    .. [2] Csörgő, S. and Faraway, J. J. (1996). The exact and asymptotic distributions of
       Cramér–von Mises statistics. JRSS B 58(1), 221–234.
    .. [3] SciPy ``scipy.stats.cramervonmises_2samp``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> result = test(rng.normal(size=(200, 1)), rng.normal(1.0, size=(100, 1)))
    >>> bool(result.p_value[0] < 1e-6), round(float(result.effect[0]), 2)
    (True, 0.22)
    """
    fitted, ordered = sorted_pair(reference, current)
    n_reference, n_current = fitted.counts, ordered.counts
    statistic = np.full(fitted.width, np.nan)
    p_value = np.full(fitted.width, np.nan)
    standardised = np.full(fitted.width, np.nan)
    for j, (ref, cur) in enumerate(zip(fitted.columns, ordered.columns, strict=True)):
        n, m = ref.size, cur.size
        if n < 2 or m < 2:
            continue
        if max(n, m) <= EXACT_MAX_SIZE:
            exact = stats.cramervonmises_2samp(ref, cur, method="exact")
            statistic[j], p_value[j] = exact.statistic, exact.pvalue
        else:
            statistic[j] = _statistic(ref, cur)
            standardised[j] = _standardise(float(statistic[j]), n, m)
    asymptotic = ~np.isnan(standardised)
    if asymptotic.any():
        p_value[asymptotic] = _asymptotic_p(standardised[asymptotic])
    with np.errstate(invalid="ignore", divide="ignore"):
        size = n_reference.astype(np.float64) * n_current / (n_reference + n_current)
        effect = np.sqrt(np.maximum(statistic, 0.0) / size)
    return ColumnTest("cvm", statistic, p_value, effect, n_reference, n_current)


def _statistic(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """T from midranks, with scipy's float operations (Anderson 1962, eq. 9 and 10)."""
    n, m = reference.size, current.size
    pooled = pool(reference, current)
    starts, stops = pooled.run_bounds()
    lengths = stops - starts
    midranks = np.repeat(0.5 * (starts + stops + 1), lengths)
    rank_reference = midranks[pooled.from_reference]
    rank_current = midranks[~pooled.from_reference]
    u = n * np.sum((rank_reference - np.arange(1, n + 1, dtype=np.float64)) ** 2) + m * np.sum(
        (rank_current - np.arange(1, m + 1, dtype=np.float64)) ** 2
    )
    k, size = n * m, n + m
    return float(u / (k * size) - (4 * k - 1) / (6 * size))


def _standardise(t: float, n: int, m: int) -> float:
    """Anderson's normalised statistic (eq. 15), in Python integers as scipy does."""
    k, size = n * m, n + m
    expected = (1 + 1 / size) / 6
    numerator = (size + 1) * (4 * k * size - 3 * (n**2 + m**2) - 2 * k)
    variance = numerator / (45 * size**2 * 4 * k)
    return 1 / 6 + (t - expected) / math.sqrt(45 * variance)


def _asymptotic_p(tn: NDArray[np.float64]) -> NDArray[np.float64]:
    """``1 - V(tn)`` clipped at 0, and 1 where ``tn < 0.003`` (scipy's shortcut)."""
    p = np.ones_like(tn)
    tail = tn >= 0.003
    if tail.any():
        p[tail] = np.clip(1.0 - _cdf_cvm_inf(tn[tail]), 0.0, None)
    return p


def _cdf_cvm_inf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Limiting CDF of the one-sample statistic (Csörgő & Faraway 1996, eq. 1.2).

    Terms are added per element until one is smaller than 1e-7, exactly as scipy does.
    """
    total = np.zeros_like(x)
    active = np.ones(x.shape, dtype=np.bool_)
    k = 0
    while active.any():
        z = _cvm_term(x[active], k)
        total[active] += z
        active[active] = np.abs(z) >= 1e-7
        k += 1
    return total


def _cvm_term(x: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (np.pi**1.5 * np.sqrt(x))
    y = 4 * k + 1
    q = y**2 / (16 * x)
    result: NDArray[np.float64] = u * math.sqrt(y) * np.exp(-q) * special.kv(0.25, q)
    return result
