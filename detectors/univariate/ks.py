"""Two-sample Kolmogorov–Smirnov test, column by column, with scipy's p-values.

The statistic is D = sup_t |F_ref(t) - F_cur(t)| with right-continuous ECDFs, evaluated at
the last value of every run of ties in the pooled sample (``searchsorted(side='right')``
semantics), so D is exact with ties. Each column is one linear merge of the prepared sorted
reference with the sorted current column (:func:`detectors.univariate._sorted.pool`), and
``n m D`` is computed in integers, so D is the nearest float to the true lattice value
(scipy's asymptotic path reports a float difference of ECDFs that can differ in the last
ulps, e.g. 0.0024680000000000257 for 0.002468).

The p-value is ``scipy.stats.ks_2samp(method='auto', alternative='two-sided')``'s:

- **exact** when ``max(n, m) <= 10_000``: Driftline calls scipy's private helper
  ``scipy.stats._stats_py._attempt_exact_2kssamp`` once per column (its unequal-size path is
  compiled with Pythran, a pure-Python port would be orders of magnitude slower). Like scipy
  the statistic is then rounded to the lattice ``h / lcm(n, m)``. When the helper reports
  failure (floating-point overflow), scipy would warn "Exact calculation unsuccessful" and
  switch to the asymptotic p; Driftline switches silently.
- **asymptotic** otherwise: ``scipy.stats.kstwo.sf(D, round(n*m/(n+m)))``, one vectorised
  call over the columns. This is not the limiting Kolmogorov law ``kstwobign``.

The exact p assumes continuous data: with ties it is conservative (too large).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.stats._stats_py import _attempt_exact_2kssamp

from detectors.results import ColumnTest
from detectors.univariate._sorted import SortedReference, pool, prepare, sorted_pair

__all__ = ["EXACT_MAX_SIZE", "SortedReference", "prepare", "test"]

#: ``method='auto'`` uses the exact distribution when both samples are at most this large.
EXACT_MAX_SIZE = 10_000


def test(
    reference: ArrayLike | SortedReference, current: ArrayLike | SortedReference
) -> ColumnTest:
    """Two-sample Kolmogorov–Smirnov test of every column of ``current`` against ``reference``.

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
        ``method="ks"``; ``statistic`` and ``effect`` are D, ``p_value`` the two-sided
        p-value equal to scipy's ``method='auto'``. A column with no values left on either
        side gets NaN statistic, p-value and effect.

    Raises
    ------
    InvalidInputError
        If an input is not numeric, not 1- or 2-D, empty, holds an infinity, or the widths
        differ.

    References
    ----------
    .. [1] Hodges, J. L. (1958). The significance probability of the Smirnov two-sample
       test. Arkiv för Matematik 3(5), 469–486.
    .. [2] Simard, R. and L'Ecuyer, P. (2011). Computing the two-sided Kolmogorov–Smirnov
       distribution. Journal of Statistical Software 39(11).
    .. [3] SciPy ``scipy.stats.ks_2samp``.

    Examples
    --------
    >>> result = test([[1.0], [2.0], [3.0], [4.0]], [[3.5], [4.5], [5.5]])
    >>> round(float(result.statistic[0]), 4), round(float(result.p_value[0]), 4)
    (0.75, 0.2286)
    """
    fitted, ordered = sorted_pair(reference, current)
    n_reference, n_current = fitted.counts, ordered.counts
    statistic = np.full(fitted.width, np.nan)
    p_value = np.full(fitted.width, np.nan)
    asymptotic = np.zeros(fitted.width, dtype=np.bool_)
    for j, (ref, cur) in enumerate(zip(fitted.columns, ordered.columns, strict=True)):
        if ref.size == 0 or cur.size == 0:
            continue
        d = _statistic(ref, cur)
        if max(ref.size, cur.size) <= EXACT_MAX_SIZE:
            d, p_value[j], asymptotic[j] = _exact(ref.size, cur.size, d)
        else:
            asymptotic[j] = True
        statistic[j] = d
    if asymptotic.any():
        n = n_reference[asymptotic].astype(np.float64)
        m = n_current[asymptotic].astype(np.float64)
        p_value[asymptotic] = stats.kstwo.sf(statistic[asymptotic], np.round(n * m / (n + m)))
    p_value = np.clip(p_value, 0.0, 1.0)
    return ColumnTest("ks", statistic, p_value, statistic.copy(), n_reference, n_current)


def _statistic(reference: NDArray[np.float64], current: NDArray[np.float64]) -> float:
    """D, computed exactly: ``n m (F_ref - F_cur)`` is an integer at every pooled value."""
    n, m = reference.size, current.size
    pooled = pool(reference, current)
    # m * (reference values so far) - n * (current values so far), position by position
    scaled = pooled.reference_counts()
    scaled *= n + m
    scaled -= np.arange(n, n * (n + m) + 1, n, dtype=np.int64)
    last = pooled.run_last()
    if not last.all():  # ties: only the last value of each run is a point of both ECDFs
        scaled = scaled[last]
    return max(int(scaled.max()), -int(scaled.min())) / (n * m)


def _exact(n: int, m: int, d: float) -> tuple[float, float, bool]:
    """``(d on the lattice, exact p or NaN, whether to fall back to the asymptotic p)``."""
    success, lattice_d, p = _attempt_exact_2kssamp(n, m, math.gcd(n, m), d, "two-sided")
    if not success:
        return float(lattice_d), math.nan, True
    return float(lattice_d), float(p), False
