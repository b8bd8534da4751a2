"""Confidence-based performance estimation (CBPE): classifier performance before labels arrive.

1. :func:`fit` on the labelled reference: a calibration of the model's probabilities
   (:mod:`detectors.performance.calibration`: isotonic or Platt, used only if needed), and
   the reference's realised metrics.
2. :func:`estimate` on an unlabelled window: calibrated probabilities give the expected
   confusion matrix, hence expected accuracy, precision, recall and F1 (per class, macro,
   weighted; binary for two classes), each with the delta-method standard error of the
   realised metric around it (:mod:`detectors.performance._expected`).
3. :func:`check`: a :class:`~detectors.outcome.DetectorResult` of the estimate against the
   reference's realised metric, with the rule of :mod:`detectors.performance.comparison`
   (one-sided normal test on the combined standard error, and ``min_effect``).
4. :func:`reconcile`, once labels arrive: the realised metric against the estimate on the
   same labelled rows, two-sided. A gap means the calibration no longer holds.

CBPE assumes **covariate shift only**: P(y | x) — and so the calibration map fitted on the
reference — is unchanged. It cannot see concept drift; :func:`reconcile` and the labelled
comparison can. Predictions ``y_pred`` default to the class of highest raw probability; all
of the model's classes count in macro averages (``zero_division=0``).

Differences from NannyML's CBPE (statistics reference §8): its alert band is mean ± 3 std of
estimates over reference chunks, two-sided; here a one-sided test against the reference's
realised value. With the same isotonic calibration (``calibrate="always"``) the estimates are
equal to NannyML's; its "is calibration needed" check uses 10 folds, here ``folds=5``.

Examples
--------
>>> rng = np.random.default_rng(11)
>>> x = rng.normal(size=20_000)
>>> p = 1.0 / (1.0 + np.exp(-2.0 * x))
>>> y = (rng.random(x.size) < p).astype(float)
>>> reference = fit(y[:10_000], p[:10_000])
>>> shifted = p[10_000:][np.abs(x[10_000:]) < 0.5]  # harder rows: accuracy falls
>>> found = estimate(reference, shifted)
>>> round(found.values["accuracy"], 2), check(reference, shifted).status.value
(0.61, 'alarm')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from detectors.errors import InvalidInputError
from detectors.outcome import DetectorResult, JSONValue, Span, Status
from detectors.performance import _expected, calibration
from detectors.performance._decision import Levels, status
from detectors.performance._labels import as_classes, as_probabilities, as_vector, encode
from detectors.performance.calibration import Calibration, Calibrator, Mode
from detectors.performance.classification import from_confusion
from detectors.performance.metrics import METRICS

__all__ = ["CBPEReference", "Estimate", "check", "estimate", "fit", "reconcile"]

#: Metrics CBPE estimates (the binary ones only for two classes).
ESTIMATED = (
    "accuracy",
    *(f"{m}_{a}" for m in ("precision", "recall", "f1") for a in ("macro", "weighted")),
)
BINARY = ("precision", "recall", "f1")


@dataclass(frozen=True, slots=True)
class Estimate:
    """Expected metrics of one window and the standard errors of the realised ones."""

    classes: NDArray[np.float64]
    n: int
    #: Expected confusion matrix (rows: true class, columns: predicted class).
    confusion: NDArray[np.float64]
    values: Mapping[str, float]
    standard_errors: Mapping[str, float]

    def interval(self, metric: str, alpha: float = 0.05) -> tuple[float, float]:
        """Two-sided ``1 − alpha`` normal interval of the realised ``metric``."""
        half = float(stats.norm.ppf(1 - alpha / 2)) * self.standard_errors[metric]
        return self.values[metric] - half, self.values[metric] + half


@dataclass(frozen=True, slots=True)
class CBPEReference:
    """What CBPE learns from the labelled reference."""

    classes: NDArray[np.float64]
    calibration: Calibration
    #: Realised metrics on the reference labels, and their standard errors.
    realised: Estimate


def fit(
    y_true: ArrayLike,
    proba: ArrayLike,
    *,
    y_pred: ArrayLike | None = None,
    classes: ArrayLike | None = None,
    calibrator: Calibrator = "isotonic",
    calibrate: Mode = "auto",
    folds: int = 5,
    seed: int = 0,
) -> CBPEReference:
    """Fit the calibration on the labelled reference and record its realised metrics.

    Parameters
    ----------
    y_true, proba
        Reference labels and the model's probabilities (``(n, k)``, or 1-D for P(second
        class) of two), columns in ``classes`` order (default: the labels seen).
    y_pred
        The model's predicted labels (default: highest probability).
    calibrator, calibrate, folds, seed
        See :mod:`detectors.performance.calibration`.
    """
    truth = as_vector(y_true, "y_true", min_rows=2)
    known = as_classes(classes, truth)
    matrix = as_probabilities(proba, "proba", truth.size, known.size)
    labels = encode(truth, known).astype(np.float64)
    fitted = calibration.fit(
        labels, matrix, calibrator=calibrator, calibrate=calibrate, folds=folds, seed=seed
    )
    predicted = _predicted(y_pred, matrix, known)
    hits = _one_hot(encode(truth, known), known.size)
    return CBPEReference(known, fitted, _summarise(known, fitted.apply(matrix), predicted, hits))


def estimate(
    reference: CBPEReference,
    proba: ArrayLike,
    *,
    y_pred: ArrayLike | None = None,
    metrics: tuple[str, ...] | None = None,
) -> Estimate:
    """Expected ``metrics`` (default: all) of an unlabelled window from its raw probabilities."""
    matrix = as_probabilities(proba, "proba", _rows(proba), reference.classes.size)
    calibrated = reference.calibration.apply(matrix)
    predicted = _predicted(y_pred, matrix, reference.classes)
    return _summarise(reference.classes, calibrated, predicted, names=metrics)


def check(
    reference: CBPEReference,
    proba: ArrayLike,
    *,
    metric: str = "accuracy",
    y_pred: ArrayLike | None = None,
    alpha: float = 0.05,
    warning_alpha: float = 0.2,
    min_effect: float = 0.02,
    warning_effect: float | None = None,
    min_rows: int = 100,
    window: Span | None = None,
) -> DetectorResult:
    """Is the estimated ``metric`` of the window significantly below the reference's?

    ``score`` is the degradation (reference realised − estimate) and ``threshold`` the
    ``min_effect``; details carry both values, their intervals and the p-value.
    """
    _check_metric(metric, reference)
    levels = Levels(alpha, warning_alpha, min_effect, warning_effect).resolved(min_effect)
    rows = _rows(proba)
    baseline = reference.realised
    details: dict[str, JSONValue] = {
        "metric": metric,
        "reference": baseline.values[metric],
        "reference_ci": _pair(baseline.interval(metric, 2 * levels.alpha)),
        "rows": rows,
        "calibration": reference.calibration.method,
        "alpha": levels.alpha,
        "warning_alpha": levels.warning_alpha,
        "warning_effect": levels.warning_effect,
    }
    span = window or Span(n=rows)
    if rows < min_rows:
        insufficient = Status.INSUFFICIENT_DATA
        return DetectorResult(f"cbpe.{metric}", insufficient, math.nan, min_effect, span, details)
    found = estimate(reference, proba, y_pred=y_pred, metrics=(metric,))
    degradation = baseline.values[metric] - found.values[metric]
    spread = math.hypot(baseline.standard_errors[metric], found.standard_errors[metric])
    p_value = float(stats.norm.sf(degradation / spread)) if spread > 0 else float(degradation <= 0)
    details.update(
        estimate=found.values[metric],
        estimate_ci=_pair(found.interval(metric, 2 * levels.alpha)),
        p_value=p_value,
    )
    verdict = status(degradation, p_value, levels)
    return DetectorResult(f"cbpe.{metric}", verdict, degradation, min_effect, span, details)


def reconcile(
    reference: CBPEReference,
    proba: ArrayLike,
    y_true: ArrayLike,
    *,
    metric: str = "accuracy",
    y_pred: ArrayLike | None = None,
    alpha: float = 0.01,
    warning_alpha: float = 0.2,
    tolerance: float = 0.02,
    min_labels: int = 100,
    window: Span | None = None,
) -> DetectorResult:
    """Once labels arrive: is the realised ``metric`` off the estimate on the labelled rows?

    ``y_true`` is NaN where no label has arrived. Alarm when the gap is significant
    (two-sided, ``alpha``) and at least ``tolerance``; warning at ``warning_alpha`` and half
    the tolerance; ``score`` is |realised − estimate|, ``threshold`` the tolerance.
    """
    _check_metric(metric, reference)
    levels = Levels(alpha, warning_alpha, tolerance, None).resolved(tolerance)
    truth = np.asarray(y_true, dtype=np.float64)
    matrix = np.asarray(proba, dtype=np.float64)
    if truth.ndim != 1 or matrix.shape[:1] != truth.shape:
        raise InvalidInputError(f"y_true: expected one label per row of proba, got {truth.shape}")
    labelled = ~np.isnan(truth)
    count = int(labelled.sum())
    details: dict[str, JSONValue] = {"metric": metric, "labelled": count, "predicted": truth.size}
    span = window or Span(n=truth.size)
    name = f"cbpe.{metric}.reconciliation"
    if count < min_labels:
        return DetectorResult(name, Status.INSUFFICIENT_DATA, math.nan, tolerance, span, details)
    classes = reference.classes
    labels = truth[labelled]
    as_classes(classes, labels)  # every label must be one of the model's classes
    predicted = None if y_pred is None else np.asarray(y_pred, dtype=np.float64)[labelled]
    found = estimate(reference, matrix[labelled], y_pred=predicted, metrics=(metric,))
    raw = as_probabilities(matrix[labelled], "proba", count, classes.size)
    hits = _one_hot(encode(labels, classes), classes.size)
    calibrated = reference.calibration.apply(raw)
    predicted_index = _predicted(predicted, raw, classes)
    realised = _summarise(classes, calibrated, predicted_index, hits, names=(metric,))
    gap = realised.values[metric] - found.values[metric]
    se = found.standard_errors[metric]
    p_value = float(2 * stats.norm.sf(abs(gap) / se)) if se > 0 else float(gap == 0)
    details.update(
        realised=realised.values[metric],
        estimate=found.values[metric],
        gap=gap,
        estimate_ci=_pair(found.interval(metric, alpha)),
        p_value=p_value,
    )
    verdict = status(abs(gap), p_value, levels)
    return DetectorResult(name, verdict, abs(gap), tolerance, span, details)


def _summarise(
    classes: NDArray[np.float64],
    proba: NDArray[np.float64],
    predicted: NDArray[np.intp],
    truth: NDArray[np.float64] | None = None,
    names: tuple[str, ...] | None = None,
) -> Estimate:
    """Metrics of the expected confusion matrix (or of the realised one, with ``truth``
    one-hot), with delta-method standard errors under ``proba``; all or ``names``."""
    k = classes.size
    spread = _expected.Spread.of(proba, predicted)
    confusion = spread.first.T if truth is None else _expected.expected_confusion(truth, predicted)
    if names is None:
        names = (*ESTIMATED, *(BINARY if k == 2 else ()))
    values, errors = {}, {}
    for name in names:
        spec = METRICS[name].label_metric
        assert spec is not None  # every estimated metric is a label metric
        values[name] = float(from_confusion(confusion, spec[0], average=spec[1]))
        errors[name] = spread.standard_error(_expected.gradient(confusion, *spec))
    return Estimate(classes, predicted.size, confusion, values, errors)


def _predicted(
    y_pred: ArrayLike | None, proba: NDArray[np.float64], classes: NDArray[np.float64]
) -> NDArray[np.intp]:
    if y_pred is None:
        return np.asarray(np.argmax(proba, axis=1), dtype=np.intp)
    labels = as_vector(y_pred, "y_pred")
    if labels.size != proba.shape[0]:
        raise InvalidInputError(f"y_pred: expected {proba.shape[0]} labels, got {labels.size}")
    as_classes(classes, labels)  # every label must be one of the model's classes
    return encode(labels, classes)


def _one_hot(index: NDArray[np.intp], k: int) -> NDArray[np.float64]:
    out = np.zeros((index.size, k))
    out[np.arange(index.size), index] = 1.0
    return out


def _rows(proba: ArrayLike) -> int:
    shape = np.shape(proba)
    if not shape:
        raise InvalidInputError("proba: expected a 1-D or 2-D array of probabilities")
    return int(shape[0])


def _check_metric(metric: str, reference: CBPEReference) -> None:
    if metric not in reference.realised.values:
        known = ", ".join(reference.realised.values)
        raise InvalidInputError(f"metric: CBPE estimates {known}; got {metric!r}")


def _pair(bounds: tuple[float, float]) -> list[JSONValue]:
    return [float(bounds[0]), float(bounds[1])]
