"""Result values of the column-wise tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ColumnTest"]


@dataclass(frozen=True, slots=True)
class ColumnTest:
    """One test applied to every column of a reference / current pair.

    Every array has one entry per column, in the column order of the inputs.

    Attributes
    ----------
    method
        Registry name of the test, e.g. ``"ks"`` or ``"psi"``.
    statistic
        The test statistic or distance, as the method defines it.
    p_value
        float64 p-values, or None for distances that have none.
    effect
        An effect size comparable across sample sizes, used by the large-sample gate
        (for distances the distance itself; for KS the statistic D; for chi-square
        Cramér's V).
    n_reference, n_current
        Values used per column, after dropping missing ones (NaN).
    """

    method: str
    statistic: NDArray[np.float64]
    p_value: NDArray[np.float64] | None
    effect: NDArray[np.float64]
    n_reference: NDArray[np.int64]
    n_current: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.statistic)
