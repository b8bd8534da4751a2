"""Anderson–Darling k-sample test (k = 2), column by column, as scipy computes it.

The statistic is Scholz and Stephens' midrank A²akN (their eq. 7, valid for ties),
standardised by its exact variance (eq. 4) into the value ``scipy.stats.anderson_ksamp(
[reference, current], variant='midrank').statistic`` reports. Counts come from one linear
merge of the prepared sorted reference with the sorted current column.

**p-value policy: parity with scipy, clipped to [0.001, 0.25].** The p-value is interpolated
from Scholz and Stephens' table of critical values (quadratic fit of log significance on the
critical values, as scipy does) and is only defined between the table's ends:

- a p-value of **0.001 means "p < 0.001"** (the statistic is beyond the 0.1 % critical
  value); a decision layer must treat ``p <= 0.001`` as significant at every alpha >= 0.001;
- a p-value of **0.25 means "p > 0.25"**.

So after a multiple-testing correction that needs p < 0.001 (Bonferroni at alpha 0.05 over
more than 50 columns) this test can never reject: use KS or Cramér–von Mises for corrected
decisions, and Anderson–Darling for its tail sensitivity on a few columns. scipy's warning
about the clipping is not raised here; the clipping is this documented contract.

Effect size: the standardised statistic grows with the sample sizes, so ``effect`` is
``sqrt(A²akN (n + m) / (n m))``, A²akN the unstandardised midrank statistic. It estimates
the Anderson–Darling-weighted L2 distance ``sqrt(∫ (F_ref - F_cur)² / (H (1 - H)) dH)``
between the two distributions (H pooled), which does not depend on the sample sizes; under
no drift it is about ``sqrt((n + m) / (n m))``, not 0.

Columns with no values on either side, fewer than four values in total, or a single distinct
pooled value (e.g. the same constant on both sides) get NaN; scipy refuses them.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.results import ColumnTest
from detectors.univariate._sorted import SortedReference, pool, prepare, sorted_pair

__all__ = ["P_VALUE_CAP", "P_VALUE_FLOOR", "SortedReference", "prepare", "test"]

#: Smallest reported p-value; it stands for "p below 0.001".
P_VALUE_FLOOR = 0.001
#: Largest reported p-value; it stands for "p above 0.25".
P_VALUE_CAP = 0.25


def test(
    reference: ArrayLike | SortedReference, current: ArrayLike | SortedReference
) -> ColumnTest:
    """Anderson–Darling two-sample test of every column of ``current`` against ``reference``.

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
        ``method="anderson"``; ``statistic`` is the standardised A² of
        ``scipy.stats.anderson_ksamp(..., variant='midrank')``; ``p_value`` equals scipy's,
        clipped to [0.001, 0.25] (see the module docstring); ``effect`` is
        ``sqrt(A²akN (n + m) / (n m))``. Columns that cannot be tested get NaN statistic,
        p-value and effect.

    Raises
    ------
    InvalidInputError
        If an input is not numeric, not 1- or 2-D, empty, holds an infinity, or the widths
        differ.

    References
    ----------
    .. [1] Scholz, F. W. and Stephens, M. A. (1987). K-sample Anderson–Darling tests.
       Journal of the American Statistical Association 82(399), 918–924.
    .. [2] SciPy ``scipy.stats.anderson_ksamp``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> result = test(rng.normal(size=(300, 2)), rng.normal([0.0, 1.0], size=(200, 2)))
    >>> result.p_value.round(3).tolist()
    [0.25, 0.001]
    """
    fitted, ordered = sorted_pair(reference, current)
    statistic = np.full(fitted.width, np.nan)
    effect = np.full(fitted.width, np.nan)
    for j, (ref, cur) in enumerate(zip(fitted.columns, ordered.columns, strict=True)):
        if ref.size > 0 and cur.size > 0 and ref.size + cur.size >= 4:
            statistic[j], effect[j] = _statistic(ref, cur)
    return ColumnTest(
        "anderson", statistic, _p_value(statistic), effect, fitted.counts, ordered.counts
    )


def _statistic(reference: NDArray[np.float64], current: NDArray[np.float64]) -> tuple[float, float]:
    """Standardised midrank A² and the effect (NaN for one distinct pooled value).

    The float operations are scipy's, in scipy's order, so the statistic is scipy's.
    """
    pooled = pool(reference, current)
    starts, stops = pooled.run_bounds()
    if starts.size < 2:
        return math.nan, math.nan
    total = pooled.values.size
    ties = stops - starts
    below = starts + ties / 2.0
    reference_counts = np.concatenate(([0], pooled.reference_counts()))
    a2 = 0.0
    for size, right, left in (
        (reference.size, reference_counts[stops], reference_counts[starts]),
        (current.size, stops - reference_counts[stops], starts - reference_counts[starts]),
    ):
        midcount = right.astype(np.float64)
        midcount -= (right - left) / 2.0
        inner = (
            ties
            / float(total)
            * (total * midcount - below * size) ** 2
            / (below * (total - below) - total * ties / 4.0)
        )
        a2 += inner.sum() / size
    a2 *= (total - 1.0) / total
    h, g = _harmonic_terms(total)
    big_h = 1.0 / reference.size + 1.0 / current.size
    effect = math.sqrt(max(a2, 0.0) * total / (reference.size * current.size))
    return (a2 - 1) / math.sqrt(_variance(total, big_h, h, g)), effect


@functools.lru_cache(maxsize=64)
def _harmonic_terms(total: int) -> tuple[float, float]:
    """Scholz and Stephens' h and g for ``total`` pooled values (O(total), so cached)."""
    partial = (1.0 / np.arange(total - 1, 1, -1)).cumsum()
    return float(partial[-1] + 1), float((partial / np.arange(2, total)).sum())


def _variance(total: int, big_h: float, h: float, g: float, k: int = 2) -> float:
    """Variance of A²kN under the null (Scholz and Stephens 1987, eq. 4)."""
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    n = total  # a Python int, as in scipy, so n**3 is exact before it meets a float
    return (a * n**3 + b * n**2 + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0))


@functools.cache
def _interpolation() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Critical values for k = 2 and the quadratic fit of log significance on them."""
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    critical = b0 + b1 / math.sqrt(1) + b2 / 1
    significance = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    return critical, np.polyfit(critical, np.log(significance), 2)


def _p_value(statistic: NDArray[np.float64]) -> NDArray[np.float64]:
    critical, fit = _interpolation()
    p = np.full(statistic.shape, np.nan)
    p[statistic < critical.min()] = P_VALUE_CAP
    p[statistic > critical.max()] = P_VALUE_FLOOR
    inside = (statistic >= critical.min()) & (statistic <= critical.max())
    p[inside] = np.exp(np.polyval(fit, statistic[inside]))
    return p
