"""The collector's side of the inference server's tap: tapped batches as records.

``collectors`` does not import ``serving``: a tapped batch is anything with the attributes of
:class:`Tapped` (``serving.tap.Tapped`` has them). :class:`CollectorTap` takes batches
in-process; :mod:`collectors.tap_push` sends them to a sidecar over loopback. Either way
they become records of the stored model version on the collector's spooler thread.

Record ids: a one-row request is stored under its request id; the rows of a request with
``n > 1`` rows under ``<request id>:0`` … ``<request id>:<n-1>`` (labels are sent with the
same ids). A request refused before its rows were decoded is one record with every feature
missing, so that failure rates count it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from collectors.collector import Collector
from collectors.ingest import class_label
from storage import ModelHandle, PredictionBatch, RecordStatus

__all__ = ["CollectorTap", "Tapped", "TappedRecords"]


class Tapped(Protocol):
    """What a tapped batch carries (see ``serving.tap.Tapped`` for the meanings)."""

    @property
    def model(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def request_ids(self) -> Sequence[str]: ...
    @property
    def row_counts(self) -> NDArray[np.int64]: ...
    @property
    def features(self) -> NDArray[Any] | None: ...
    @property
    def feature_names(self) -> Sequence[str]: ...
    @property
    def outputs(self) -> Mapping[str, NDArray[Any]]: ...
    @property
    def received_at(self) -> NDArray[np.float64]: ...
    @property
    def latency_seconds(self) -> NDArray[np.float64]: ...
    @property
    def statuses(self) -> Sequence[str]: ...
    @property
    def errors(self) -> Sequence[str | None]: ...
    @property
    def roles(self) -> Mapping[str, str]: ...


_STATUS = {
    "ok": RecordStatus.OK,
    "bad_input": RecordStatus.BAD_INPUT,
    "timeout": RecordStatus.TIMEOUT,
    "error": RecordStatus.ERROR,
    "overloaded": RecordStatus.ERROR,
}
_MAX_MESSAGE = 1000


class CollectorTap:
    """A tap (``serving.tap.Tap``) that hands batches to an in-process collector, never
    blocking."""

    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def submit(self, batch: Tapped) -> None:
        """Queue the batch for the collector."""
        self._collector.submit(TappedRecords(batch))


class TappedRecords:
    """One tapped batch, turned into records when the collector asks."""

    def __init__(self, batch: Tapped) -> None:
        self._batch = batch
        self.record_count = int(np.maximum(batch.row_counts, 1).sum())

    @property
    def model(self) -> str:
        return self._batch.model

    @property
    def version(self) -> str:
        return self._batch.version

    def records(self, model: ModelHandle) -> PredictionBatch:
        """The batch's records, shaped for the stored model version."""
        batch = self._batch
        simple = bool((batch.row_counts == 1).all())
        if simple:  # the common case: one row per request
            request = np.arange(len(batch.request_ids))
            source_row = request
            ids = list(batch.request_ids)
        else:
            request = np.repeat(np.arange(len(batch.request_ids)), np.maximum(batch.row_counts, 1))
            source_row = _source_rows(batch.row_counts)
            ids = [
                rid if count <= 1 else f"{rid}:{k}"
                for rid, count in zip(batch.request_ids, batch.row_counts.tolist(), strict=True)
                for k in range(max(count, 1))
            ]
        codes = np.array([_STATUS[s] for s in batch.statuses], dtype=np.int16)[request]
        n = len(ids)
        error_types: list[str | None] = [None] * n
        error_messages: list[str | None] = [None] * n
        for record in np.flatnonzero(codes != RecordStatus.OK).tolist():
            i = int(request[record])
            error_types[record] = batch.statuses[i]
            error_messages[record] = _message(batch.errors[i])
        return PredictionBatch(
            request_ids=ids,
            timestamps_us=np.round(batch.received_at[request] * 1e6).astype(np.int64),
            features=_features(batch, model, source_row),
            predictions=_predictions(batch, model, source_row),
            probabilities=_probabilities(batch, model, source_row),
            latency_seconds=batch.latency_seconds[request],
            status=codes,
            error_types=error_types,
            error_messages=error_messages,
        )


def _source_rows(row_counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per record, its row in the batch's feature matrix, or -1 for a request without rows."""
    rows: list[NDArray[np.int64]] = []
    start = 0
    for count in row_counts.tolist():
        rows.append(np.arange(start, start + count) if count else np.array([-1]))
        start += count
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)


def _features(batch: Tapped, model: ModelHandle, source_row: NDArray[np.int64]) -> dict[str, Any]:
    if batch.features is None or not batch.feature_names:
        return {}
    present = source_row >= 0
    rows = batch.features[np.where(present, source_row, 0)]
    position = {name: j for j, name in enumerate(batch.feature_names)}
    specs = [spec for spec in model.schema.features if spec.name in position]
    numeric = [spec.name for spec in specs if spec.kind.value == "numeric"]
    columns: dict[str, Any] = {}
    if numeric:  # all numeric columns in one conversion, then a view per column
        block = np.array(rows[:, [position[name] for name in numeric]], dtype=np.float64)
        block[~present] = math.nan
        columns = {name: block[:, k] for k, name in enumerate(numeric)}
    for spec in specs:
        if spec.kind.value != "numeric":
            values = rows[:, position[spec.name]]
            columns[spec.name] = [
                _label(value) if ok else None for value, ok in zip(values, present, strict=True)
            ]
    return {spec.name: columns[spec.name] for spec in specs}


def _predictions(batch: Tapped, model: ModelHandle, source_row: NDArray[np.int64]) -> Any:
    name = batch.roles.get("prediction")
    if name is None or name not in batch.outputs:
        return None
    values = batch.outputs[name].reshape(len(batch.outputs[name]), -1)[:, 0]
    present = source_row >= 0
    taken = values[np.where(present, source_row, 0)]
    if not model.classes:
        column = np.array(taken, dtype=np.float64)
        column[~present] = math.nan
        return column
    try:
        distinct, inverse = np.unique(taken, return_inverse=True)
    except TypeError:  # outputs of mixed types cannot be sorted: name them one by one
        labels = [_class_name(value, model.classes) for value in taken.tolist()]
    else:
        names = [_class_name(value, model.classes) for value in distinct.tolist()]
        labels = [names[k] for k in inverse.reshape(-1).tolist()]
    for record in np.flatnonzero(~present).tolist():
        labels[record] = None
    return labels


def _probabilities(
    batch: Tapped, model: ModelHandle, source_row: NDArray[np.int64]
) -> NDArray[np.float64] | None:
    name = batch.roles.get("probabilities")
    if name is None or name not in batch.outputs or not model.classes:
        return None
    values = np.asarray(batch.outputs[name], dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(model.classes):
        return None
    present = source_row >= 0
    taken = values[np.where(present, source_row, 0)]
    taken[~present] = math.nan
    return taken


def _class_name(value: object, classes: tuple[str, ...]) -> str | None:
    """The class a model output names (a label or an index), else the output as text."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    named = class_label(value, classes)
    return named if named is not None else _label(value)


def _label(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    return str(value).replace("\x00", "\ufffd")  # the store refuses NUL characters


def _message(error: str | None) -> str | None:
    return None if error is None else error[:_MAX_MESSAGE].replace("\x00", "\ufffd")
