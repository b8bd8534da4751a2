"""Inference results, and their encoding (with metadata and errors) as OIP v2 JSON bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from serving.protocol.datatypes import datatype_of

__all__ = [
    "InferenceResult",
    "encode_error",
    "encode_json",
    "encode_response",
    "encode_result",
    "output_tensor",
    "wire_array",
]

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


@dataclass(frozen=True, slots=True)
class InferenceResult:
    """A request's answer, before a transport encodes it (REST: JSON, gRPC: protobuf)."""

    model_name: str
    model_version: str
    request_id: str
    """The client's id, or the one the server gave the request."""
    outputs: dict[str, NDArray[Any]]
    """The requested outputs by name."""


def wire_array(array: np.ndarray[Any, Any]) -> tuple[str, np.ndarray[Any, Any] | list[str]]:
    """An output as it travels: its OIP datatype and its elements, flat and row-major, as a
    contiguous native-order array (BYTES: a list of ``str``).

    Complex values travel as their real part (FP64), big-endian arrays in native order.
    """
    datatype = datatype_of(array)
    if datatype == "BYTES":
        return datatype, [value if isinstance(value, str) else str(value) for value in array.flat]
    if array.dtype.kind == "c":
        return datatype, np.ascontiguousarray(array.real, dtype=np.float64).ravel()
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("="))
    return datatype, np.ascontiguousarray(array).ravel()


def output_tensor(name: str, array: np.ndarray[Any, Any]) -> dict[str, Any]:
    """One response output: name, shape, datatype and flat row-major data."""
    datatype, data = wire_array(array)
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}


def encode_response(
    *,
    model_name: str,
    model_version: str,
    request_id: str,
    outputs: Mapping[str, np.ndarray[Any, Any]],
) -> bytes:
    """The inference response body."""
    return orjson.dumps(
        {
            "model_name": model_name,
            "model_version": model_version,
            "id": request_id,
            "parameters": {},
            "outputs": [output_tensor(name, array) for name, array in outputs.items()],
        },
        option=_NUMPY,
    )


def encode_result(result: InferenceResult) -> bytes:
    """The inference response body of a request's result."""
    return encode_response(
        model_name=result.model_name,
        model_version=result.model_version,
        request_id=result.request_id,
        outputs=result.outputs,
    )


def encode_json(document: object) -> bytes:
    """Any JSON document (numpy arrays and scalars allowed)."""
    return orjson.dumps(document, option=_NUMPY)


def encode_error(message: str) -> bytes:
    """The protocol's error body ``{"error": "..."}``."""
    return orjson.dumps({"error": message})
