"""Encoding inference responses, metadata and errors as OIP v2 JSON bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from serving.protocol.datatypes import datatype_of

__all__ = ["encode_error", "encode_json", "encode_response", "output_tensor"]

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def output_tensor(name: str, array: np.ndarray[Any, Any]) -> dict[str, Any]:
    """One response output: name, shape, datatype and flat row-major data."""
    datatype = datatype_of(array)
    if datatype == "BYTES":
        data: Any = [value if isinstance(value, str) else str(value) for value in array.flat]
    elif array.dtype.kind == "c" or array.dtype.byteorder == ">":
        data = np.ascontiguousarray(array.real, dtype=np.float64).ravel()
    else:
        data = np.ascontiguousarray(array).ravel()
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


def encode_json(document: object) -> bytes:
    """Any JSON document (numpy arrays and scalars allowed)."""
    return orjson.dumps(document, option=_NUMPY)


def encode_error(message: str) -> bytes:
    """The protocol's error body ``{"error": "..."}``."""
    return orjson.dumps({"error": message})
