"""Evidently reports of Driftline's data, as standalone HTML.

Evidently is imported lazily (it is heavy) with its telemetry switched off. The warnings
its imports and runs raise (deprecations, rows without a label, metrics undefined on a
small group) are silenced here, not in callers: they are not actionable for a report's
reader.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dashboards.web.source import ReportFrames

__all__ = ["data_drift_html", "window_report", "window_report_html"]

_CLASSIFICATION_TASKS = frozenset({"binary_classification", "multiclass_classification"})
_TASKS = (*sorted(_CLASSIFICATION_TASKS), "regression")


def data_drift_html(
    reference: Any, current: Any, *, numeric: Sequence[str], categorical: Sequence[str]
) -> str:
    """Evidently's DataDriftPreset report of two pandas frames, as one HTML document."""
    with _evidently():
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        definition = DataDefinition(
            numerical_columns=list(numeric), categorical_columns=list(categorical)
        )
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        return str(snapshot.get_html_str(as_iframe=False))


def window_report_html(frames: ReportFrames) -> str:
    """Evidently's report of one window (see :func:`window_report`), as one HTML document."""
    snapshot = window_report(frames)
    with _evidently():
        return str(snapshot.get_html_str(as_iframe=False))


def window_report(frames: ReportFrames) -> Any:
    """Run Evidently's report of one window: data drift, and model quality where it can.

    The report always holds DataDriftPreset over ``frames.numeric`` and
    ``frames.categorical``. When ``frames.target`` and ``frames.prediction`` are set and
    both frames have at least one row with both values, it adds ClassificationPreset
    (``BinaryClassification`` with the model's second class as the positive one, or
    ``MulticlassClassification``; target and prediction hold class labels) or
    RegressionPreset, by ``frames.task``. Rows without a label still count for drift;
    Evidently leaves them out of the quality metrics. Without a labelled row on either
    side there is nothing to compare, so the quality part is left out.

    Returns
    -------
    evidently.core.report.Snapshot
        The run report; ``get_html_str`` renders it, ``dict`` gives its values.

    Raises
    ------
    ValueError
        If ``frames.task`` is not a task Driftline knows.
    """
    if frames.task not in _TASKS:
        msg = f"task must be one of {', '.join(_TASKS)}, got {frames.task!r}"
        raise ValueError(msg)
    with _evidently():
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        features = [*frames.numeric, *frames.categorical]
        presets: list[Any] = [DataDriftPreset(columns=features)]
        roles: dict[str, Any] = {}
        columns = _quality_columns(frames)
        if columns is not None:
            roles, preset = _quality(frames.task, frames.labels, *columns)
            presets.append(preset)
        definition = DataDefinition(
            numerical_columns=list(frames.numeric),
            categorical_columns=list(frames.categorical),
            **roles,
        )
        return Report(presets).run(
            Dataset.from_pandas(frames.current, data_definition=definition),
            Dataset.from_pandas(frames.reference, data_definition=definition),
        )


def _quality_columns(frames: ReportFrames) -> tuple[str, str] | None:
    """Target and prediction columns, if both frames have a row with both values."""
    target, prediction = frames.target, frames.prediction
    if target is None or prediction is None:
        return None
    for frame in (frames.reference, frames.current):
        if not bool((frame[target].notna() & frame[prediction].notna()).any()):
            return None
    return target, prediction


def _quality(
    task: str, labels: Sequence[str] | None, target: str, prediction: str
) -> tuple[dict[str, Any], Any]:
    """The data definition's roles for target and prediction, and the preset reading them."""
    from evidently import BinaryClassification, MulticlassClassification, Regression
    from evidently.presets import ClassificationPreset, RegressionPreset

    if task == "regression":
        return {"regression": [Regression(target=target, prediction=prediction)]}, (
            RegressionPreset()
        )
    classification: Any
    if task == "binary_classification" and labels is not None and len(labels) == 2:
        classification = BinaryClassification(
            target=target, prediction_labels=prediction, pos_label=labels[1]
        )
    else:
        classification = MulticlassClassification(target=target, prediction_labels=prediction)
    return {"classification": [classification]}, ClassificationPreset()


@contextmanager
def _evidently() -> Iterator[None]:
    """Evidently without telemetry and without its warnings."""
    os.environ["DO_NOT_TRACK"] = "1"  # before Evidently is imported: no telemetry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
