"""Metrics of predicted class labels: confusion matrix, accuracy, precision, recall, F1.

Each of them is a function of the ``k × k`` confusion matrix ``C`` (rows: true class, columns:
predicted class, both in ``classes`` order), and :func:`from_confusion` evaluates any of them
on a stack of matrices ``(..., k, k)`` at once, with counts or with expected (fractional)
counts: the bootstrap and the label-free estimates (:mod:`detectors.performance.cbpe`) use it.

Per class ``c``: precision = C[c, c] / (column sum), recall = C[c, c] / (row sum, the support),
F1 = 2·C[c, c] / (row sum + column sum), which is scikit-learn's F1 including its
zero-division rule. Averages:

- ``"macro"``: unweighted mean over ``classes``;
- ``"weighted"``: mean weighted by the support (true count) of each class;
- ``"binary"``: the score of the second class of two (scikit-learn's ``pos_label=1`` for 0/1).

**Zero division** (scikit-learn's ``zero_division``): a class whose denominator is 0 (never
predicted, for precision; never true, for recall; neither, for F1) scores ``zero_division``:
0.0 (the default, scikit-learn's value without its warning), 1.0, or NaN; NaN scores are then
left out of the averages. With ``classes`` given explicitly, a class absent from both labels
counts in the macro average with that score, as scikit-learn's ``labels=`` does.

Examples
--------
>>> y_true = [0, 0, 1, 1, 2, 2]
>>> y_pred = [0, 1, 1, 1, 2, 0]
>>> confusion_matrix(y_true, y_pred).tolist()
[[1, 1, 0], [0, 2, 0], [1, 0, 1]]
>>> round(f1(y_true, y_pred), 6), round(f1(y_true, y_pred, average="weighted"), 6)
(0.655556, 0.655556)
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.performance._labels import as_classes, as_vector, encode, same_length
from detectors.performance._weights import Kernel, grouped_sums, ratio

__all__ = [
    "AVERAGES",
    "Average",
    "LabelMetric",
    "accuracy",
    "confusion_matrix",
    "f1",
    "from_confusion",
    "kernel",
    "per_class",
    "precision",
    "recall",
]

Average = Literal["macro", "weighted", "binary"]
LabelMetric = Literal["accuracy", "precision", "recall", "f1"]
AVERAGES: tuple[str, ...] = get_args(Average)


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, *, classes: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Counts of (true class, predicted class) pairs, ``(k, k)`` in ``classes`` order.

    Equals ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=classes)``.

    Raises
    ------
    InvalidInputError
        On non-finite or mismatched inputs, or a label outside ``classes``.
    """
    truth, predicted = _pair(y_true, y_pred)
    known = as_classes(classes, truth, predicted)
    k = known.size
    cells = encode(truth, known) * k + encode(predicted, known)
    return np.bincount(cells, minlength=k * k).reshape(k, k).astype(np.int64, copy=False)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of rows whose predicted label equals the true one (``accuracy_score``).

    Examples
    --------
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    truth, predicted = _pair(y_true, y_pred)
    return float(np.mean(truth == predicted))


def precision(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    average: Average = "macro",
    zero_division: float = 0.0,
) -> float:
    """Precision, averaged (``precision_score(..., average=..., zero_division=...)``)."""
    return _score("precision", y_true, y_pred, classes, average, zero_division)


def recall(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    average: Average = "macro",
    zero_division: float = 0.0,
) -> float:
    """Recall, averaged (``recall_score(..., average=..., zero_division=...)``)."""
    return _score("recall", y_true, y_pred, classes, average, zero_division)


def f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    average: Average = "macro",
    zero_division: float = 0.0,
) -> float:
    """F1, averaged (``f1_score(..., average=..., zero_division=...)``)."""
    return _score("f1", y_true, y_pred, classes, average, zero_division)


