"""Sample quantiles with distribution-free (order-statistic) confidence intervals.

**Estimate**: numpy's default ``method="linear"`` (Hyndman & Fan type 7): with the sample
sorted as x₀ ≤ … ≤ xₙ₋₁ and h = (n − 1)·q, the estimate is x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋₊₁ − x⌊h⌋),
equal to ``numpy.quantile(x, q)``.

**Interval**: the number B of observations below the true q-quantile is Binomial(n, q), so a
pair of order statistics brackets it with a probability read off the binomial law, whatever
the distribution (Conover, *Practical Nonparametric Statistics*, 3.2). At two-sided level c,
with a = (1 − c)/2, the bounds are x_l and x_u (0-based) with::

    l = binom.ppf(a, n, q) − 1        u = binom.isf(a, n, q)

exactly as :meth:`scipy.stats.quantile_test(...).confidence_interval` computes them. A bound
whose index falls outside the sample does not exist (NaN): the sample is too small to bound
the quantile on that side. :func:`minimum_count` is the smallest n with both bounds — 368 for
p99, 72 for p95 and 6 for the median at 95 % — the default minimum of the latency detectors.

Everything runs on one :func:`numpy.partition` of the sample for all quantiles at once, so a
million latencies cost a few tens of milliseconds, not a sort.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from detectors.failures._gate import as_samples, probability

__all__ = ["QuantileEstimate", "latencies", "minimum_count", "quantile_intervals"]


@dataclass(frozen=True, slots=True)
class QuantileEstimate:
    """One sample quantile and its order-statistic confidence interval (NaN: no bound)."""

    quantile: float
    estimate: float
    low: float
    high: float
    n: int


def latencies(values: ArrayLike, name: str = "latency_seconds") -> tuple[NDArray[np.float64], int]:
    """The non-missing latencies (seconds, >= 0, finite) and how many were missing (NaN)."""
    array = as_samples(values, name, low=0.0, allow_nan=True)
    missing = np.isnan(array)
    count = int(missing.sum())
    return (array[~missing] if count else array), count


def _ranks(
    n: int, quantiles: NDArray[np.float64], confidence: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    tail = (1.0 - confidence) / 2.0
    low = scipy.stats.binom.ppf(tail, n, quantiles).astype(np.int64) - 1
    high = scipy.stats.binom.isf(tail, n, quantiles).astype(np.int64)
    return low, high


def minimum_count(quantile: float, confidence: float = 0.95) -> int:
    """Smallest sample size whose order statistics bound ``quantile`` on both sides.

    Examples
    --------
    >>> [minimum_count(q) for q in (0.5, 0.95, 0.99)]
    [6, 72, 368]
    """
    q = probability(quantile, "quantile")
    level = probability(confidence, "confidence")
    tail = math.log((1.0 - level) / 2.0)
    n = max(1, math.floor(max(tail / math.log(q), tail / math.log1p(-q))) - 1)
    while True:
        low, high = _ranks(n, np.array([q]), level)
        if low[0] >= 0 and high[0] < n:
            return n
        n += 1


def quantile_intervals(
    sample: NDArray[np.float64], quantiles: Sequence[float], confidence: float = 0.95
) -> tuple[QuantileEstimate, ...]:
    """Estimates and order-statistic intervals of several quantiles of one sample.

    Parameters
    ----------
    sample
        1-D float64 without NaN (see :func:`latencies`); it is not modified.
    quantiles
        Probabilities strictly between 0 and 1.
    confidence
        Two-sided level of the intervals.

    Returns
    -------
    tuple of QuantileEstimate
        One per quantile, in the order given; all NaN for an empty sample.

    Examples
    --------
    >>> import numpy as np
    >>> sample = np.random.default_rng(0).exponential(0.02, 1_000)
    >>> (p99,) = quantile_intervals(sample, [0.99])
    >>> bool(p99.estimate == np.quantile(sample, 0.99)), p99.low < p99.estimate < p99.high
    (True, True)
    """
    qs = np.array([probability(q, "quantile") for q in quantiles], dtype=np.float64)
    level = probability(confidence, "confidence")
    n = len(sample)
    if n == 0:
        return tuple(QuantileEstimate(float(q), math.nan, math.nan, math.nan, 0) for q in qs)
    position = (n - 1) * qs
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    low, high = _ranks(n, qs, level)
    kth = np.unique(np.concatenate([below, above, low[low >= 0], high[high < n]]))
    ordered = np.partition(sample, kth)
    lower_value, upper_value = ordered[below], ordered[above]
    # numpy's linear interpolation (its _lerp), so that estimates equal numpy.quantile.
    fraction = position - below
    estimate = lower_value + (upper_value - lower_value) * fraction
    estimate = np.where(
        fraction >= 0.5, upper_value - (upper_value - lower_value) * (1 - fraction), estimate
    )
    return tuple(
        QuantileEstimate(
            quantile=float(qs[i]),
            estimate=float(estimate[i]),
            low=float(ordered[low[i]]) if low[i] >= 0 else math.nan,
            high=float(ordered[high[i]]) if high[i] < n else math.nan,
            n=n,
        )
        for i in range(len(qs))
    )
