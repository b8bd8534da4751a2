"""Population Stability Index of binned numeric columns: Σ (q − p)·ln(q / p), natural log.

``p`` are the reference's bin shares, ``q`` the current window's, in bins fitted on the
reference (:mod:`detectors.binning`: 10 quantile bins by default, open outer bins, ``[a, b)``).
PSI = KL(q‖p) + KL(p‖q) is symmetric and infinite on a bin empty on one side only, so the
default ``empty_bins="evidently"`` fills zero shares as Evidently does, without renormalising
(:mod:`detectors.distances._shares` lists the rules). The number depends on binning and
empty-bin rule (statistics §2.3): on the same S7 data Evidently's pooled Sturges bins give
0.146, reference deciles 0.081.

PSI has no p-value here (``p_value`` is None; statistic = effect = PSI). Its null
distribution is approximately ``(1/n + 1/m)·χ²(B − 1)``, so a fixed threshold such as 0.1
flags noise on small windows and only large shifts on big ones; :func:`critical_value` gives
the sample-size-aware threshold instead.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> reference = rng.normal(size=(2000, 2))
>>> binned = prepare(reference)
>>> result = test(binned, reference[:1000] + [0.0, 1.0])
>>> result.method, (result.statistic > critical_value(result.n_reference, result.n_current,
...     binned.n_bins)).tolist()
('psi', [False, True])

References
----------
Yurdakul, B. (2018). Statistical properties of population stability index. PhD thesis,
Western Michigan University.
"""

# `test` is the detector API (STYLE §2.2), not a pytest test: pytest collects test_*.py only.
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from detectors.binning import BinnedReference, Strategy
from detectors.binning import fit as prepare
from detectors.distances._shares import EmptyBins, as_share_matrices, binned_shares, column_test
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

__all__ = ["critical_value", "from_shares", "prepare", "test"]


def test(
    reference: ArrayLike | BinnedReference,
    current: ArrayLike,
    *,
    bins: int | None = None,
    strategy: Strategy | None = None,
    empty_bins: EmptyBins = "evidently",
) -> ColumnTest:
    """PSI of every column of ``current`` against ``reference``.

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
        ``method="psi"``, statistic = effect = PSI, ``p_value`` None.

    Raises
    ------
    InvalidInputError
        On mismatched widths, infinities, bad ``bins``/``strategy``/``empty_bins``.
    """
    pair = binned_shares(reference, current, bins=bins, strategy=strategy, empty_bins=empty_bins)
    return column_test("psi", pair, from_shares)


def from_shares(p: ArrayLike, q: ArrayLike) -> NDArray[np.float64]:
    """PSI per row of ``(columns, bins)`` share matrices, taken as given (not renormalised).

    Bins where ``p = q = 0`` contribute 0; a bin with exactly one zero gives +inf.
    """
    p_matrix, q_matrix = as_share_matrices(p, q)
    # Written as (q - p) * ln(q / p), each term is >= 0 in floating point too (no rounding
    # can make PSI negative); 0/0 and x/0 are resolved by the np.where and by inf arithmetic.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (q_matrix - p_matrix) * np.log(q_matrix / p_matrix)
    terms = np.where(p_matrix == q_matrix, 0.0, terms)
    return np.asarray(terms.sum(axis=1), dtype=np.float64)


def critical_value(
    n_reference: ArrayLike, n_current: ArrayLike, bins: ArrayLike, alpha: float = 0.05
) -> NDArray[np.float64]:
    """PSI above which a column drifted at level ``alpha``: chi2.ppf(1 - alpha, B - 1)·(1/n + 1/m).

    The asymptotic null of PSI for ``B`` bins with shares estimated from ``n`` and ``m``
    values (Yurdakul 2018); it holds for reference-quantile bins without empty bins. The
    arguments broadcast, so pass per-column arrays (``ColumnTest.n_reference``,
    ``ColumnTest.n_current``, ``BinnedReference.n_bins``).

    Raises
    ------
    InvalidInputError
        If ``alpha`` is not in (0, 1), a size is below 1 or ``bins`` below 2.

    Examples
    --------
    >>> round(float(critical_value(1000, 1000, 10)[()]), 6)
    0.033838
    """
    if not 0.0 < alpha < 1.0:
        msg = f"The 'alpha' parameter must be in (0, 1). Got {alpha!r} instead."
        raise InvalidInputError(msg)
    n = np.asarray(n_reference, dtype=np.float64)
    m = np.asarray(n_current, dtype=np.float64)
    b = np.asarray(bins, dtype=np.float64)
    if (n < 1).any() or (m < 1).any():
        raise InvalidInputError("n_reference and n_current must be at least 1")
    if (b < 2).any():
        raise InvalidInputError("bins must be at least 2")
    return np.asarray(chi2.ppf(1.0 - alpha, b - 1.0) * (1.0 / n + 1.0 / m), dtype=np.float64)
