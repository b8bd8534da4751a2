"""``prediction_drift``: the model's outputs in the window against the reference's.

With :mod:`detectors.prediction`: a classifier's predicted classes are compared as one
categorical column (``prediction.label``) and its probabilities as numeric columns
(``prediction.score.proba_<class>``; for two classes only the second class's, the first
being its complement); a regression model's values as one numeric column
(``prediction.score.value``). Only answered rows with finite outputs count (failed requests
have none). The outputs the reference has decide what is compared: a reference without
probabilities compares predicted classes only.

Status: the worst of the output columns' (``alarm`` when one drifted), ``insufficient_data``
when the reference has fewer than ``min_reference_rows`` rows with outputs, the window lacks
an output the reference has, or every column has too few rows (50). Score: the headline
column's score — the predicted classes' for a classifier, the values' for regression — which
is a corrected p-value for a test (lower is worse) and the distance for a distance (higher is
worse); ``summary.direction`` says which.

Params
------
test
    One test for every output column it can compare (a name of
    :data:`detectors.registry.REGISTRY`); the other columns keep the automatic choice (χ² or
    Jensen-Shannon for classes, KS or normed Wasserstein for scores). Default: automatic.
threshold
    The threshold of ``test`` (requires ``test``): a p-value level in (0, 1), or a distance
    > 0.
correction
    Correction across the output columns' p-values: ``bh`` (default), ``bonferroni``, ``by``
    or ``none``.
min_reference_rows
    Fewest reference rows with outputs for a verdict (integer >= 2). Default 30.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.decision import Correction
from detectors.outcome import DetectorResult
from detectors.prediction import MIN_ROWS, PredictionReference, output_drift
from detectors.prediction import prepare as prepare_outputs
from monitor.kinds._columns import CLASSIFICATION, finite_rows, probabilities, score_names, span
from monitor.kinds._outcome import (
    KindOutcome,
    detector_row,
    finite_or_none,
    insufficient,
    jsonable,
    worst,
)
from monitor.kinds._params import ParamReader
from monitor.kinds._selection import TestChoice, read_test
from monitor.project.monitors import MonitorSpec, ParamValue
from storage import Window

__all__ = [
    "PARAMS",
    "PredictionDriftParams",
    "PredictionDriftReference",
    "prepare",
    "read_params",
    "run",
]

PARAMS = ("test", "threshold", "correction", "min_reference_rows")
_CORRECTIONS: tuple[Correction, ...] = ("bh", "bonferroni", "by", "none")
_SEED = 0


@dataclass(frozen=True, slots=True)
class PredictionDriftParams:
    """The params of a prediction drift monitor, checked, with defaults applied."""

    test: TestChoice = field(default_factory=TestChoice)
    correction: Correction = "bh"
    min_reference_rows: int = 30


@dataclass(frozen=True, slots=True)
class _Outputs:
    """The answered rows' outputs of one window: class codes and/or score columns."""

    labels: NDArray[np.float64] | None
    scores: NDArray[np.float64] | None
    names: tuple[str, ...]

    @property
    def rows(self) -> int:
        found = self.labels if self.labels is not None else self.scores
        return 0 if found is None else len(found)


@dataclass(frozen=True, slots=True, eq=False)
class PredictionDriftReference:
    """The reference's outputs, prepared once, or why there is nothing to compare with."""

    fitted: PredictionReference | None
    #: Whether the reference has predicted classes / which score columns it has.
    labels: bool = False
    names: tuple[str, ...] = ()
    reason: str | None = None


def read_params(
    params: Mapping[str, ParamValue], *, monitor: str | None = None
) -> PredictionDriftParams:
    """Check ``params`` (module notes) and apply the defaults."""
    reader = ParamReader("prediction_drift", params, PARAMS, monitor=monitor)
    return PredictionDriftParams(
        test=read_test(reader),
        correction=reader.choice("correction", _CORRECTIONS, "bh"),
        min_reference_rows=reader.integer("min_reference_rows", 30, low=2),
    )


