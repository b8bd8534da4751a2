"""Record batches as spool payloads: one self-describing byte string per batch.

Layout: ``b"DLB1"``, a 4-byte little-endian header length, the JSON header, then the raw
little-endian buffers of every numeric array in header order. Strings (request ids, labels,
categorical and text values, error messages) travel in the header. Decoding copies nothing
but the header: arrays are views of the payload, made writable-safe by the storage layer's
own conversions.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from collectors._buffers import describe, pack, unpack
from collectors.errors import PayloadError
from storage.batch import PredictionBatch

__all__ = ["ModelBatch", "concatenate", "decode", "encode", "model_of", "runs", "split"]

_MAGIC = b"DLB1"
_LENGTH = struct.Struct("<I")
_FIELDS = ("timestamps_us", "predictions", "probabilities", "latency_seconds", "status")
_LISTS = ("request_ids", "error_types", "error_messages")


@dataclass(frozen=True, slots=True)
class ModelBatch:
    """Records of one model version, as the spool carries them."""

    model: str
    version: str
    batch: PredictionBatch

    def __len__(self) -> int:
        return len(self.batch)


def encode(item: ModelBatch) -> bytes:
    """The payload of ``item``."""
    buffers: list[bytes] = []
    batch = item.batch
    header: dict[str, Any] = {"model": item.model, "version": item.version}
    for name in _LISTS:
        value = getattr(batch, name)
        header[name] = None if value is None else list(value)
    header["fields"] = {name: describe(getattr(batch, name), buffers) for name in _FIELDS}
    header["features"] = {name: describe(value, buffers) for name, value in batch.features.items()}
    return pack(_MAGIC, header, buffers)


def decode(payload: bytes) -> ModelBatch:
    """The batch in ``payload``.

    Raises
    ------
    PayloadError
        If the payload is not one :func:`encode` wrote (the spool's checksums make this a bug,
        not a disk error).
    """
    try:
        header, reader, _ = unpack(_MAGIC, payload)
        fields = {name: reader.value(spec) for name, spec in header["fields"].items()}
        features = {name: reader.value(spec) for name, spec in header["features"].items()}
        batch = PredictionBatch(
            request_ids=header["request_ids"],
            timestamps_us=fields["timestamps_us"],
            features=features,
            predictions=fields["predictions"],
            probabilities=fields["probabilities"],
            latency_seconds=fields["latency_seconds"],
            status=fields["status"],
            error_types=header["error_types"],
            error_messages=header["error_messages"],
        )
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as error:
        raise PayloadError(f"malformed record batch: {error!r}") from None
    return ModelBatch(model=header["model"], version=header["version"], batch=batch)


def model_of(payload: bytes) -> str:
    """The model a payload's records belong to, read from its header alone.

    Raises
    ------
    PayloadError
        If the payload is not one :func:`encode` wrote.
    """
    try:
        header, _, _ = unpack(_MAGIC, payload)
        model = header["model"]
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as error:
        raise PayloadError(f"malformed record batch: {error!r}") from None
    if not isinstance(model, str):
        raise PayloadError(f"malformed record batch: model is {model!r}, not a string")
    return model


def split(payload: bytes, max_bytes: int) -> list[bytes]:
    """``payload`` as payloads of at most ``max_bytes`` each, cut between records.

    A payload that fits is returned as it is. The cut is deterministic: the same payload and
    limit give the same pieces, so a replayed batch is cut the same way.

    Raises
    ------
    PayloadError
        If the payload is malformed, or one record alone exceeds ``max_bytes``.
    """
    if len(payload) <= max_bytes:
        return [payload]
    item = decode(payload)
    if len(item) < 2:
        msg = f"one record takes {len(payload)} bytes, more than the limit of {max_bytes}"
        raise PayloadError(msg)
    middle = len(item) // 2
    halves = (_rows(item, 0, middle), _rows(item, middle, len(item)))
    return [piece for half in halves for piece in split(encode(half), max_bytes)]


def _rows(item: ModelBatch, start: int, stop: int) -> ModelBatch:
    """Records ``start`` to ``stop`` of ``item``."""

    def cut(value: Any) -> Any:
        return None if value is None else value[start:stop]

    batch = item.batch
    return ModelBatch(
        item.model,
        item.version,
        PredictionBatch(
            request_ids=batch.request_ids[start:stop],
            timestamps_us=cut(batch.timestamps_us),
            features={name: cut(value) for name, value in batch.features.items()},
            predictions=cut(batch.predictions),
            probabilities=cut(batch.probabilities),
            latency_seconds=cut(batch.latency_seconds),
            status=cut(batch.status),
            error_types=cut(batch.error_types),
            error_messages=cut(batch.error_messages),
        ),
    )


def runs(items: Sequence[ModelBatch]) -> list[list[ModelBatch]]:
    """Group consecutive batches of the same model version and the same columns.

    Each run can be written as one insert (:func:`concatenate`): fewer, larger inserts are
    what makes the store fast. Order is kept.
    """
    grouped: list[list[ModelBatch]] = []
    for item in items:
        if grouped and _shape(grouped[-1][0]) == _shape(item):
            grouped[-1].append(item)
        else:
            grouped.append([item])
    return grouped


def _shape(item: ModelBatch) -> tuple[object, ...]:
    batch = item.batch
    return (
        item.model,
        item.version,
        tuple((name, _kind(value)) for name, value in batch.features.items()),
        *(_kind(getattr(batch, name)) for name in _FIELDS),
        *(getattr(batch, name) is None for name in _LISTS),
    )


def _kind(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return ("array", value.dtype.kind, value.shape[1:])
    return "list"


def concatenate(run: Sequence[ModelBatch]) -> ModelBatch:
    """One batch holding the records of ``run`` (one model version, same columns)."""
    if len(run) == 1:
        return run[0]
    first = run[0].batch

    def join(values: list[Any]) -> Any:
        if values[0] is None:
            return None
        if isinstance(values[0], np.ndarray) and values[0].dtype.kind in "biuf":
            return np.concatenate(values)
        return [v for value in values for v in value]

    def field(name: str) -> Any:
        return join([getattr(item.batch, name) for item in run])

    batch = PredictionBatch(
        request_ids=field("request_ids"),
        timestamps_us=field("timestamps_us"),
        features={
            name: join([item.batch.features[name] for item in run]) for name in first.features
        },
        predictions=field("predictions"),
        probabilities=field("probabilities"),
        latency_seconds=field("latency_seconds"),
        status=field("status"),
        error_types=field("error_types"),
        error_messages=field("error_messages"),
    )
    return ModelBatch(model=run[0].model, version=run[0].version, batch=batch)
