"""From a request's tensors or records to one 2-D array of feature rows.

Accepted forms of an inference request, for a model with features ``f1 … fm``:

* one input of shape ``[rows, m]`` (any name), columns in feature order;
* one input per feature, named after it, each of shape ``[rows]`` or ``[rows, 1]``.

A model deployed without declared features takes one ``[rows, m]`` input of any width. The
rows are float64 when every column is numeric, and an object array when any column holds
strings (categorical or text features).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.config import FeatureInput
from serving.errors import InvalidRequestError
from serving.protocol.requests import InputTensor

__all__ = ["feature_rows", "record_rows"]


def feature_rows(inputs: Sequence[InputTensor], features: tuple[FeatureInput, ...]) -> NDArray[Any]:
    """The ``(rows, n_features)`` array of a request's inputs.

    Raises
    ------
    InvalidRequestError
        Naming the input and what the model expected instead.
    """
    if len(inputs) == 1 and len(inputs[0].shape) == 2 and inputs[0].name not in _names(features):
        return _matrix(inputs[0], features)
    if not features:
        raise InvalidRequestError(
            "inputs: this model takes one input of shape [rows, columns]; "
            f"got {len(inputs)} input(s) of shape(s) {[list(t.shape) for t in inputs]}"
        )
    return _by_name(inputs, features)


def _matrix(tensor: InputTensor, features: tuple[FeatureInput, ...]) -> NDArray[Any]:
    columns = tensor.shape[1]
    if features and columns != len(features):
        raise InvalidRequestError(
            f"inputs[0] ({tensor.name!r}): shape {list(tensor.shape)} has {columns} columns, "
            f"the model takes {len(features)} features: {', '.join(_names(features))}"
        )
    data = tensor.data
    if data.dtype.kind in "biuf":
        return data.astype(np.float64, copy=False)
    _check_numeric_strings(data, features)
    return data


def _by_name(inputs: Sequence[InputTensor], features: tuple[FeatureInput, ...]) -> NDArray[Any]:
    position = {feature.name: i for i, feature in enumerate(features)}
    columns: list[NDArray[Any] | None] = [None] * len(features)
    rows: int | None = None
    for i, tensor in enumerate(inputs):
        at = f"inputs[{i}] ({tensor.name!r})"
        if tensor.name not in position:
            raise InvalidRequestError(
                f"{at}: not a feature of this model; send one [rows, {len(features)}] input "
                f"or one input per feature: {', '.join(_names(features))}"
            )
        shape = tensor.shape
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise InvalidRequestError(
                f"{at}: a per-feature input has shape [rows] or [rows, 1], got {list(shape)}"
            )
        if rows is not None and shape[0] != rows:
            raise InvalidRequestError(f"{at}: has {shape[0]} rows, the inputs before it {rows}")
        rows = shape[0]
        feature = features[position[tensor.name]]
        if feature.kind == "numeric" and tensor.data.dtype.kind not in "biuf":
            raise InvalidRequestError(f"{at}: feature {feature.name!r} is numeric, got strings")
        columns[position[tensor.name]] = tensor.data.reshape(-1)
    missing = [features[i].name for i, column in enumerate(columns) if column is None]
    if missing:
        raise InvalidRequestError(f"inputs: missing feature input(s) {', '.join(missing)}")
    present = [column for column in columns if column is not None]
    if all(column.dtype.kind in "biuf" for column in present):
        return np.column_stack(present).astype(np.float64, copy=False)
    return _object_columns(present)


def record_rows(records: object, features: tuple[FeatureInput, ...]) -> NDArray[Any]:
    """The ``(rows, n_features)`` array of records ``[{feature: value, ...}, ...]``.

    ``null`` stands for a missing value (NaN in a numeric column). Every declared feature
    must be present in every record and no other key may be.
    """
    if not features:
        raise InvalidRequestError("records: this model declares no features; send tensors")
    if not isinstance(records, list) or not records:
        raise InvalidRequestError("records: expected a non-empty list of objects")
    names = _names(features)
    expected = set(names)
    columns: list[list[Any]] = [[] for _ in features]
    for r, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidRequestError(f"records[{r}]: expected an object")
        if record.keys() != expected:
            _explain_keys(record, expected, names, at=f"records[{r}]")
        for column, name in zip(columns, names, strict=True):
            column.append(record[name])
    arrays = [_record_column(values, f) for values, f in zip(columns, features, strict=True)]
    if all(array.dtype.kind == "f" for array in arrays):
        return np.column_stack(arrays)
    return _object_columns(arrays)


def _record_column(values: list[Any], feature: FeatureInput) -> NDArray[Any]:
    if feature.kind == "numeric":
        for r, value in enumerate(values):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise InvalidRequestError(
                    f"records[{r}].{feature.name}: numeric feature, got {value!r}"
                )
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    for r, value in enumerate(values):
        if value is not None and not isinstance(value, str | int | float):
            raise InvalidRequestError(
                f"records[{r}].{feature.name}: {feature.kind} feature, got {type(value).__name__}"
            )
    column = np.empty(len(values), dtype=object)
    column[:] = [v if v is None or isinstance(v, str) else str(v) for v in values]
    return column


def _explain_keys(
    record: dict[str, Any], expected: set[str], names: tuple[str, ...], at: str
) -> None:
    missing = [name for name in names if name not in record]
    if missing:
        raise InvalidRequestError(f"{at}: missing feature(s) {', '.join(missing)}")
    unknown = sorted(set(record) - expected)
    raise InvalidRequestError(
        f"{at}: unknown field(s) {', '.join(unknown)}; features: {', '.join(names)}"
    )


def _check_numeric_strings(data: NDArray[Any], features: tuple[FeatureInput, ...]) -> None:
    for j, feature in enumerate(features):
        if feature.kind == "numeric":
            raise InvalidRequestError(
                f"inputs[0]: column {j} ({feature.name!r}) is numeric; a BYTES tensor cannot "
                "carry it — send one input per feature instead"
            )


def _object_columns(columns: Sequence[NDArray[Any]]) -> NDArray[Any]:
    rows = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        rows[:, j] = column
    return rows


def _names(features: tuple[FeatureInput, ...]) -> tuple[str, ...]:
    return tuple(feature.name for feature in features)
