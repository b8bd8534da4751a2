"""Parsing and checking Open Inference Protocol v2 inference requests (REST, JSON + binary).

One pass over the body builds numpy arrays; every problem is reported with the place it was
found (``inputs[1].shape: ...``), so that a client sees a 400 it can act on. Tensor ``data``
may be flat (row-major) or nested. Tensors sent with Triton's binary tensor extension
(``parameters.binary_data_size`` and an ``Inference-Header-Content-Length`` header) are read
from the bytes after the JSON part, in input order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from serving.errors import InvalidRequestError
from serving.protocol.datatypes import dtype_of
from serving.protocol.tensors import (
    check_shape,
    check_unique_names,
    decode_raw,
    requested_outputs,
    timeout_of,
)

__all__ = ["InferenceRequest", "InputTensor", "parse_request"]


@dataclass(slots=True)
class InputTensor:
    """One decoded input tensor."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: np.ndarray[Any, Any]


@dataclass(slots=True)
class InferenceRequest:
    """A decoded inference request: what REST and gRPC requests both become.

    Attributes
    ----------
    id
        The client's request id, echoed in the response (None when not given).
    inputs
        Decoded input tensors, in request order.
    outputs
        Names of the requested outputs; None means every output.
    parameters
        Request parameters as sent (unknown keys are kept and ignored).
    timeout_seconds
        Deadline asked for by the client (Triton's ``timeout`` parameter, microseconds).
    """

    id: str | None
    inputs: list[InputTensor]
    outputs: tuple[str, ...] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: float | None = None


def parse_request(body: bytes, *, json_length: int | None = None) -> InferenceRequest:
    """Decode an inference request body.

    Parameters
    ----------
    body
        The whole HTTP body.
    json_length
        Value of the ``Inference-Header-Content-Length`` header: the length of the JSON part
        when binary tensor data follows it; None when the body is JSON only.

    Raises
    ------
    InvalidRequestError
        With the location and the problem, for anything that is not a valid request.
    """
    header, binary = _split(body, json_length)
    document = _load_json(header)
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidRequestError(f"id: expected a string, got {_kind(request_id)}")
    parameters = _parameters(document.get("parameters"), at="parameters")
    raw_inputs = document.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise InvalidRequestError("inputs: expected a non-empty list of input tensors")
    reader = _BinaryReader(binary)
    inputs = [_input(raw, f"inputs[{i}]", reader) for i, raw in enumerate(raw_inputs)]
    reader.check_consumed()
    check_unique_names([tensor.name for tensor in inputs])
    return InferenceRequest(
        id=request_id,
        inputs=inputs,
        outputs=_requested_outputs(document.get("outputs")),
        parameters=parameters,
        timeout_seconds=timeout_of(parameters),
    )


def _split(body: bytes, json_length: int | None) -> tuple[bytes, bytes]:
    if json_length is None:
        return body, b""
    if not 0 < json_length <= len(body):
        raise InvalidRequestError(
            f"Inference-Header-Content-Length: {json_length} does not fit a body of "
            f"{len(body)} bytes"
        )
    return body[:json_length], body[json_length:]


