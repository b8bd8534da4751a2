"""Checking a reference dataset against a model version and normalising it to Parquet.

What a reference file may hold (columns are matched by exact name; rows are counted from
1, the header excluded):

- **every feature** of the version's schema. Numeric features hold numbers (empty cells are
  missing values; infinities are refused, as production records refuse them); categorical
  and text features hold anything, kept as text (``1.0`` reads as ``"1"``, as
  :func:`monitor.frames.category_labels` does). An embedding of ``dims`` values is either
  one column of that name holding a list of ``dims`` numbers per row (Parquet), or the
  columns ``<name>_0`` .. ``<name>_<dims-1>`` (the only form CSV can hold); a list column
  wins when both are present.
- optionally **the label**, in a column ``target`` or ``label`` (not both): class labels of
  the model's classes for a classifier, numbers for a regression model.
- optionally **the model's prediction**, in a column ``prediction``, held as the label is.
- optionally **class probabilities** of a classifier, ``proba_<class>`` for every class
  (a binary classifier may give one class; the other is its complement).

A column that is a declared feature is always the feature, even if it is named ``label``.
Any other column is ignored and reported. The normalised data keeps the features under
their names (an embedding as one fixed-size list column), then the label, prediction and
probability columns; Parquet metadata under :data:`METADATA_KEY` says which is which.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from monitor.errors import ConfigError
from monitor.frames import category_labels, numeric_values
from storage import ModelHandle
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task

__all__ = [
    "FORMAT_VERSION",
    "LABEL_COLUMNS",
    "METADATA_KEY",
    "PREDICTION_COLUMN",
    "PROBABILITY_PREFIX",
    "PreparedReference",
    "ReferenceDataError",
    "prepare_reference",
]

#: Key of the JSON in the Parquet metadata naming the label, prediction and probabilities.
METADATA_KEY = b"driftline.reference"
FORMAT_VERSION = 1
LABEL_COLUMNS = ("target", "label")
PREDICTION_COLUMN = "prediction"
PROBABILITY_PREFIX = "proba_"
#: Longest categorical value in UTF-8 bytes, as for production records.
_MAX_CATEGORY_BYTES = 1024
#: Names listed in a message before "and N more".
_SHOWN = 10


class ReferenceDataError(ConfigError):
    """A reference dataset cannot be used for its model; the message starts with its source."""


@dataclass(frozen=True, slots=True)
class PreparedReference:
    """A validated reference dataset, normalised and serialised as Parquet."""

    model_name: str
    #: The model version whose schema the data was checked against.
    version: str
    data: bytes = field(repr=False)
    row_count: int
    #: Hex SHA-256 of ``data``.
    sha256: str
    has_labels: bool
    #: ``"target"`` or ``"label"``, when ``has_labels``.
    label_column: str | None
    has_predictions: bool
    has_probabilities: bool
    #: Columns of the input that are none of the above, in input order.
    ignored_columns: tuple[str, ...]


def prepare_reference(
    frame: pd.DataFrame, handle: ModelHandle, *, source: str
) -> PreparedReference:
    """Check ``frame`` against the model version ``handle`` and normalise it.

    Parameters
    ----------
    frame
        The dataset as read from a file or a request.
    handle
        The model version whose schema the dataset must follow.
    source
        The file name, or ``"request body"``: every message starts with it.

    Raises
    ------
    ReferenceDataError, monitor.errors.DataFileError
        Naming the column, and a bad value or row, of the first problem found.
    """
    frame = _checked_frame(frame, source)
    reader = _Reader(frame, handle, source)
    reader.require_features()
    columns: dict[str, pa.Array] = {}
    for spec in handle.schema.features:
        columns[spec.name] = reader.feature(spec)
    label = reader.label_column()
    if label is not None:
        columns[label] = reader.target(label)
    prediction = PREDICTION_COLUMN if reader.unclaimed(PREDICTION_COLUMN) else None
    if prediction is not None:
        columns[prediction] = reader.target(prediction)
    probabilities = reader.probabilities()
    for name, values in probabilities.items():
        if name in columns:
            msg = f"{source}: cannot store the derived column {name!r}: a feature has that name"
            raise ReferenceDataError(msg)
        columns[name] = pa.array(values, type=pa.float64())
    metadata = {
        "format": FORMAT_VERSION,
        "model": handle.model_name,
        "version": handle.version,
        "label": label,
        "prediction": prediction,
        "probabilities": list(probabilities) or None,
    }
    data = _parquet(columns, metadata)
    return PreparedReference(
        model_name=handle.model_name,
        version=handle.version,
        data=data,
        row_count=len(frame),
        sha256=hashlib.sha256(data).hexdigest(),
        has_labels=label is not None,
        label_column=label,
        has_predictions=prediction is not None,
        has_probabilities=bool(probabilities),
        ignored_columns=tuple(c for c in frame.columns if c not in reader.used),
    )


def _listed(names: Iterable[str]) -> str:
    """``'a', 'b', 'c'``, cut after a few names with ``and N more``."""
    items = [repr(name) for name in names]
    if len(items) > _SHOWN:
        return f"{', '.join(items[:_SHOWN])} and {len(items) - _SHOWN} more"
    return ", ".join(items)


def _checked_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        msg = f"{source}: expected a table of rows and columns, got {type(frame).__name__}"
        raise ReferenceDataError(msg)
    if len(frame) == 0:
        raise ReferenceDataError(f"{source}: no data rows; a reference needs at least 1 row")
    names = [str(column) for column in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ReferenceDataError(f"{source}: column(s) {_listed(repeated)} appear more than once")
    if names != list(frame.columns):
        frame = frame.copy(deep=False)
        frame.columns = names
    return frame


class _Reader:
    """Reads one frame's columns as a model version wants them, noting the columns used."""

    def __init__(self, frame: pd.DataFrame, handle: ModelHandle, source: str) -> None:
        self.frame = frame
        self.handle = handle
        self.source = source
        self.used: set[str] = set()

    def unclaimed(self, name: str) -> bool:
        """A column of that name exists and is not a feature."""
        return name in self.frame.columns and name not in self.handle.schema

    def _embedding_columns(self, spec: FeatureSpec) -> list[str]:
        return [f"{spec.name}_{i}" for i in range(spec.dims or 0)]

    def require_features(self) -> None:
        missing = []
        for spec in self.handle.schema.features:
            if spec.name in self.frame.columns:
                continue
            if spec.kind is FeatureKind.EMBEDDING:
                parts = self._embedding_columns(spec)
                absent = [name for name in parts if name not in self.frame.columns]
                if absent:
                    form = f"{parts[0]}..{parts[-1]}" if len(parts) > 1 else parts[0]
                    missing.append(f"{spec.name!r} (embedding: a list column or {form})")
                continue
            missing.append(repr(spec.name))
        if missing:
            shown = missing if len(missing) <= _SHOWN else [*missing[:_SHOWN], "..."]
            msg = (
                f"{self.source}: missing feature column(s) {', '.join(shown)} of model "
                f"{self.handle.model_name!r} version {self.handle.version!r}; "
                f"columns found: {_listed(self.frame.columns)}"
            )
            raise ReferenceDataError(msg)

    def feature(self, spec: FeatureSpec) -> pa.Array:
        if spec.kind is FeatureKind.EMBEDDING:
            return self._embedding(spec)
        self.used.add(spec.name)
        series = self.frame[spec.name]
        if spec.kind is FeatureKind.NUMERIC:
            return pa.array(self._numbers(series), type=pa.float64())
        labels = category_labels(series)
        if spec.kind is FeatureKind.CATEGORICAL:
            self._check_categories(spec.name, labels)
        return pa.array(labels, type=pa.string())

    def _numbers(self, series: pd.Series) -> NDArray[np.float64]:
        values = numeric_values(series, source=self.source)
        infinite = np.flatnonzero(np.isinf(values))
        if len(infinite):
            row = int(infinite[0])
            msg = (
                f"{self.source}: column {series.name!r} holds {values[row]} at row {row + 1}; "
                "expected finite numbers (leave the cell empty for a missing value)"
            )
            raise ReferenceDataError(msg)
        return values

    def _check_categories(self, name: str, labels: NDArray[np.object_]) -> None:
        for value in dict.fromkeys(labels.tolist()):
            if value is None:
                continue
            size = len(value.encode())
            if size <= _MAX_CATEGORY_BYTES and "\x00" not in value:
                continue
            row = int(np.flatnonzero(labels == value)[0]) + 1
            problem = "a NUL character" if "\x00" in value else f"{size} bytes of UTF-8"
            msg = (
                f"{self.source}: column {name!r} holds a value with {problem} at row {row}; "
                f"categorical values are at most {_MAX_CATEGORY_BYTES} bytes, without NUL"
            )
            raise ReferenceDataError(msg)

    def _embedding(self, spec: FeatureSpec) -> pa.Array:
        dims = spec.dims or 0
        if spec.name in self.frame.columns:
            self.used.add(spec.name)
            matrix = self._list_column(self.frame[spec.name], dims)
        else:
            parts = self._embedding_columns(spec)
            self.used.update(parts)
            matrix = np.column_stack([self._numbers(self.frame[name]) for name in parts])
        with np.errstate(over="ignore"):
            single = matrix.astype(np.float32)
        overflow = np.flatnonzero(np.isinf(single).any(axis=1))
        if len(overflow):
            msg = (
                f"{self.source}: embedding {spec.name!r} holds a value out of float32 range "
                f"(|x| < 3.4e38) or infinite at row {int(overflow[0]) + 1}"
            )
            raise ReferenceDataError(msg)
        return pa.FixedSizeListArray.from_arrays(pa.array(single.ravel()), dims)

    def _list_column(self, series: pd.Series, dims: int) -> NDArray[np.float64]:
        cells = series.to_numpy(dtype=object)
        try:  # the common case: every row an array of the right length
            stacked = np.asarray(np.stack(cells), dtype=np.float64)
            if stacked.shape == (len(cells), dims):
                return stacked
        except (TypeError, ValueError):
            pass
        out = np.full((len(cells), dims), np.nan)
        for i, cell in enumerate(cells):
            if cell is None or (np.ndim(cell) == 0 and pd.isna(cell)):
                continue
            got = _cell(cell, dims)
            if isinstance(got, str):
                msg = (
                    f"{self.source}: embedding column {series.name!r} holds {got} at row "
                    f"{i + 1}; expected a list of {dims} numbers per row (or columns "
                    f"{series.name}_0..{series.name}_{dims - 1})"
                )
                raise ReferenceDataError(msg)
            out[i] = got
        return out

    def label_column(self) -> str | None:
        found = [name for name in LABEL_COLUMNS if self.unclaimed(name)]
        if len(found) > 1:
            msg = f"{self.source}: both {_listed(found)} columns found; keep one as the label"
            raise ReferenceDataError(msg)
        return found[0] if found else None

    def target(self, name: str) -> pa.Array:
        """A label or prediction column: class labels of a classifier, else numbers."""
        self.used.add(name)
        series = self.frame[name]
        if self.handle.task is Task.REGRESSION:
            return pa.array(self._numbers(series), type=pa.float64())
        labels = category_labels(series)
        known = set(self.handle.classes)
        unknown = [v for v in dict.fromkeys(labels.tolist()) if v is not None and v not in known]
        if unknown:
            msg = (
                f"{self.source}: column {name!r} holds unknown class label(s) {_listed(unknown)}; "
                f"model {self.handle.model_name!r} has classes {_listed(self.handle.classes)}"
            )
            raise ReferenceDataError(msg)
        return pa.array(labels, type=pa.string())

    def probabilities(self) -> dict[str, NDArray[np.float64]]:
        """``proba_<class>`` columns in class order (none for regression models)."""
        if not self.handle.task.is_classification:
            return {}
        columns = [
            c for c in self.frame.columns if c.startswith(PROBABILITY_PREFIX) and self.unclaimed(c)
        ]
        if not columns:
            return {}
        classes = self.handle.classes
        by_class = {c.removeprefix(PROBABILITY_PREFIX): c for c in columns}
        unknown = [column for label, column in by_class.items() if label not in classes]
        if unknown:
            msg = (
                f"{self.source}: probability column(s) {_listed(unknown)} name no class of "
                f"model {self.handle.model_name!r}; expected {PROBABILITY_PREFIX}<class> "
                f"for classes {_listed(classes)}"
            )
            raise ReferenceDataError(msg)
        self.used.update(columns)
        values = {label: self._probability(by_class[label]) for label in by_class}
        missing = [label for label in classes if label not in values]
        if missing and self.handle.task is Task.BINARY_CLASSIFICATION and len(values) == 1:
            values[missing[0]] = 1.0 - next(iter(values.values()))
        elif missing:
            names = _listed(PROBABILITY_PREFIX + label for label in missing)
            msg = f"{self.source}: probability column(s) {names} missing; give one per class"
            raise ReferenceDataError(msg)
        return {PROBABILITY_PREFIX + label: values[label] for label in classes}

    def _probability(self, name: str) -> NDArray[np.float64]:
        values = self._numbers(self.frame[name])
        outside = np.flatnonzero((values < 0) | (values > 1))
        if len(outside):
            row = int(outside[0])
            msg = (
                f"{self.source}: column {name!r} holds {values[row]} at row {row + 1}; "
                "expected probabilities in [0, 1]"
            )
            raise ReferenceDataError(msg)
        return values


def _cell(cell: Any, dims: int) -> NDArray[np.float64] | str:
    """One embedding cell as numbers, or what is wrong with it."""
    if isinstance(cell, str | bytes):
        return f"text ({type(cell).__name__})"
    if not hasattr(cell, "__len__"):
        return f"a single value ({cell!r})"[:80]
    try:
        row = np.asarray(cell, dtype=np.float64)
    except (TypeError, ValueError):
        return "a list holding something other than numbers"
    if row.shape != (dims,):
        return f"a list of shape {row.shape}"
    return row


def _parquet(columns: dict[str, pa.Array], metadata: dict[str, Any]) -> bytes:
    table = pa.Table.from_arrays(list(columns.values()), names=list(columns))
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())
