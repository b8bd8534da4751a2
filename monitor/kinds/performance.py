"""``performance``: is the model doing worse than on its reference, by labels or by estimate?

With labels (the window is read with its ground truth, NaN where none has arrived yet): when
at least ``min_labels`` answered rows are labelled, the window's ``metric`` is compared with
the reference's labelled rows (:mod:`detectors.performance.comparison`): ``alarm`` when
significantly worse (one-sided p ≤ ``alpha``) by at least ``min_effect``, ``warning`` at the
lighter level (p ≤ max(0.2, ``alpha``) and half the effect).

Without enough labels, a classifier with probabilities gets the CBPE estimate
(:mod:`detectors.performance.cbpe`, fitted on the reference's labels and probabilities),
judged by the same rule and reported with ``"estimated": true``. CBPE estimates accuracy,
precision / recall / F1 (macro, weighted; binary for two classes) only.

With ``streaming``, a streaming detector (:mod:`detectors.streaming`) also reads the window's
labelled rows in time order, continuing from the state the previous run returned (see
:mod:`monitor.kinds._streaming`); a drift it detects inside the window makes the status at
least ``warning`` and is listed in ``details.streaming``. Without a reference only the
streaming detector runs (``streaming`` is then required): ``ok`` or ``warning``.

``insufficient_data`` when there are too few labels and no estimate, or the reference has
fewer than ``min_labels`` labelled rows; the summary's ``reason`` says which. The summary
always holds ``label_coverage``: the share of the window's rows that have a label. Score:
the degradation (reference − current for metrics where higher is better, current −
reference otherwise: positive is worse).

Params
------
metric
    A name of :data:`detectors.performance.metrics.METRICS` that fits the model:
    ``accuracy`` (default for classifiers), ``precision``, ``recall``, ``f1`` (binary only),
    ``precision_macro``, ``recall_macro``, ``f1_macro``, ``precision_weighted``,
    ``recall_weighted``, ``f1_weighted``, ``roc_auc``, ``pr_auc``, ``log_loss``,
    ``calibration_error``; ``rmse`` (default for regression), ``mae``, ``mape``, ``r2``.
alpha
    One-sided level of the alarm, in (0, 1). Default 0.05.
min_effect
    Smallest worsening, in the metric's units, that may alarm (>= 0). Default: 0.02 for
    bounded metrics, 5 % of the reference value for mae, rmse, mape and log_loss.
min_labels
    Fewest labelled rows, in the window and in the reference, for a comparison (integer >=
    2). Default 100.
estimate
    Use the CBPE estimate when labels are too few (classifiers with probabilities). Default
    true.
streaming
    ``ddm``, ``eddm`` (classifiers only), ``adwin``, ``page_hinkley`` or ``kswin``: a
    streaming detector over the per-row errors. Default: none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.outcome import DetectorResult
from detectors.performance import cbpe, comparison
from detectors.performance.metrics import METRICS
from monitor.kinds._columns import CLASSIFICATION, finite_rows, probabilities, span
from monitor.kinds._outcome import (
    KindOutcome,
    KindStatus,
    detector_row,
    finite_or_none,
    jsonable,
    worst,
)
from monitor.kinds._params import ParamReader
from monitor.kinds._performance_reference import (
    PerformanceReference,
    binary_average,
    fit_reference,
    scored_output,
)
from monitor.kinds._streaming import BINARY_ONLY, DETECTORS, StreamingRun, feed
from monitor.project.monitors import ParamValue
from storage import Window

__all__ = [
    "PARAMS",
    "PerformanceParams",
    "PerformanceReference",
    "metrics_for",
    "prepare",
    "read_params",
    "run",
]

PARAMS = ("metric", "alpha", "min_effect", "min_labels", "estimate", "streaming")
_WARNING_ALPHA = 0.2


@dataclass(frozen=True, slots=True)
class PerformanceParams:
    """The params of a performance monitor, checked, with defaults applied."""

    metric: str
    alpha: float = 0.05
    min_effect: float | None = None
    min_labels: int = 100
    estimate: bool = True
    streaming: str | None = None

    @property
    def warning_alpha(self) -> float:
        return max(_WARNING_ALPHA, self.alpha)


def metrics_for(task: str) -> tuple[str, ...]:
    """The metric names that fit a model of ``task``."""
    if task not in CLASSIFICATION:
        return tuple(name for name, spec in METRICS.items() if spec.prediction == "values")
    binary = task == "binary_classification"
    return tuple(
        name
        for name, spec in METRICS.items()
        if spec.prediction != "values" and (binary or not binary_average(spec))
    )


def read_params(
    params: Mapping[str, ParamValue],
    *,
    task: str,
    has_reference: bool,
    monitor: str | None = None,
) -> PerformanceParams:
    """Check ``params`` (module notes) against the model's task and apply the defaults."""
    reader = ParamReader("performance", params, PARAMS, monitor=monitor)
    classify = task in CLASSIFICATION
    detectors = tuple(n for n in DETECTORS if classify or n not in BINARY_ONLY)
    streaming = reader.optional_choice("streaming", detectors)
    if streaming is None and not has_reference:
        raise reader.error(
            "streaming",
            f"set when the monitor has no reference (one of {', '.join(detectors)})",
            got=None,
        )
    return PerformanceParams(
        metric=reader.choice("metric", metrics_for(task), "accuracy" if classify else "rmse"),
        alpha=reader.number("alpha", 0.05, low=0.0, high=1.0, low_open=True, high_open=True),
        min_effect=reader.optional_number("min_effect", low=0.0),
        min_labels=reader.integer("min_labels", 100, low=2),
        estimate=reader.boolean("estimate", True),
        streaming=streaming,
    )


