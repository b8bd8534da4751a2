"""The reference side of a performance monitor: its metric and its CBPE fit, or why not.

Only the reference's labelled rows with finite outputs count. Too few of them, or a metric
the reference cannot give (an AUC with one class), is no error: the reason is kept and every
run reports it with ``insufficient_data``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.performance import cbpe, comparison
from detectors.performance.metrics import METRICS, MetricSpec
from monitor.kinds._columns import CLASSIFICATION, class_codes, finite_rows, probabilities
from storage import Window

__all__ = ["PerformanceReference", "binary_average", "fit_reference", "scored_output"]

_SEED = 0


@dataclass(frozen=True, slots=True, eq=False)
class PerformanceReference:
    """The reference's metric and CBPE fit, each with the reason when it is missing."""

    comparison: comparison.ReferencePerformance | None
    cbpe: cbpe.CBPEReference | None
    reason: str | None = None
    estimate_reason: str | None = None
    #: The monitor has no reference: only the streaming detector runs.
    streaming_only: bool = False


def fit_reference(
    reference: Window | None,
    *,
    metric: str,
    min_labels: int,
    estimate: bool,
    task: str,
    has_reference: bool,
) -> PerformanceReference:
    """Prepare ``metric`` on the reference and, for classifiers, the CBPE fit.

    ``has_reference``: whether the monitor declares a reference at all.
    """
    if not has_reference:
        alone = "the monitor has no reference: only the streaming detector runs"
        return PerformanceReference(None, None, alone, alone, streaming_only=True)
    if reference is None:
        return PerformanceReference(None, None, "no reference window was given", "no reference")
    spec = METRICS[metric]
    found, reason = _metric(spec, reference, min_labels)
    if task not in CLASSIFICATION:
        return PerformanceReference(found, None, reason, "regression has no label-free estimate")
    if not estimate:
        return PerformanceReference(found, None, reason, "params.estimate is false")
    fitted, estimate_reason = _cbpe(spec, reference, min_labels, task)
    return PerformanceReference(found, fitted, reason, estimate_reason)


def scored_output(window: Window, spec: MetricSpec) -> NDArray[np.float64] | None:
    """What ``spec`` scores: predictions (classes, values) or probabilities (None: none)."""
    if spec.prediction in ("labels", "values"):
        return window.predictions
    return probabilities(window)


def binary_average(spec: MetricSpec) -> bool:
    """Whether ``spec`` is a two-class metric (precision, recall, F1 of the second class)."""
    return spec.label_metric is not None and spec.label_metric[1] == "binary"


def _metric(
    spec: MetricSpec, reference: Window, min_labels: int
) -> tuple[comparison.ReferencePerformance | None, str | None]:
    prediction = scored_output(reference, spec)
    if reference.labels is None or prediction is None:
        what = "labels" if reference.labels is None else "probabilities"
        return None, f"the reference has no {what}"
    rows = np.isfinite(reference.labels) & finite_rows(prediction)
    count = int(rows.sum())
    if count < min_labels:
        return None, (
            f"reference has {count} labelled rows with predictions, needs at least {min_labels}"
        )
    try:
        found = comparison.prepare(
            spec.name,
            reference.labels[rows],
            prediction[rows],
            classes=_classes(spec, reference),
            seed=_SEED,
            min_labels=min_labels,
        )
    except InvalidInputError as error:
        return None, f"the reference's {spec.name} cannot be computed: {error}"
    return found, None


def _cbpe(
    spec: MetricSpec, reference: Window, min_labels: int, task: str
) -> tuple[cbpe.CBPEReference | None, str | None]:
    estimable = (*cbpe.ESTIMATED, *(cbpe.BINARY if task == "binary_classification" else ()))
    if spec.name not in estimable:
        return None, f"CBPE does not estimate {spec.name} (only {', '.join(estimable)})"
    proba = probabilities(reference)
    if reference.labels is None or proba is None:
        what = "labels" if reference.labels is None else "probabilities"
        return None, f"the reference has no {what}"
    rows = np.isfinite(reference.labels) & finite_rows(proba)
    count = int(rows.sum())
    if count < min_labels:
        return None, (
            f"reference has {count} labelled rows with probabilities, needs at least {min_labels}"
        )
    try:
        fitted = cbpe.fit(
            reference.labels[rows], proba[rows], classes=class_codes(reference), seed=_SEED
        )
    except InvalidInputError as error:
        return None, f"CBPE could not be fitted on the reference: {error}"
    return fitted, None


def _classes(spec: MetricSpec, reference: Window) -> NDArray[np.float64] | None:
    """Fixed class codes where the metric needs them: score columns and binary averages."""
    if spec.prediction == "values":
        return None
    if spec.prediction in ("scores", "probabilities") or binary_average(spec):
        codes = class_codes(reference)
        return codes if codes.size else None
    return None