def prepare(
    spec: MonitorSpec, params: PredictionDriftParams, reference: Window | None, *, task: str
) -> PredictionDriftReference:
    """Prepare the reference's outputs (module notes)."""
    if reference is None:
        return PredictionDriftReference(None, reason="the monitor has no reference")
    classify = task in CLASSIFICATION
    labels = classify and bool(np.isfinite(reference.predictions).any())
    proba = probabilities(reference) if classify else None
    outputs = _outputs(reference, task, labels=labels, scores=proba is not None)
    if outputs.labels is None and outputs.scores is None:
        return PredictionDriftReference(None, reason="the reference has no predictions")
    if outputs.rows < params.min_reference_rows:
        reason = (
            f"reference has {outputs.rows} rows with predictions, "
            f"needs at least {params.min_reference_rows}"
        )
        return PredictionDriftReference(None, reason=reason)
    fitted = prepare_outputs(
        outputs.labels,
        outputs.scores,
        score_names=outputs.names or None,
        sample_limit=spec.sample_limit,
        seed=_SEED,
    )
    return PredictionDriftReference(fitted, labels=outputs.labels is not None, names=outputs.names)


def run(
    spec: MonitorSpec,
    params: PredictionDriftParams,
    prepared: PredictionDriftReference,
    current: Window,
    *,
    task: str,
) -> KindOutcome:
    """Compare the window's outputs with the reference's (module notes)."""
    if prepared.fitted is None:
        return insufficient(prepared.reason or "no reference")
    outputs = _outputs(current, task, labels=prepared.labels, scores=bool(prepared.names))
    if outputs.names != prepared.names:
        return insufficient(
            f"the current window has the score columns {list(outputs.names)}, "
            f"the reference {list(prepared.names)}"
        )
    per_kind = params.test.per_kind
    results = output_drift(
        prepared.fitted,
        outputs.labels,
        outputs.scores,
        label_test=per_kind.get("categorical"),
        score_test=per_kind.get("numeric"),
        thresholds=params.test.thresholds,
        correction=params.correction,
        sample_limit=spec.sample_limit,
        seed=_SEED,
        window=span(current),
    )
    headline = _headline(results)
    summary = {
        "detectors": [detector_row(result) for result in results],
        "headline": headline.detector,
        "direction": headline.details.get("direction"),
        "rows": outputs.rows,
        "drifted_outputs": [r.detector for r in results if r.status.value == "alarm"],
    }
    status = worst(result.status.value for result in results)
    if status == "insufficient_data":
        summary["reason"] = f"window has {outputs.rows} rows with predictions, needs {MIN_ROWS}"
    return KindOutcome(
        status=status,
        score=finite_or_none(headline.score),
        summary=jsonable(summary),
        details=jsonable({"results": [result.to_dict() for result in results]}),
    )


def _outputs(window: Window, task: str, *, labels: bool, scores: bool) -> _Outputs:
    """The answered rows whose requested outputs are all finite."""
    columns: list[NDArray[np.float64]] = [window.predictions] if labels else []
    names: tuple[str, ...] = ()
    matrix = None
    if task not in CLASSIFICATION:
        matrix, names = window.predictions[:, np.newaxis], ("value",)
    elif scores:
        proba = probabilities(window)
        if proba is None:
            return _Outputs(None, None, ())
        # Two classes: the second class's probability carries all of it.
        matrix = proba[:, 1:] if proba.shape[1] == 2 else proba
        names = score_names(window, proba.shape[1])[-matrix.shape[1] :]
    if matrix is not None:
        columns.append(matrix)
    if not columns:
        return _Outputs(None, None, ())
    keep = finite_rows(*columns) & (window.status == 0)
    return _Outputs(
        labels=window.predictions[keep] if labels else None,
        scores=matrix[keep] if matrix is not None else None,
        names=names,
    )


def _headline(results: tuple[DetectorResult, ...]) -> DetectorResult:
    """The predicted classes' result when there is one, else the first score's."""
    for result in results:
        if result.detector == "prediction.label":
            return result
    return results[0]