def per_class(
    confusion: ArrayLike, metric: LabelMetric, *, zero_division: float = 0.0
) -> NDArray[np.float64]:
    """Per-class precision, recall or F1 of stacked matrices: ``(..., k, k)`` to ``(..., k)``.

    Examples
    --------
    >>> per_class([[3, 1], [0, 2]], "recall").tolist()
    [0.75, 1.0]
    """
    check_zero_division(zero_division)
    matrix = _matrices(confusion)
    hits = np.diagonal(matrix, axis1=-2, axis2=-1)
    if metric == "precision":
        numerator, denominator = hits, matrix.sum(axis=-2)
    elif metric == "recall":
        numerator, denominator = hits, matrix.sum(axis=-1)
    elif metric == "f1":
        numerator, denominator = 2.0 * hits, matrix.sum(axis=-2) + matrix.sum(axis=-1)
    else:
        msg = f"metric: expected 'precision', 'recall' or 'f1', got {metric!r}"
        raise InvalidInputError(msg)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, zero_division)


def from_confusion(
    confusion: ArrayLike,
    metric: LabelMetric,
    *,
    average: Average = "macro",
    zero_division: float = 0.0,
) -> NDArray[np.float64]:
    """``metric`` of each matrix of a stack ``(..., k, k)``, as an array of shape ``(...)``.

    Counts may be fractional (expected counts). A matrix with no rows gives NaN accuracy.

    Examples
    --------
    >>> stack = np.array([[[5, 0], [0, 5]], [[3, 2], [1, 4]]])
    >>> from_confusion(stack, "accuracy").tolist()
    [1.0, 0.7]
    """
    matrix = _matrices(confusion)
    if metric == "accuracy":
        total = matrix.sum(axis=(-2, -1))
        hits = np.trace(matrix, axis1=-2, axis2=-1)
        return ratio(hits, total)
    if average not in AVERAGES:
        valid = ", ".join(map(repr, AVERAGES))
        msg = f"The 'average' parameter must be one of {valid}. Got {average!r} instead."
        raise InvalidInputError(msg)
    scores = per_class(matrix, metric, zero_division=zero_division)
    if average == "binary":
        if matrix.shape[-1] != 2:
            msg = f"average='binary' needs two classes, got {matrix.shape[-1]}"
            raise InvalidInputError(msg)
        return np.asarray(scores[..., 1], dtype=np.float64)
    weights = matrix.sum(axis=-1) if average == "weighted" else np.ones_like(scores)
    return _nan_average(scores, weights)


def check_zero_division(value: float) -> None:
    """Raise unless ``value`` is 0.0, 1.0 or NaN (scikit-learn's choices)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"zero_division must be 0.0, 1.0 or NaN, got {value!r}"
        raise InvalidInputError(msg)
    if not (math.isnan(value) or value in (0.0, 1.0)):
        msg = f"zero_division must be 0.0, 1.0 or NaN, got {value!r}"
        raise InvalidInputError(msg)


def _score(
    metric: LabelMetric,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    classes: ArrayLike | None,
    average: Average,
    zero_division: float,
) -> float:
    matrix = confusion_matrix(y_true, y_pred, classes=classes)
    return float(from_confusion(matrix, metric, average=average, zero_division=zero_division))


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    truth = as_vector(y_true, "y_true")
    predicted = as_vector(y_pred, "y_pred")
    same_length(("y_true", truth), ("y_pred", predicted))
    return truth, predicted


def _matrices(confusion: ArrayLike) -> NDArray[np.float64]:
    matrix = np.asarray(confusion, dtype=np.float64)
    if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2] or matrix.shape[-1] == 0:
        msg = f"confusion: expected square (..., k, k) matrices, got shape {matrix.shape}"
        raise InvalidInputError(msg)
    return matrix


def _nan_average(scores: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted mean over the last axis, leaving NaN scores out (NaN if nothing is left)."""
    present = ~np.isnan(scores)
    w = np.where(present, weights, 0.0)
    total = w.sum(axis=-1)
    weighted = np.where(present, scores * w, 0.0).sum(axis=-1)
    return ratio(weighted, total)


def kernel(
    y_true: NDArray[np.float64],
    y_pred: NDArray[np.float64],
    classes: NDArray[np.float64],
    metric: LabelMetric,
    *,
    average: Average = "macro",
    zero_division: float = 0.0,
) -> Kernel:
    """``metric`` as a function of row weights (:mod:`detectors.performance._weights`)."""
    k = classes.size
    cells = encode(y_true, classes) * k + encode(y_pred, classes)

    def evaluate(weights: NDArray[np.float64] | None) -> NDArray[np.float64]:
        counts = grouped_sums(cells, k * k, None, weights).reshape(-1, k, k)
        return from_confusion(counts, metric, average=average, zero_division=zero_division)

    return evaluate
