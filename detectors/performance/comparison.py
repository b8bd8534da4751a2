"""Performance with ground truth: is this window's metric significantly worse than the reference's?

Labels arrive late, joined by request id, so a window has predictions for every row and labels
for some: ``y_true`` holds NaN where no label has arrived. Only labelled rows are scored; the
label coverage (labelled / predicted rows) is reported with every result, and a window with
fewer than ``min_labels`` labelled rows is ``insufficient_data`` — a state of its own, not an
alarm.

The verdict (:mod:`detectors.performance._decision`): **alarm** when the current value is
worse with a one-sided p-value ≤ ``alpha`` *and* worse by at least ``min_effect`` (in the
metric's units; by default 0.02 for bounded metrics and 5 % of the reference value for MAE,
RMSE, MAPE and log loss); **warning** at ``warning_alpha`` and ``warning_effect`` (default half
of ``min_effect``). The result's ``score`` is the degradation (reference − current for
higher-is-better metrics, current − reference otherwise, so positive means worse) and its
``threshold`` the ``min_effect`` it was held against.

Intervals (``method="auto"``): analytic where the metric has one
(:mod:`detectors.performance._intervals`: Wilson / Newcombe with a pooled z-test for accuracy,
Welch for MAE, MAPE and log loss, the delta method for RMSE, influence values for ROC AUC
(DeLong) and R²); otherwise a seeded bootstrap
(:mod:`detectors.performance._bootstrap`) of both windows, the reference's replicates drawn
once in :func:`prepare`. Bootstrap p-value: (1 + #{replicates not worse}) / (1 + B), from the
paired replicate differences; intervals are their percentiles.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> y_ref = rng.integers(0, 2, 2000)
>>> reference = prepare("accuracy", y_ref, np.where(rng.random(2000) < 0.9, y_ref, 1 - y_ref))
>>> y_cur = rng.integers(0, 2, 1000).astype(float)
>>> predicted = np.where(rng.random(1000) < 0.8, y_cur, 1 - y_cur)
>>> y_cur[600:] = np.nan  # labels not arrived yet
>>> result = compare(reference, y_cur, predicted)
>>> result.status.value, result.details["coverage"]
('alarm', 0.6)
>>> compare(reference, y_cur[550:], predicted[550:]).status.value  # 50 labels
'insufficient_data'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.outcome import DetectorResult, JSONValue, Span, Status
from detectors.performance._bootstrap import check_resamples, difference, replicates
from detectors.performance._decision import Levels, status
from detectors.performance._intervals import (
    Difference,
    Moments,
    mean_difference,
    proportion_difference,
)
from detectors.performance.metrics import MetricSpec, Prepared, spec_of
from detectors.performance.metrics import prepare as prepare_metric

__all__ = ["Method", "ReferencePerformance", "compare", "prepare"]

Method = Literal["auto", "analytic", "bootstrap"]
#: Default smallest number of labelled rows for a verdict.
MIN_LABELS = 100


@dataclass(frozen=True, slots=True)
class ReferencePerformance:
    """The reference window's metric, prepared once for every comparison.

    Attributes
    ----------
    metric, value, n
        The metric's name, its value and the labelled rows it was computed on.
    method
        ``"analytic"`` or ``"bootstrap"``: how windows are compared with it.
    classes
        Class codes of the reference (classification), else None.
    fixed_classes
        Whether windows are scored with ``classes`` (score columns, binary label metrics,
        or classes given explicitly); otherwise each window with its own labels' classes.
    moments
        Value, standard error and rows for the analytic interval, else None.
    replicates
        The ``n_resamples`` bootstrap values of the reference (bootstrap), else None.
    seed
        Seed of the bootstrap streams (reference: ``[seed, 0]``; windows: ``[seed, 1]``).
    """

    metric: str
    value: float
    n: int
    method: Literal["analytic", "bootstrap"]
    classes: NDArray[np.float64] | None
    fixed_classes: bool
    moments: Moments | None
    replicates: NDArray[np.float64] | None
    seed: int


def prepare(
    metric: str,
    y_true: ArrayLike,
    prediction: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    method: Method = "auto",
    n_resamples: int = 1000,
    seed: int = 0,
    min_labels: int = MIN_LABELS,
) -> ReferencePerformance:
    """Compute the reference's metric and what comparisons need (moments or replicates).

    Parameters
    ----------
    metric
        A name of :data:`detectors.performance.metrics.METRICS`.
    y_true, prediction
        Reference labels (NaN: unlabelled, dropped) and predictions (labels, scores,
        probabilities or values, as the metric takes).
    classes
        Class codes in score-column order (default: the labels seen).
    method
        ``"auto"`` (analytic where available), ``"analytic"`` or ``"bootstrap"``.
    n_resamples, seed
        Bootstrap replicates per window (at least 20) and the seed of their streams. Only
        metrics without an analytic interval pay for them: O(B·n) per window for PR AUC
        and calibration error (tens of ns per resampled row: about 4 s for B = 1000 on
        100,000 labelled rows), O(B·k²) for the label metrics, whatever n.
    min_labels
        Fewest labelled reference rows accepted.

    Raises
    ------
    InvalidInputError
        On bad inputs or options, too few labelled rows, an analytic method the metric lacks,
        or a metric undefined on the reference (e.g. an AUC with one class).
    """
    spec = spec_of(metric)
    if method not in get_args(Method):
        msg = f"method must be one of {', '.join(map(repr, get_args(Method)))}, got {method!r}"
        raise InvalidInputError(msg)
    if method == "analytic" and spec.interval == "bootstrap":
        msg = f"{metric} has no analytic interval; use method='bootstrap' or 'auto'"
        raise InvalidInputError(msg)
    n_resamples = check_resamples(n_resamples)
    labelled, truth, predicted = _labelled(y_true, prediction)
    if labelled < min_labels:
        msg = f"y_true: the reference has {labelled} labelled rows, fewer than {min_labels}"
        raise InvalidInputError(msg)
    analytic = method != "bootstrap" and spec.interval != "bootstrap"
    window = prepare_metric(metric, truth, predicted, classes=classes, interval=analytic)
    if math.isnan(window.value):
        raise InvalidInputError(f"{metric} is undefined on the reference (one class only?)")
    values = None
    if not analytic:
        values = replicates(window, n_resamples, np.random.default_rng([seed, 0]))
    return ReferencePerformance(
        metric=metric,
        value=window.value,
        n=window.n,
        method="analytic" if analytic else "bootstrap",
        classes=window.classes,
        fixed_classes=classes is not None or not _own_classes(spec),
        moments=window.moments if analytic else None,
        replicates=values,
        seed=seed,
    )


def compare(
    reference: ReferencePerformance,
    y_true: ArrayLike,
    prediction: ArrayLike,
    *,
    alpha: float = 0.05,
    warning_alpha: float = 0.2,
    min_effect: float | None = None,
    warning_effect: float | None = None,
    min_labels: int = MIN_LABELS,
    window: Span | None = None,
) -> DetectorResult:
    """Compare one window's labelled rows with the reference (see the module notes).

    Parameters
    ----------
    y_true
        The window's labels, NaN where none has arrived.
    prediction
        The window's predictions, one per row of ``y_true`` (all rows, labelled or not).
    alpha, warning_alpha
        One-sided levels of the alarm and the warning.
    min_effect, warning_effect
        Smallest worsening, in metric units, that may alarm / warn (None: the defaults).
    min_labels
        Fewer labelled rows give ``insufficient_data``.
    window
        The window's bounds (default: ``Span(n=rows)``).

    Returns
    -------
    DetectorResult
        ``detector="performance.<metric>"``; details: ``reference``, ``current``,
        ``difference`` (current − reference) and its ``difference_ci``, ``current_ci``
        (both two-sided at 1 − 2·alpha), ``p_value``, ``method``, ``labelled``,
        ``predicted``, ``coverage``, ``n_reference`` and the levels.
    """
    spec = spec_of(reference.metric)
    labelled, truth, predicted = _labelled(y_true, prediction)
    rows = int(np.shape(prediction)[0])
    levels = Levels(alpha, warning_alpha, min_effect, warning_effect).resolved(
        spec.min_effect * abs(reference.value) if spec.relative_effect else spec.min_effect
    )
    details: dict[str, JSONValue] = {
        "metric": spec.name,
        "reference": reference.value,
        "higher_is_better": spec.higher_is_better,
        "labelled": labelled,
        "predicted": rows,
        "coverage": labelled / rows if rows else 0.0,
        "n_reference": reference.n,
        "min_labels": min_labels,
        "alpha": levels.alpha,
        "warning_alpha": levels.warning_alpha,
        "warning_effect": levels.warning_effect,
        "method": _method_name(spec, reference.method),
    }
    assert levels.min_effect is not None  # resolved above
    name, span = f"performance.{spec.name}", window or Span(n=rows)
    insufficient = DetectorResult(
        name, Status.INSUFFICIENT_DATA, math.nan, levels.min_effect, span, details
    )
    if labelled < min_labels:
        return insufficient
    analytic = reference.method == "analytic"
    classes = _classes(spec, reference)
    current = prepare_metric(spec.name, truth, predicted, classes=classes, interval=analytic)
    details["current"] = _finite(current.value)
    found = _difference(reference, current, spec, levels.alpha)
    if found is None:
        return insufficient
    worse = -found.difference if spec.higher_is_better else found.difference
    details.update(
        difference=_finite(found.difference),
        difference_ci=[_finite(found.low), _finite(found.high)],
        current_ci=[_finite(found.current_low), _finite(found.current_high)],
        p_value=_finite(found.p_value),
    )
    verdict = status(worse, found.p_value, levels)
    return DetectorResult(name, verdict, worse, levels.min_effect, span, details)


def _difference(
    reference: ReferencePerformance, current: Prepared, spec: MetricSpec, alpha: float
) -> Difference | None:
    higher = spec.higher_is_better
    ref, cur = reference.moments, current.moments
    if ref is None or cur is None:
        assert reference.replicates is not None  # a bootstrap reference
        rng = np.random.default_rng([reference.seed, 1])
        return difference(reference.value, reference.replicates, current, rng, alpha, higher)
    if spec.interval == "proportion":
        return proportion_difference(
            ref.mean * ref.n, ref.n, cur.mean * cur.n, cur.n, alpha=alpha, higher_is_better=higher
        )
    normal = spec.interval != "mean"
    return mean_difference(ref, cur, alpha=alpha, higher_is_better=higher, normal=normal)


def _labelled(
    y_true: ArrayLike, prediction: ArrayLike
) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
    """Labelled rows only: their count, labels and predictions (rows of ``prediction``)."""
    try:
        truth = np.asarray(y_true, dtype=np.float64)
        predicted = np.asarray(prediction, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("y_true and prediction must be numeric arrays") from None
    if truth.ndim != 1:
        raise InvalidInputError(f"y_true: expected a 1-D array, got shape {truth.shape}")
    if predicted.ndim not in (1, 2) or predicted.shape[0] != truth.size:
        msg = f"prediction: expected {truth.size} rows (one per y_true), got {predicted.shape}"
        raise InvalidInputError(msg)
    mask = ~np.isnan(truth)
    labelled = int(mask.sum())
    if labelled == truth.size:
        return labelled, truth, predicted
    return labelled, truth[mask], predicted[mask]


def _classes(spec: MetricSpec, reference: ReferencePerformance) -> NDArray[np.float64] | None:
    return reference.classes if reference.fixed_classes else None


def _own_classes(spec: MetricSpec) -> bool:
    """Macro and weighted label metrics score each window over its own labels' classes: a
    class absent from a window is then not in its average (scikit-learn's default)."""
    return spec.prediction == "labels" and (spec.label_metric or ("", ""))[1] != "binary"


def _method_name(spec: MetricSpec, method: str) -> str:
    if method == "bootstrap":
        return "bootstrap"
    names = {"proportion": "newcombe+z", "mean": "welch", "root_mean": "delta"}
    return names.get(spec.interval, "influence")


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
