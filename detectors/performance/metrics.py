"""Every performance metric by name: its input, its direction, its interval and its kernel.

An explicit table (:data:`METRICS`), as :mod:`detectors.registry` is for drift tests. The
metric functions themselves live in :mod:`~detectors.performance.classification` (labels),
:mod:`~detectors.performance.scores` (scores and probabilities) and
:mod:`~detectors.performance.regression`; this module re-exports them and adds
:func:`compute` (any metric by name) and :func:`prepare` (a window reduced once to what a
metric and its confidence interval need).

==================  ==============  ======  ================================================
name                prediction      better  interval when compared (``method="auto"``)
==================  ==============  ======  ================================================
accuracy            labels          higher  analytic: Wilson / two-proportion z
precision, recall,  labels          higher  bootstrap (cell counts of the confusion matrix)
f1 (binary, 2nd
class positive),
``*_macro``,
``*_weighted``
roc_auc             scores          higher  analytic: DeLong (influence values), normal
pr_auc              scores          higher  bootstrap (rows)
log_loss            probabilities   lower   analytic: Welch t on per-row losses
calibration_error   probabilities   lower   bootstrap (rows)
mae, mape           values          lower   analytic: Welch t on per-row errors
rmse                values          lower   analytic: delta method on the per-row squares
r2                  values          higher  analytic: influence values (delta), normal
==================  ==============  ======  ================================================

Label metrics use ``zero_division=0.0`` and, unless ``classes`` is given, the classes present
in the window's labels and predictions (scikit-learn's default): a class absent from a window
does not count in its macro average.

Examples
--------
>>> round(compute("f1_macro", [0, 1, 1, 2], [0, 1, 2, 2]), 6)
0.777778
>>> METRICS["rmse"].higher_is_better, METRICS["rmse"].interval
(False, 'root_mean')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.performance import classification, regression, scores
from detectors.performance._intervals import Moments
from detectors.performance._labels import (
    as_classes,
    as_probabilities,
    as_scores,
    as_vector,
    encode,
    same_length,
)
from detectors.performance._weights import Kernel, mean_kernel
from detectors.performance.classification import (
    Average,
    LabelMetric,
    accuracy,
    confusion_matrix,
    f1,
    from_confusion,
    precision,
    recall,
)
from detectors.performance.regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2,
    root_mean_squared_error,
)
from detectors.performance.scores import average_precision, calibration_error, log_loss, roc_auc

__all__ = [
    "METRICS",
    "Interval",
    "MetricSpec",
    "Prepared",
    "accuracy",
    "average_precision",
    "calibration_error",
    "compute",
    "confusion_matrix",
    "f1",
    "log_loss",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "precision",
    "prepare",
    "r2",
    "recall",
    "roc_auc",
    "root_mean_squared_error",
    "spec_of",
]

Prediction = Literal["labels", "scores", "probabilities", "values"]
#: An analytic interval (:mod:`detectors.performance._intervals`), or ``bootstrap``.
Interval = Literal["proportion", "mean", "root_mean", "influence", "bootstrap"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric: what it takes, which way is better, and how it is compared."""

    name: str
    prediction: Prediction
    higher_is_better: bool
    interval: Interval
    #: Default smallest worsening that may alarm: absolute, or a share of the reference value.
    min_effect: float
    relative_effect: bool
    #: For label metrics: the metric and average evaluated on the confusion matrix.
    label_metric: tuple[LabelMetric, Average] | None
    summary: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """One window's labelled rows, reduced to what a metric and its interval need."""

    spec: MetricSpec
    n: int
    #: The metric on the window.
    value: float
    kernel: Kernel
    #: Class codes (classification), else None.
    classes: NDArray[np.float64] | None
    #: Value, standard error and rows for the analytic interval (when asked for), else None.
    moments: Moments | None
    #: The ``(k, k)`` confusion matrix of label metrics, else None.
    confusion: NDArray[np.int64] | None


def _label(name: str, metric: LabelMetric, average: Average, what: str) -> MetricSpec:
    interval: Interval = "proportion" if metric == "accuracy" else "bootstrap"
    return MetricSpec(name, "labels", True, interval, 0.02, False, (metric, average), what)


def _other(
    name: str, prediction: Prediction, higher: bool, interval: Interval, what: str
) -> MetricSpec:
    """Bounded metrics get an absolute 0.02 effect; error metrics 5 % of the reference."""
    relative = name in ("log_loss", "mae", "rmse", "mape")
    effect = 0.05 if relative else 0.02
    return MetricSpec(name, prediction, higher, interval, effect, relative, None, what)


METRICS: Mapping[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _label("accuracy", "accuracy", "macro", "share of correct labels"),
        _label("precision", "precision", "binary", "precision of the second class of two"),
        _label("recall", "recall", "binary", "recall of the second class of two"),
        _label("f1", "f1", "binary", "F1 of the second class of two"),
        *(
            _label(f"{m}_{a}", m, a, f"{m}, {a} average over classes")
            for m in ("precision", "recall", "f1")
            for a in ("macro", "weighted")
        ),
        _other("roc_auc", "scores", True, "influence", "area under the ROC curve (OvR macro)"),
        _other("pr_auc", "scores", True, "bootstrap", "average precision (OvR macro)"),
        _other("log_loss", "probabilities", False, "mean", "mean negative log-likelihood"),
        _other("calibration_error", "probabilities", False, "bootstrap", "ECE, 10 bins"),
        _other("mae", "values", False, "mean", "mean absolute error"),
        _other("rmse", "values", False, "root_mean", "root mean squared error"),
        _other("mape", "values", False, "mean", "mean absolute percentage error (a fraction)"),
        _other("r2", "values", True, "influence", "coefficient of determination"),
    )
}


