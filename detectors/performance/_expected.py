"""The expected confusion matrix of a window from calibrated probabilities, and its variance.

If row r's true class is drawn from its calibrated probabilities π_r (the CBPE assumption),
then the confusion matrix C (rows: true class, columns: predicted class) has expectation
E[C[i, j]] = Σ_{r: ŷ_r = j} π_r[i]. A metric f of C is estimated by f(E[C]), exactly E[f(C)]
for accuracy and precision (linear in C, the predicted counts being known) and to first order
for recall and F1.

Its standard error is the delta method over independent rows: row r adds one unit to column
ŷ_r in the row of its true class, so with g = ∂f/∂C,

    Var f(C) ≈ Σ_r Var_{Y ~ π_r}( g[Y, ŷ_r] ) = Σ_r ( Σ_i π_ri g[i, ŷ_r]² − (Σ_i π_ri g[i, ŷ_r])² ).

For accuracy, g[i, j] = 1[i = j] / n and this is Σ_r q_r (1 − q_r) / n², the variance of a sum
of Bernoulli terms (q_r the probability that row r's prediction is right). It is the spread of
the *realised* metric around the estimate, which is what a comparison with labels needs.
Grouping the rows by predicted class turns the sum into sums of π_r and π_r π_rᵀ per class
(:class:`Spread`), computed once per window for every metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.performance.classification import Average, LabelMetric, per_class

__all__ = ["Spread", "expected_confusion", "gradient"]


def expected_confusion(
    proba: NDArray[np.float64], predicted: NDArray[np.intp]
) -> NDArray[np.float64]:
    """E[C] ``(k, k)`` from calibrated ``(n, k)`` probabilities and predicted class indices.

    Examples
    --------
    >>> expected_confusion(np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 1])).tolist()
    [[0.9, 0.3], [0.1, 0.7]]
    """
    k = proba.shape[1]
    onehot = np.zeros((predicted.size, k))
    onehot[np.arange(predicted.size), predicted] = 1.0
    return np.asarray(proba.T @ onehot, dtype=np.float64)


def gradient(
    confusion: NDArray[np.float64], metric: LabelMetric, average: Average
) -> NDArray[np.float64]:
    """∂f/∂C of ``metric`` (with ``zero_division=0``) at ``confusion``, ``(k, k)``.

    Only directions that keep every column sum fixed matter (the predicted counts are known),
    so terms constant along a column are dropped.
    """
    k = confusion.shape[0]
    n = confusion.sum()
    if metric == "accuracy":
        return np.asarray(np.eye(k) / n, dtype=np.float64)
    truth = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    scores = per_class(confusion, metric)
    own = np.eye(k)
    # row c of `rows` is ∂score_c/∂C[c, :]; every other row of C leaves score_c unchanged
    if metric == "precision":
        rows = own * _inverse(predicted)[:, np.newaxis]
    elif metric == "recall":
        rows = (own - scores[:, np.newaxis]) * _inverse(truth)[:, np.newaxis]
    else:
        rows = (2.0 * own - scores[:, np.newaxis]) * _inverse(truth + predicted)[:, np.newaxis]
    if average == "binary":
        result = np.zeros((k, k))
        result[1] = rows[1]
        return result
    if average == "macro":
        return np.asarray(rows / k, dtype=np.float64)
    # weighted: Σ_c (t_c / n) score_c, and t_c itself moves with row c of C
    return np.asarray((truth[:, np.newaxis] * rows + scores[:, np.newaxis]) / n, np.float64)


@dataclass(frozen=True, slots=True)
class Spread:
    """Per predicted class j, Σ π_r and Σ π_r π_rᵀ over the rows predicted j: ``(k, k)`` and
    ``(k, k, k)``. Computed once per window; every metric's variance is then O(k³)."""

    first: NDArray[np.float64]
    second: NDArray[np.float64]

    @classmethod
    def of(cls, proba: NDArray[np.float64], predicted: NDArray[np.intp]) -> Spread:
        """The sums of one window (``first[j]`` is column j of the expected confusion)."""
        k = proba.shape[1]
        first = np.zeros((k, k))
        second = np.zeros((k, k, k))
        order = np.argsort(predicted, kind="stable")
        bounds = np.searchsorted(predicted[order], np.arange(k + 1))
        for j in range(k):
            rows = proba[order[bounds[j] : bounds[j + 1]]]
            first[j] = rows.sum(axis=0)
            second[j] = rows.T @ rows
        return cls(first, second)

    def standard_error(self, slope: NDArray[np.float64]) -> float:
        """Delta-method standard error of a metric with gradient ``slope`` (module notes).

        Σ_j [Σ_i g_ij² first_j[i] − g_jᵀ second_j g_j], g_j the column j of ``slope``.
        """
        g = slope.T  # row j: the gradient along column j of C
        linear = np.einsum("ji,ji->", g * g, self.first)
        quadratic = np.einsum("ji,jil,jl->", g, self.second, g)
        return float(np.sqrt(max(float(linear - quadratic), 0.0)))


def _inverse(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.divide(1.0, values, out=np.zeros_like(values), where=values > 0)
