"""Regression metrics: MAE, RMSE, MAPE and R², equal to scikit-learn's.

- MAE = mean |y − ŷ|; RMSE = √(mean (y − ŷ)²);
- MAPE = mean |y − ŷ| / max(|y|, eps), eps = float64 machine epsilon, a *fraction* (not %)
  as ``mean_absolute_percentage_error``: a true value of 0 gives a huge term, not an error;
- R² = 1 − SS_res / SS_tot with SS_tot around the mean of ``y_true``; scikit-learn's
  ``force_finite`` rule when ``y_true`` is constant (1.0 if the predictions are exact, else
  0.0), and NaN with fewer than two rows.

Each has a kernel (a function of row weights) for the bootstrap; the weighted R² centres
``y_true`` on the window's mean first so that SS_tot is not lost to cancellation.

Examples
--------
>>> y_true, y_pred = [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]
>>> mean_absolute_error(y_true, y_pred), round(root_mean_squared_error(y_true, y_pred), 6)
(0.5, 0.612372)
>>> round(r2(y_true, y_pred), 6)
0.948608
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.performance._labels import as_vector, same_length
from detectors.performance._weights import Kernel, dot, ones

__all__ = [
    "absolute_errors",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "percentage_errors",
    "r2",
    "r2_kernel",
    "r2_standard_error",
    "root_mean_squared_error",
    "squared_errors",
]

_EPS = float(np.finfo(np.float64).eps)


def absolute_errors(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float64]:
    """Per-row |y − ŷ| (the terms of MAE)."""
    truth, predicted = _pair(y_true, y_pred)
    return np.abs(truth - predicted)


def squared_errors(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float64]:
    """Per-row (y − ŷ)² (the terms of the MSE under RMSE's square root)."""
    truth, predicted = _pair(y_true, y_pred)
    return (truth - predicted) ** 2


def percentage_errors(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.float64]:
    """Per-row |y − ŷ| / max(|y|, eps) (the terms of MAPE)."""
    truth, predicted = _pair(y_true, y_pred)
    return np.abs(truth - predicted) / np.maximum(np.abs(truth), _EPS)


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error (``mean_absolute_error``)."""
    return float(np.mean(absolute_errors(y_true, y_pred)))


def root_mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error (``root_mean_squared_error``)."""
    return float(np.sqrt(np.mean(squared_errors(y_true, y_pred))))


def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error as a fraction (``mean_absolute_percentage_error``).

    Examples
    --------
    >>> mean_absolute_percentage_error([100.0, 200.0], [110.0, 180.0])
    0.1
    """
    return float(np.mean(percentage_errors(y_true, y_pred)))


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination (``r2_score``, ``force_finite=True``)."""
    truth, predicted = _pair(y_true, y_pred)
    return float(r2_kernel(truth, predicted)(None)[0])


def r2_kernel(y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> Kernel:
    """R² as a function of row weights."""
    residual = (y_true - y_pred) ** 2
    centred = y_true - y_true.mean() if y_true.size else y_true
    n = y_true.size

    def evaluate(weights: NDArray[np.float64] | None) -> NDArray[np.float64]:
        if weights is None:
            numerator = np.array([residual.sum()])
            denominator = np.array([(centred**2).sum()])
            total = np.array([float(n)])
        else:
            w = ones(weights, n)
            total = w.sum(axis=1)
            numerator = dot(w, residual)
            shift = np.divide(dot(w, centred), total, out=np.zeros_like(total), where=total > 0)
            denominator = dot(w, centred**2) - total * shift**2
        safe = np.where(denominator > 0, denominator, 1.0)
        value = np.where(denominator > 0, 1.0 - numerator / safe, np.where(numerator > 0, 0.0, 1.0))
        return np.where(total >= 2, value, np.nan)

    return evaluate


def r2_standard_error(y_true: NDArray[np.float64], y_pred: NDArray[np.float64]) -> float:
    """Standard error of R² = 1 − A/B (A = mean squared error, B = mean squared deviation of
    ``y_true``) from its influence values ψ_r = −[(a_r − A)/B − A·(b_r − B)/B²]/n.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=10_000)
    >>> round(r2_standard_error(y, y + rng.normal(0, 0.5, 10_000)), 4)
    0.0049
    """
    n = y_true.size
    errors = (y_true - y_pred) ** 2
    spread = (y_true - y_true.mean()) ** 2
    a, b = float(errors.mean()), float(spread.mean())
    if n < 2 or b <= 0:
        return 0.0 if n >= 2 else math.nan
    influence = ((errors - a) / b - a * (spread - b) / b**2) / n
    return float(np.sqrt(np.sum(influence**2)))


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    truth = as_vector(y_true, "y_true")
    predicted = as_vector(y_pred, "y_pred")
    same_length(("y_true", truth), ("y_pred", predicted))
    return truth, predicted
