"""Data sets shared by the multivariate tests (not a test module: pytest collects test_*.py)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["correlated", "correlation_break"]

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def correlated(rng: np.random.Generator, rows: int, rho: float) -> NDArray[np.float64]:
    """Two standard normal columns with correlation ``rho``: both marginals are N(0, 1)."""
    a, b = rng.normal(size=(2, rows))
    return np.column_stack([a, rho * a + np.sqrt(1 - rho**2) * b])


def correlation_break(seed: int, n: int, m: int) -> Pair:
    """Reference correlated 0.9, current independent, with the same N(0, 1) marginals."""
    rng = np.random.default_rng(seed)
    return correlated(rng, n, 0.9), correlated(rng, m, 0.0)
