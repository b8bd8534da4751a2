"""A column-oriented batch of prediction records, validated against a model version.

Collectors build a :class:`PredictionBatch` from whatever they tapped; :func:`pack_batch`
checks it against the version's schema and turns it into per-row values in the stored layout
(see :mod:`storage.schema`), ready for :mod:`storage.bulk`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from storage.errors import InvalidBatchError
from storage.repositories.models import ModelHandle
from storage.types import RecordStatus

__all__ = ["PackedBatch", "PredictionBatch", "pack_batch"]

_MAX_REQUEST_ID = 255
_MAX_ERROR_TYPE = 255


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """Records of one model version, one entry per record in every column.

    Parameters
    ----------
    request_ids
        Unique per model; a record whose id is already stored is skipped on insert.
    timestamps_us
        Event times, microseconds since the Unix epoch (UTC).
    features
        Feature name to column: floats for numeric features (NaN when missing), strings or
        None for categorical and text features, an ``(n, dims)`` array for embeddings.
        Features left out are missing in every record.
    predictions
        Regression values, or class labels (strings) for classifiers; None where there is
        no prediction (failed requests).
    probabilities
        ``(n, n_classes)`` in the model's class order, or None.
    latency_seconds, status, error_types, error_messages
        Per record; ``status`` values are :class:`~storage.types.RecordStatus`, default OK.
    """

    request_ids: Sequence[str]
    timestamps_us: ArrayLike
    features: Mapping[str, Any] = field(default_factory=dict)
    predictions: Sequence[Any] | NDArray[Any] | None = None
    probabilities: ArrayLike | None = None
    latency_seconds: ArrayLike | None = None
    status: ArrayLike | None = None
    error_types: Sequence[str | None] | None = None
    error_messages: Sequence[str | None] | None = None

    def __len__(self) -> int:
        return len(self.request_ids)


@dataclass(frozen=True, slots=True)
class PackedBatch:
    """A batch in the stored layout: arrays of length n, blobs as contiguous matrices."""

    request_ids: list[str]
    timestamps_us: NDArray[np.int64]
    status: NDArray[np.int16]
    latency_seconds: NDArray[np.float64]
    predictions: NDArray[np.float64]
    #: ``(n, packed_width)`` numeric values then category codes; codes filled in by the writer.
    features: NDArray[np.float64]
    #: Categorical feature name to its raw values, to be dictionary-encoded by the writer.
    categories: dict[str, list[str | None]]
    probabilities: NDArray[np.float64] | None
    embeddings: NDArray[np.float32] | None
    text: list[dict[str, str | None]] | None
    error_types: list[str | None]
    error_messages: list[str | None]


def pack_batch(model: ModelHandle, batch: PredictionBatch) -> PackedBatch:
    """Validate ``batch`` against ``model`` and lay it out as stored.

    Raises
    ------
    InvalidBatchError
        Naming the column (and record index where useful), what was expected and got.
    """
    n = len(batch)
    if n == 0:
        raise InvalidBatchError("a batch needs at least one record, got 0")
    schema = model.schema
    schema.check_names(list(batch.features), where=f"batch for model {model.model_name!r}")
    request_ids = _request_ids(batch.request_ids)
    numeric = np.full((n, schema.packed_width), np.nan)
    for j, name in enumerate(schema.numeric):
        if name in batch.features:
            numeric[:, j] = _floats(batch.features[name], n, f"feature {name!r}")
    categories = {
        name: _strings(batch.features.get(name), n, f"feature {name!r}")
        for name in schema.categorical
    }
    return PackedBatch(
        request_ids=request_ids,
        timestamps_us=_integers(batch.timestamps_us, n, "timestamps_us"),
        status=_status(batch.status, n),
        latency_seconds=_optional_floats(batch.latency_seconds, n, "latency_seconds"),
        predictions=_predictions(model, batch.predictions, n),
        features=numeric,
        categories=categories,
        probabilities=_probabilities(model, batch.probabilities, n),
        embeddings=_embeddings(model, batch, n),
        text=_text(model, batch, n),
        error_types=_strings(batch.error_types, n, "error_types", max_length=_MAX_ERROR_TYPE),
        error_messages=_strings(batch.error_messages, n, "error_messages", max_length=None),
    )


def _as_array(values: Any, where: str, dtype: Any = None) -> NDArray[Any]:
    """``numpy.asarray`` whose failures (ragged or mixed input) name the column."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        expected = "numbers" if dtype is not None else "a flat list of values"
        msg = f"{where}: expected {expected} of one shape for every record, got malformed input"
        raise InvalidBatchError(msg) from None


def _column(values: Any, n: int, where: str) -> NDArray[Any]:
    array = _as_array(values, where)
    if array.ndim != 1 or array.shape[0] != n:
        msg = f"{where}: expected {n} values (one per record), got shape {array.shape}"
        raise InvalidBatchError(msg)
    return array


def _floats(values: Any, n: int, where: str) -> NDArray[np.float64]:
    array = _column(values, n, where)
    try:
        out = array.astype(np.float64)
    except (TypeError, ValueError):
        bad = _first_bad(array, float)
        msg = f"{where}: expected numbers, got {array[bad]!r} at record {bad}"
        raise InvalidBatchError(msg) from None
    if np.isinf(out).any():
        bad = int(np.flatnonzero(np.isinf(out))[0])
        msg = f"{where}: expected finite numbers or NaN, got {out[bad]} at record {bad}"
        raise InvalidBatchError(msg)
    return out


def _optional_floats(values: Any, n: int, where: str) -> NDArray[np.float64]:
    if values is None:
        return np.full(n, np.nan)
    return _floats(values, n, where)


