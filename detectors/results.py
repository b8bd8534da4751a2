"""Result values of the column-wise tests and of the multivariate (whole-row) tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ColumnTest", "FeatureScore", "MultivariateTest"]


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


@dataclass(frozen=True, slots=True)
class FeatureScore:
    """How much one feature explains a multivariate drift, as the method measures it.

    Attributes
    ----------
    name
        The feature's name (``"x3"`` for the fourth column when no names were given).
    score
        Larger means more of the drift: the domain classifier's AUC lost when the feature is
        shuffled; PCA's rise of the feature's mean squared residual; for text descriptors the
        Kolmogorov–Smirnov D between reference and current.
    reference, current
        The summary the score compares on each side, when there is one (mean squared
        residual, mean descriptor value); None otherwise.
    """

    name: str
    score: float
    reference: float | None = None
    current: float | None = None


@dataclass(frozen=True, slots=True)
class MultivariateTest:
    """One test of whole rows (or vectors) of a reference / current pair.

    Drift is ``p_value <= alpha and effect >= min_effect``: significance alone is reached by
    trivial changes on large samples, so an effect size gates it (``min_effect`` 0: no gate).

    Attributes
    ----------
    method
        ``"domain_classifier"``, ``"pca_reconstruction"`` or ``"mmd"``.
    statistic
        ROC AUC of the classifier; mean reconstruction error of current; unbiased MMD².
    p_value
        One-sided p-value of "current differs from reference" (float64).
    alpha
        Level the p-value was held against.
    effect
        The effect size the gate reads: AUC; the ratio of current's mean reconstruction
        error to the held-out reference's; MMD².
    min_effect
        The gate on ``effect``.
    drift
        The verdict.
    n_reference, n_current
        Rows compared after sampling (and, for the domain classifier, balancing).
    ci
        Confidence interval of the statistic (the AUC's), when the method gives one.
    confidence
        Level of ``ci`` (e.g. 0.95), or None.
    features
        Per-feature explanation, largest score first (may be empty).
    """

    method: str
    statistic: float
    p_value: float
    alpha: float
    effect: float
    min_effect: float
    drift: bool
    n_reference: int
    n_current: int
    ci: tuple[float, float] | None = None
    confidence: float | None = None
    features: tuple[FeatureScore, ...] = ()

    def top(self, k: int = 5) -> tuple[FeatureScore, ...]:
        """The ``k`` features with the largest scores."""
        return self.features[:k]
