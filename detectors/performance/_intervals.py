"""Analytic intervals and one-sided tests for the difference of a metric between two windows.

Three families, chosen by :attr:`MetricSpec.interval`:

- **proportion** (accuracy): each window's value is x / n. The test is the pooled
  two-proportion z-test (z² is the uncorrected 2 × 2 χ²); the interval of the difference
  is Newcombe's hybrid score interval (his method 10), built from the two Wilson intervals,
  which keeps its coverage near 0 or 1 and on small windows where the Wald interval fails.
- **mean** (MAE, MAPE, log loss): the value is the mean of per-row terms. Welch's t test and
  interval for a difference of means (unequal variances, Welch–Satterthwaite degrees of freedom).
- **root_mean** (RMSE): √(mean of squares); the delta method turns the standard error s of
  the mean square M into s / (2√M), then a normal test and interval.
- **influence** (ROC AUC, R²): the standard error is √Σ ψ_r² over the rows' influence values
  ψ_r (for AUC, DeLong's placement values); a normal test and interval.

Every p-value is one-sided, for "current is worse than reference"; an interval at level
``alpha`` is the two-sided 1 − 2·alpha interval, so its bound on the worse side is the one-sided
bound the test agrees with.

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine 17, 873–890.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209–212.
Welch, B. L. (1947). The generalization of "Student's" problem when several different
population variances are involved. Biometrika 34, 28–35.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["Difference", "Moments", "mean_difference", "proportion_difference", "wilson"]


@dataclass(frozen=True, slots=True)
class Difference:
    """Current minus reference, with intervals and the one-sided p-value of "worse"."""

    difference: float
    low: float
    high: float
    current_low: float
    current_high: float
    p_value: float


def wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` at normal quantile ``z``.

    Examples
    --------
    >>> [round(v, 4) for v in wilson(80, 100, 1.959963984540054)]
    [0.7112, 0.8666]
    """
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_difference(
    x_reference: float,
    n_reference: int,
    x_current: float,
    n_current: int,
    *,
    alpha: float,
    higher_is_better: bool,
) -> Difference:
    """Newcombe interval and pooled z-test of ``x_current/n_current − x_reference/n_reference``.

    Examples
    --------
    >>> d = proportion_difference(900, 1000, 820, 1000, alpha=0.05, higher_is_better=True)
    >>> round(d.difference, 3), round(d.low, 4), round(d.high, 4), d.p_value < 1e-6
    (-0.08, -0.1054, -0.0546, True)
    """
    z = float(stats.norm.ppf(1.0 - alpha))
    p_ref, p_cur = x_reference / n_reference, x_current / n_current
    ref_low, ref_high = wilson(x_reference, n_reference, z)
    cur_low, cur_high = wilson(x_current, n_current, z)
    difference = p_cur - p_ref
    low = difference - math.hypot(p_cur - cur_low, ref_high - p_ref)
    high = difference + math.hypot(cur_high - p_cur, p_ref - ref_low)
    pooled = (x_reference + x_current) / (n_reference + n_current)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_reference + 1 / n_current))
    # Both windows all right (or all wrong): no evidence either way.
    statistic = difference / spread if spread > 0 else 0.0
    worse = -statistic if higher_is_better else statistic
    return Difference(difference, low, high, cur_low, cur_high, float(stats.norm.sf(worse)))


@dataclass(frozen=True, slots=True)
class Moments:
    """Mean of per-row terms, its standard error (ddof 1) and the number of rows."""

    mean: float
    se: float
    n: int

    @classmethod
    def of(cls, terms: NDArray[np.float64]) -> Moments:
        """The moments of ``terms`` (standard error 0 below two rows)."""
        mean = float(terms.mean())
        se = float(terms.std(ddof=1) / math.sqrt(terms.size)) if terms.size > 1 else 0.0
        return cls(mean, se, int(terms.size))

    def root(self) -> Moments:
        """√mean with the delta-method standard error se / (2√mean)."""
        value = math.sqrt(self.mean)
        return Moments(value, self.se / (2.0 * value) if value > 0 else 0.0, self.n)


def mean_difference(
    reference: Moments,
    current: Moments,
    *,
    alpha: float,
    higher_is_better: bool,
    normal: bool = False,
) -> Difference:
    """Welch test and interval of the difference of means of per-row terms, current − reference.

    With ``normal``, the standard errors are taken as they are (delta method, influence
    values) and the law is the normal one.

    Examples
    --------
    >>> ref, cur = Moments(1.0, 0.02, 500), Moments(1.1, 0.03, 400)
    >>> d = mean_difference(ref, cur, alpha=0.05, higher_is_better=False)
    >>> round(d.difference, 3), round(d.p_value, 5)
    (0.1, 0.00284)
    """
    dof = math.inf if normal else _welch_dof(reference, current)
    law = stats.norm if math.isinf(dof) else stats.t(dof)
    own = stats.norm if normal or current.n < 2 else stats.t(current.n - 1)
    quantile, own_quantile = float(law.ppf(1 - alpha)), float(own.ppf(1 - alpha))
    difference = current.mean - reference.mean
    spread = math.hypot(reference.se, current.se)
    worse = -difference if higher_is_better else difference
    if spread > 0:
        p_value = float(law.sf(worse / spread))
    else:  # every term equal within each window: the difference is exact
        p_value = 0.0 if worse > 0 else 1.0 if worse < 0 else 0.5
    return Difference(
        difference,
        difference - quantile * spread,
        difference + quantile * spread,
        current.mean - own_quantile * current.se,
        current.mean + own_quantile * current.se,
        p_value,
    )


def _welch_dof(reference: Moments, current: Moments) -> float:
    """Welch–Satterthwaite degrees of freedom (infinite when both variances are 0)."""
    v_ref, v_cur = reference.se**2, current.se**2
    denominator = 0.0
    if reference.n > 1:
        denominator += v_ref**2 / (reference.n - 1)
    if current.n > 1:
        denominator += v_cur**2 / (current.n - 1)
    return (v_ref + v_cur) ** 2 / denominator if denominator > 0 else math.inf