def _load_json(header: bytes) -> dict[str, Any]:
    if not header.strip():
        raise InvalidRequestError("body: empty; expected a JSON inference request")
    try:
        document = orjson.loads(header)
    except orjson.JSONDecodeError as error:
        raise InvalidRequestError(f"body: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise InvalidRequestError(f"body: expected a JSON object, got {_kind(document)}")
    return document


def _parameters(raw: object, *, at: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidRequestError(f"{at}: expected an object, got {_kind(raw)}")
    return raw


def _requested_outputs(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidRequestError(f"outputs: expected a list, got {_kind(raw)}")
    names = []
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise InvalidRequestError(f"outputs[{i}].name: expected a non-empty string")
        names.append(name)
    return requested_outputs(names)


def _input(raw: object, at: str, reader: _BinaryReader) -> InputTensor:
    if not isinstance(raw, dict):
        raise InvalidRequestError(f"{at}: expected an object, got {_kind(raw)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(f"{at}.name: expected a non-empty string")
    dtype = dtype_of(raw.get("datatype"), at=f"{at}.datatype")
    datatype: str = raw["datatype"]  # a known datatype name: dtype_of checked it
    shape = check_shape(raw.get("shape"), at=f"{at}.shape")
    size = math.prod(shape)
    parameters = _parameters(raw.get("parameters"), at=f"{at}.parameters")
    if "binary_data_size" in parameters:
        if "data" in raw:
            raise InvalidRequestError(f"{at}: has both data and parameters.binary_data_size")
        flat = reader.read(parameters["binary_data_size"], datatype, size, at=at)
    elif "data" in raw:
        flat = _decode_json_data(raw["data"], datatype, dtype, at=f"{at}.data")
    else:
        raise InvalidRequestError(f"{at}.data: missing")
    if flat.size != size:
        raise InvalidRequestError(
            f"{at}: shape {list(shape)} needs {size} elements, data has {flat.size}"
        )
    return InputTensor(name=name, datatype=datatype, shape=shape, data=flat.reshape(shape))


def _decode_json_data(
    raw: object, datatype: str, dtype: np.dtype[Any], *, at: str
) -> np.ndarray[Any, Any]:
    if not isinstance(raw, list):
        raw = [raw]  # a scalar is a one-element tensor
    try:
        values = np.array(raw, dtype=object if datatype == "BYTES" else None)
    except ValueError:
        raise InvalidRequestError(f"{at}: nested lists of unequal lengths") from None
    if datatype == "BYTES":
        if not all(isinstance(value, str) for value in values.flat):
            raise InvalidRequestError(f"{at}: BYTES elements must be strings")
        return values.ravel()
    return _to_numbers(values.ravel(), raw, datatype, dtype, at=at)


def _to_numbers(
    values: np.ndarray[Any, Any], raw: list[Any], datatype: str, dtype: np.dtype[Any], *, at: str
) -> np.ndarray[Any, Any]:
    kind = values.dtype.kind
    if datatype == "BOOL":
        if kind != "b" and values.size:
            raise InvalidRequestError(f"{at}: BOOL elements must be true or false")
        return values.astype(dtype, copy=False)
    if kind == "O" and dtype.kind == "f":
        values = _nulls_as_nan(values, datatype, at=at)
        kind = "f"
    if kind not in "biuf" and values.size:
        raise InvalidRequestError(f"{at}: {datatype} elements must be numbers")
    if dtype.kind in "iu" and values.size:
        if kind == "f" and not (np.isfinite(values).all() and (values == np.round(values)).all()):
            raise InvalidRequestError(f"{at}: {datatype} elements must be whole numbers")
        if kind == "f" and np.abs(values).max() >= 2**53:
            return _large_integers(raw, datatype, dtype, at=at)
        info = np.iinfo(dtype)
        if values.min() < info.min or values.max() > info.max:
            raise InvalidRequestError(
                f"{at}: {datatype} elements must lie in [{info.min}, {info.max}]"
            )
    if values.dtype == dtype:
        return values
    with np.errstate(over="ignore"):
        return values.astype(dtype, copy=False)


def _nulls_as_nan(values: np.ndarray[Any, Any], datatype: str, *, at: str) -> np.ndarray[Any, Any]:
    """Floats with JSON nulls among them (missing values): nulls become NaN."""
    if not all(
        value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        for value in values
    ):
        raise InvalidRequestError(f"{at}: {datatype} elements must be numbers (or null)")
    return np.array([np.nan if value is None else value for value in values], dtype=np.float64)


def _large_integers(
    raw: list[Any], datatype: str, dtype: np.dtype[Any], *, at: str
) -> np.ndarray[Any, Any]:
    """Integers beyond float64's exact range, which numpy read as floats: take them as ints."""
    exact = [int(value) for value in np.array(raw, dtype=object).ravel()]
    info = np.iinfo(dtype)
    if min(exact) < info.min or max(exact) > info.max:
        raise InvalidRequestError(f"{at}: {datatype} elements must lie in [{info.min}, {info.max}]")
    return np.array(exact, dtype=dtype)


class _BinaryReader:
    """Reads binary tensors from the bytes after the JSON header, in order."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._offset = 0

    def read(self, raw_size: object, datatype: str, size: int, *, at: str) -> np.ndarray[Any, Any]:
        if isinstance(raw_size, bool) or not isinstance(raw_size, int) or raw_size < 0:
            raise InvalidRequestError(f"{at}.parameters.binary_data_size: expected a byte count")
        end = self._offset + raw_size
        if end > len(self._data):
            raise InvalidRequestError(
                f"{at}: binary_data_size {raw_size} runs past the end of the body "
                "(is the Inference-Header-Content-Length header set?)"
            )
        chunk = self._data[self._offset : end]
        self._offset = end
        return decode_raw(chunk, datatype, size, at=at, what="binary_data_size")

    def check_consumed(self) -> None:
        if self._offset != len(self._data):
            extra = len(self._data) - self._offset
            raise InvalidRequestError(f"body: {extra} bytes after the last binary tensor")


def _kind(value: object) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)