def _integers(values: Any, n: int, where: str) -> NDArray[np.int64]:
    array = _column(values, n, where)
    if not np.issubdtype(array.dtype, np.integer):
        msg = f"{where}: expected integers, got dtype {array.dtype}"
        raise InvalidBatchError(msg)
    return array.astype(np.int64)


def _first_bad(array: NDArray[Any], convert: type) -> int:
    for i, value in enumerate(array.tolist()):
        try:
            convert(value if value is not None else "nan")
        except (TypeError, ValueError):
            return i
    return 0  # pragma: no cover - called only when conversion failed


def _strings(values: Any, n: int, where: str, *, max_length: int | None = 1024) -> list[str | None]:
    if values is None:
        return [None] * n
    out = list(values)
    if len(out) != n:
        msg = f"{where}: expected {n} values (one per record), got {len(out)}"
        raise InvalidBatchError(msg)
    for i, value in enumerate(out):
        if value is None:
            continue
        if not isinstance(value, str):
            msg = f"{where}: expected strings or None, got {type(value).__name__} at record {i}"
            raise InvalidBatchError(msg)
        if "\x00" in value:
            msg = f"{where}: strings may not contain NUL characters, got one at record {i}"
            raise InvalidBatchError(msg)
        if max_length is not None and _utf8_length(value, max_length) > max_length:
            msg = (
                f"{where}: values are at most {max_length} bytes of UTF-8, "
                f"got {len(value.encode())} at record {i}"
            )
            raise InvalidBatchError(msg)
    return out


def _utf8_length(value: str, limit: int) -> int:
    """Length in UTF-8 bytes; only encoded when it could exceed ``limit``."""
    return len(value) if 4 * len(value) <= limit else len(value.encode())


def _request_ids(values: Sequence[str]) -> list[str]:
    out = list(values)
    for i, value in enumerate(out):
        if (
            not isinstance(value, str)
            or not 0 < _utf8_length(value, _MAX_REQUEST_ID) <= _MAX_REQUEST_ID
            or "\x00" in value
        ):
            msg = (
                f"request_ids: expected non-empty strings of at most {_MAX_REQUEST_ID} "
                f"bytes of UTF-8 without NUL characters, got {value!r} at record {i}"
            )
            raise InvalidBatchError(msg)
    return out


def _status(values: Any, n: int) -> NDArray[np.int16]:
    if values is None:
        return np.full(n, RecordStatus.OK, dtype=np.int16)
    array = _integers(values, n, "status")
    known = np.isin(array, [s.value for s in RecordStatus])
    if not known.all():
        bad = int(np.flatnonzero(~known)[0])
        names = ", ".join(f"{s.value} ({s.name.lower()})" for s in RecordStatus)
        msg = f"status: expected one of {names}, got {array[bad]} at record {bad}"
        raise InvalidBatchError(msg)
    return array.astype(np.int16)


def _predictions(model: ModelHandle, values: Any, n: int) -> NDArray[np.float64]:
    if values is None:
        return np.full(n, np.nan)
    if not model.task.is_classification:
        return _floats(values, n, "predictions")
    index = model.class_index()
    out = np.full(n, np.nan)
    for i, label in enumerate(_strings(values, n, "predictions", max_length=None)):
        if label is None:
            continue
        code = index.get(label)
        if code is None:
            msg = (
                f"predictions: unknown class {label!r} at record {i}; "
                f"model {model.model_name!r} has classes {list(model.classes)}"
            )
            raise InvalidBatchError(msg)
        out[i] = code
    return out


def _probabilities(model: ModelHandle, values: Any, n: int) -> NDArray[np.float64] | None:
    if values is None:
        return None
    if not model.task.is_classification:
        raise InvalidBatchError("probabilities: only classifiers have probabilities")
    array = _as_array(values, "probabilities", np.float64)
    expected = (n, len(model.classes))
    if array.shape != expected:
        msg = f"probabilities: expected shape {expected} (records, classes), got {array.shape}"
        raise InvalidBatchError(msg)
    outside = ~np.isnan(array) & ((array < 0) | (array > 1))
    if outside.any():
        row = int(np.flatnonzero(outside.any(axis=1))[0])
        msg = f"probabilities: expected values in [0, 1], got {array[row].tolist()} at record {row}"
        raise InvalidBatchError(msg)
    return array


def _embeddings(model: ModelHandle, batch: PredictionBatch, n: int) -> NDArray[np.float32] | None:
    slices = model.schema.embedding_slices()
    if not slices:
        return None
    out = np.full((n, model.schema.embedding_width), np.nan, dtype=np.float32)
    for name, where in slices.items():
        if name not in batch.features:
            continue
        array = _as_array(batch.features[name], f"feature {name!r}", np.float64)
        expected = (n, where.stop - where.start)
        if array.shape != expected:
            msg = f"feature {name!r}: expected an embedding of shape {expected}, got {array.shape}"
            raise InvalidBatchError(msg)
        with np.errstate(over="ignore"):
            single = array.astype(np.float32)
        overflow = np.isinf(single)
        if overflow.any():
            row = int(np.flatnonzero(overflow.any(axis=1))[0])
            msg = (
                f"feature {name!r}: expected finite values within float32 range "
                f"(|x| < 3.4e38) or NaN, got a value out of range at record {row}"
            )
            raise InvalidBatchError(msg)
        out[:, where] = single
    return out


def _text(model: ModelHandle, batch: PredictionBatch, n: int) -> list[dict[str, str | None]] | None:
    names = model.schema.text
    if not names:
        return None
    columns = {
        name: _strings(batch.features.get(name), n, f"feature {name!r}", max_length=None)
        for name in names
    }
    return [{name: columns[name][i] for name in names} for i in range(n)]
