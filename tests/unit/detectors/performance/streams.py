"""Synthetic model outputs for the performance tests (not a test module).

A logistic ground truth, P(y = 1 | x) = sigmoid(x·w + 0.2) with x ~ N(0, scale²·I₃) + shift·e₀,
and a model that knows it (scores = the true probabilities, predictions = scores ≥ 0.5), so the
model is calibrated conditional on x: covariate shift (``shift``, ``scale`` < 1 crowds rows near
the decision boundary) keeps P(y | x); concept drift flips labels of the segment x₀ > 0 with
probability ``flip``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Window", "logistic"]

WEIGHTS = np.array([1.5, -1.0, 0.8])


@dataclass(frozen=True)
class Window:
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    scores: NDArray[np.float64]
    predicted: NDArray[np.float64]


def logistic(
    rng: np.random.Generator, n: int, *, flip: float = 0.0, shift: float = 0.0, scale: float = 1.0
) -> Window:
    """``n`` rows; labels in the segment x₀ > 0 flipped with probability ``flip``."""
    x = rng.normal(size=(n, 3)) * scale
    x[:, 0] += shift
    scores = 1.0 / (1.0 + np.exp(-(x @ WEIGHTS + 0.2)))
    y = (rng.random(n) < scores).astype(np.float64)
    flipped = (x[:, 0] > 0) & (rng.random(n) < flip)
    y[flipped] = 1.0 - y[flipped]
    return Window(x, y, scores, (scores >= 0.5).astype(np.float64))