def prepare(
    params: PerformanceParams, reference: Window | None, *, task: str, has_reference: bool
) -> PerformanceReference:
    """The reference's metric (and CBPE fit for classifiers), or why there is none.

    ``has_reference``: whether the monitor declares a reference (without one, only the
    streaming detector runs).
    """
    return fit_reference(
        reference,
        metric=params.metric,
        min_labels=params.min_labels,
        estimate=params.estimate,
        task=task,
        has_reference=has_reference,
    )


def run(
    params: PerformanceParams,
    prepared: PerformanceReference,
    current: Window,
    *,
    task: str,
    state: Mapping[str, Any] | None,
) -> KindOutcome:
    """Compare (or estimate) the window's performance; feed the streaming detector."""
    spec = METRICS[params.metric]
    labels = current.labels if current.labels is not None else np.full(len(current), np.nan)
    labelled = np.isfinite(labels)
    prediction = scored_output(current, spec)
    usable = current.status == 0
    usable &= finite_rows(prediction) if prediction is not None else False
    main, estimated, reason = None, False, None
    if not prepared.streaming_only:
        main, estimated, reason = _main(params, prepared, current, labels, usable, prediction)
    streamed = _stream(params, current, labels, labelled & (current.status == 0), state, task=task)
    results = [r for r in (main, streamed.result if streamed else None) if r is not None]
    status, reason = _status(main, streamed, reason, streaming_only=prepared.streaming_only)
    summary: dict[str, Any] = {
        "detectors": [detector_row(r) for r in results],
        "metric": spec.name,
        "estimated": estimated,
        "label_coverage": float(labelled.mean()) if labelled.size else 0.0,
        "labelled": int((labelled & usable).sum()),
        "min_labels": params.min_labels,
    }
    if prepared.streaming_only:
        summary["note"] = prepared.reason
    if main is not None:
        summary.update(_values(main, estimated))
    if reason is not None:
        summary["reason"] = reason
    details = {
        "result": main.to_dict() if main is not None else None,
        "streaming": streamed.details if streamed is not None else None,
    }
    return KindOutcome(
        status=status,
        score=finite_or_none(main.score) if main is not None else None,
        summary=jsonable(summary),
        details=jsonable(details),
        state=streamed.state if streamed is not None else None,
    )


def _status(
    main: DetectorResult | None,
    streamed: StreamingRun | None,
    reason: str | None,
    *,
    streaming_only: bool,
) -> tuple[KindStatus, str | None]:
    """The comparison's (or estimate's) status, at least a warning on a streaming drift."""
    status = worst([main.status.value] if main is not None else [])
    if streaming_only:
        fed = streamed is not None and streamed.details["fed"] > 0
        status = "ok" if fed else "insufficient_data"
        reason = None if fed else "no new labelled rows for the streaming detector"
    elif reason is None and status == "insufficient_data" and main is not None:
        reason = f"{main.detector} had too few rows"
    if streamed is not None and streamed.drift and status in ("ok", "insufficient_data"):
        status = "warning"
    return status, reason


def _main(
    params: PerformanceParams,
    prepared: PerformanceReference,
    current: Window,
    labels: NDArray[np.float64],
    usable: NDArray[np.bool_],
    prediction: NDArray[np.float64] | None,
) -> tuple[DetectorResult | None, bool, str | None]:
    """The labelled comparison, else the estimate, else the reason for neither."""
    count = int((np.isfinite(labels) & usable).sum())
    if prepared.comparison is not None and prediction is not None and count >= params.min_labels:
        result = comparison.compare(
            prepared.comparison,
            labels[usable],
            prediction[usable],
            alpha=params.alpha,
            warning_alpha=params.warning_alpha,
            min_effect=params.min_effect,
            min_labels=params.min_labels,
            window=span(current),
        )
        return result, False, None
    why = prepared.reason or (
        f"current window has {count} labelled rows with predictions, "
        f"needs at least {params.min_labels}"
        if prediction is not None
        else "the current window has no probabilities"
    )
    proba = probabilities(current)
    if prepared.cbpe is None or proba is None:
        no_estimate = prepared.estimate_reason or "the current window has no probabilities"
        return None, False, f"{why}; no estimate: {no_estimate}"
    rows = (current.status == 0) & finite_rows(proba)
    result = cbpe.check(
        prepared.cbpe,
        proba[rows],
        metric=params.metric,
        alpha=params.alpha,
        warning_alpha=params.warning_alpha,
        min_effect=0.02 if params.min_effect is None else params.min_effect,
        window=span(current),
    )
    return result, True, None


def _stream(
    params: PerformanceParams,
    current: Window,
    labels: NDArray[np.float64],
    rows: NDArray[np.bool_],
    state: Mapping[str, Any] | None,
    *,
    task: str,
) -> StreamingRun | None:
    """Feed the labelled answered rows' errors to the streaming detector, if there is one."""
    if params.streaming is None:
        return None
    rows = rows & np.isfinite(current.predictions)
    predicted, truth = current.predictions[rows], labels[rows]
    if task in CLASSIFICATION:
        errors = (predicted != truth).astype(np.float64)
    else:
        errors = np.abs(predicted - truth)
    return feed(params.streaming, errors, current.timestamps_us[rows], state, window=span(current))


def _values(result: DetectorResult, estimated: bool) -> dict[str, Any]:
    """The reference and current (or estimated) values, from the result's details."""
    details = result.details
    current = details.get("estimate") if estimated else details.get("current")
    return {"reference_value": details.get("reference"), "current_value": current}