def spec_of(metric: str) -> MetricSpec:
    """The spec of ``metric``, or :class:`InvalidInputError` listing the known names."""
    try:
        return METRICS[metric]
    except (KeyError, TypeError):
        known = ", ".join(sorted(METRICS))
        msg = f"metric: unknown metric {metric!r}; known metrics: {known}"
        raise InvalidInputError(msg) from None


def compute(
    metric: str, y_true: ArrayLike, prediction: ArrayLike, *, classes: ArrayLike | None = None
) -> float:
    """``metric`` of labelled rows: ``prediction`` is labels, scores, probabilities or values."""
    return prepare(metric, y_true, prediction, classes=classes, interval=False).value


def prepare(
    metric: str,
    y_true: ArrayLike,
    prediction: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    interval: bool = True,
) -> Prepared:
    """Reduce labelled rows once to ``metric``'s value, kernel, moments and confusion matrix.

    ``interval=False`` skips the moments of the analytic interval (the metric alone).

    Raises
    ------
    InvalidInputError
        For an unknown metric, non-finite or mismatched inputs, labels outside ``classes``
        or probabilities that are not probabilities.
    """
    spec = spec_of(metric)
    truth = as_vector(y_true, "y_true")
    if spec.prediction == "values":
        return _regression(spec, truth, as_vector(prediction, "prediction"), interval)
    if spec.prediction == "labels":
        return _labels(spec, truth, as_vector(prediction, "prediction"), classes)
    known = as_classes(classes, truth)
    n, k = truth.size, known.size
    if spec.prediction == "probabilities":
        matrix = as_probabilities(prediction, "prediction", n, k)
        if spec.name == "log_loss":
            terms = scores.log_losses(truth, matrix, known)
            moments = Moments.of(terms)
            return Prepared(spec, n, moments.mean, mean_kernel(terms), known, moments, None)
        kernel = scores.calibration_kernel(truth, matrix, known)
        return Prepared(spec, n, float(kernel(None)[0]), kernel, known, None, None)
    matrix = as_scores(prediction, "prediction", n, k)
    if spec.name == "pr_auc":
        kernel = scores.average_precision_kernel(truth, matrix, known)
        return Prepared(spec, n, float(kernel(None)[0]), kernel, known, None, None)
    kernel = scores.roc_auc_kernel(truth, matrix, known)
    if not interval:
        return Prepared(spec, n, float(kernel(None)[0]), kernel, known, None, None)
    value, error = scores.roc_auc_with_error(truth, matrix, known)
    return Prepared(spec, n, value, kernel, known, Moments(value, error, n), None)


def _labels(
    spec: MetricSpec,
    truth: NDArray[np.float64],
    predicted: NDArray[np.float64],
    classes: ArrayLike | None,
) -> Prepared:
    same_length(("y_true", truth), ("prediction", predicted))
    known = as_classes(classes, truth, predicted)
    assert spec.label_metric is not None  # every "labels" spec has one
    metric, average = spec.label_metric
    if average == "binary" and known.size != 2:
        msg = f"{spec.name} is for two classes; got {known.size}: use {spec.name}_macro"
        raise InvalidInputError(msg)
    k = known.size
    cells = encode(truth, known) * k + encode(predicted, known)
    confusion = np.bincount(cells, minlength=k * k).reshape(k, k).astype(np.int64, copy=False)
    kernel = classification.kernel(truth, predicted, known, metric, average=average)
    value = float(from_confusion(confusion, metric, average=average))
    moments = None
    if metric == "accuracy":  # the moments of the 0/1 hits: se = √(p(1 − p)/(n − 1))
        spread = math.sqrt(value * (1.0 - value) / (truth.size - 1)) if truth.size > 1 else 0.0
        moments = Moments(value, spread, truth.size)
    return Prepared(spec, truth.size, value, kernel, known, moments, confusion)


def _regression(
    spec: MetricSpec, truth: NDArray[np.float64], predicted: NDArray[np.float64], interval: bool
) -> Prepared:
    same_length(("y_true", truth), ("prediction", predicted))
    n = truth.size
    if spec.name == "r2":
        kernel = regression.r2_kernel(truth, predicted)
        value = float(kernel(None)[0])
        error = regression.r2_standard_error(truth, predicted) if interval else math.nan
        moments = Moments(value, error, n) if interval else None
        return Prepared(spec, n, value, kernel, None, moments, None)
    if spec.name == "mae":
        terms = regression.absolute_errors(truth, predicted)
    elif spec.name == "mape":
        terms = regression.percentage_errors(truth, predicted)
    else:
        terms = regression.squared_errors(truth, predicted)
    root = spec.name == "rmse"
    moments = Moments.of(terms).root() if root else Moments.of(terms)
    return Prepared(spec, n, moments.mean, mean_kernel(terms, root=root), None, moments, None)
