"""A window's model outputs as the detectors take them: answered rows, classes, probabilities.

Failed requests carry no output (NaN predictions and probabilities), and a dataset reference
may have no predictions at all, so every kind scores only the rows whose outputs are finite.
Probabilities written from float32 models sum to 1 only to about 1e-7, which the performance
detectors' strict check (relative 1.5e-8) refuses: rows within :data:`SUM_SLACK` of 1 are
rescaled to sum to 1 exactly; any other row is left as it is for the detectors to reject.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.outcome import Span
from storage import Window

__all__ = [
    "CLASSIFICATION",
    "SUM_SLACK",
    "class_codes",
    "finite_rows",
    "probabilities",
    "score_names",
    "span",
]

#: The tasks whose predictions are class indices.
CLASSIFICATION = ("binary_classification", "multiclass_classification")
#: Largest distance of a probability row's sum from 1 that is treated as rounding.
SUM_SLACK = 1e-5


def span(window: Window) -> Span:
    """The window's bounds and rows, for detector results."""
    return Span(n=len(window), start=window.start, end=window.end)


def class_codes(window: Window) -> NDArray[np.float64]:
    """The model's class indices ``0..k-1`` (from the probability columns, else the classes)."""
    k = window.probabilities.shape[1] or len(window.classes)
    return np.arange(k, dtype=np.float64)


def probabilities(window: Window) -> NDArray[np.float64] | None:
    """The ``(n, k)`` probabilities with rounding-level sums fixed, or None without any."""
    matrix = window.probabilities
    if matrix.ndim != 2 or matrix.shape[1] == 0 or not np.isfinite(matrix).any():
        return None
    with np.errstate(invalid="ignore"):
        sums = matrix.sum(axis=1)
        rounding = np.isfinite(sums) & (np.abs(sums - 1.0) <= SUM_SLACK) & (sums != 1.0)
    if not rounding.any():
        return matrix
    fixed = matrix.copy()
    fixed[rounding] /= sums[rounding, np.newaxis]
    return fixed


def finite_rows(*columns: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Rows where every given ``(n,)`` or ``(n, k)`` array is finite."""
    mask = np.ones(len(columns[0]), dtype=np.bool_)
    for column in columns:
        finite = np.isfinite(column)
        mask &= finite if finite.ndim == 1 else finite.all(axis=1)
    return mask


def score_names(window: Window, k: int) -> tuple[str, ...]:
    """``proba_<class>`` for each of ``k`` probability columns (class index when unnamed)."""
    classes = window.classes if len(window.classes) == k else tuple(map(str, range(k)))
    return tuple(f"proba_{name}" for name in classes)
