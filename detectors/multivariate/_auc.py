"""ROC AUC of scores from ranks, with DeLong's variance and the Mann–Whitney p-value.

With midranks for ties, AUC = (R₁ − n₁(n₁+1)/2) / (n₁ n₀) = U / (n₁ n₀), where R₁ is the rank
sum of the n₁ positives: the Mann–Whitney U statistic scaled to [0, 1], and equal to
``sklearn.metrics.roc_auc_score``.

DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988) from the structural components,
computed with ranks as in Sun & Xu (2014): for a positive i, V₁₀(i) = share of negatives
below it (ties count half); for a negative j, V₀₁(j) = share of positives above it. Then
Var(AUC) = s²(V₁₀)/n₁ + s²(V₀₁)/n₀ with sample variances (ddof 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["AucEstimate", "auc_by_row", "delong"]


@dataclass(frozen=True, slots=True)
class AucEstimate:
    """AUC, its DeLong standard error and the one-sided Mann–Whitney p of AUC > 0.5."""

    auc: float
    standard_error: float
    p_value: float

    def interval(self, confidence: float) -> tuple[float, float]:
        """Wald interval AUC ± z·SE on the AUC scale, clipped to [0, 1]."""
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        half = z * self.standard_error
        return max(0.0, self.auc - half), min(1.0, self.auc + half)


def delong(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> AucEstimate:
    """AUC of ``scores`` for ``labels`` (True: positive), with DeLong's SE and the MWU p.

    The p-value is ``scipy.stats.mannwhitneyu(positives, negatives, alternative="greater",
    method="asymptotic")``'s: normal approximation with tie and continuity corrections.

    Examples
    --------
    >>> est = delong(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    >>> est.auc, round(est.standard_error, 4)
    (0.75, 0.3536)
    """
    positives, negatives = scores[labels], scores[~labels]
    n1, n0 = positives.size, negatives.size
    pooled = stats.rankdata(np.concatenate([positives, negatives]))
    among_positives = stats.rankdata(positives)
    among_negatives = stats.rankdata(negatives)
    v10 = (pooled[:n1] - among_positives) / n0
    v01 = 1.0 - (pooled[n1:] - among_negatives) / n1
    auc = float(v10.mean())
    variance = float(np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n0)
    p_value = stats.mannwhitneyu(
        positives, negatives, alternative="greater", method="asymptotic"
    ).pvalue
    return AucEstimate(auc, float(np.sqrt(variance)), float(p_value))


def auc_by_row(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The AUC of every row of ``scores`` ``(k, n)`` for the same ``labels`` ``(n,)``.

    Examples
    --------
    >>> auc_by_row(np.array([[0.1, 0.9, 0.8], [0.9, 0.1, 0.5]]), np.array([False, True, True]))
    array([1., 0.])
    """
    n1 = int(labels.sum())
    n0 = labels.size - n1
    ranks = np.asarray(stats.rankdata(scores, axis=1), dtype=np.float64)
    out: NDArray[np.float64] = (ranks[:, labels].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return out
