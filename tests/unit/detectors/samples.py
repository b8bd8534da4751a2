"""Data sets shared by the detector tests (not a test module: pytest collects test_*.py)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["mixed", "s7"]


def mixed(rng: np.random.Generator, rows: int, shift: float) -> NDArray[np.float64]:
    """Five columns: normal, scaled normal, Poisson (ties), normal with NaN, constant."""
    data = np.column_stack(
        [
            rng.normal(shift, 1.0, rows),
            rng.normal(0.0, 1.0 + shift, rows),
            rng.poisson(3.0 + shift, rows).astype(np.float64),
            rng.normal(shift, 1.0, rows),
            np.full(rows, 3.0),
        ]
    )
    data[rng.random(rows) < 0.1, 3] = np.nan
    return data


def s7() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``ref`` and ``cur`` of statistics.md §0 S7: the first two draws of default_rng(7)."""
    rng = np.random.default_rng(7)
    return rng.normal(0.0, 1.0, 1000), rng.normal(0.1, 1.1, 800)
