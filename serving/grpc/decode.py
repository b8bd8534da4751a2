"""From a gRPC ``ModelInferRequest`` to the server's :class:`InferenceRequest`.

Tensors come either in each input's typed ``contents`` (the field of their datatype) or all in
``raw_input_contents`` (one little-endian, row-major blob per input, in input order; BYTES as
4-byte length-prefixed elements), never mixed. The checks and their messages are those of the
REST decoder (:mod:`serving.protocol.tensors`); locations name the protobuf fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from serving.errors import InvalidRequestError
from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.protocol.datatypes import dtype_of
from serving.protocol.requests import InferenceRequest, InputTensor
from serving.protocol.tensors import (
    check_shape,
    check_unique_names,
    decode_raw,
    requested_outputs,
    timeout_of,
)

__all__ = ["CONTENTS_FIELDS", "decode_request", "parameter_values"]

ParameterValue = bool | int | str | float

CONTENTS_FIELDS: dict[str, str] = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
"""The ``InferTensorContents`` field of each datatype (FP16 has none: it travels raw)."""

_FIELD_DTYPES: dict[str, np.dtype[Any]] = {
    "bool_contents": np.dtype(np.bool_),
    "int_contents": np.dtype(np.int32),
    "int64_contents": np.dtype(np.int64),
    "uint_contents": np.dtype(np.uint32),
    "uint64_contents": np.dtype(np.uint64),
    "fp32_contents": np.dtype(np.float32),
    "fp64_contents": np.dtype(np.float64),
}


def decode_request(
    message: pb.ModelInferRequest, *, deadline_seconds: float | None = None
) -> InferenceRequest:
    """Decode ``message``; ``deadline_seconds`` is the time the client's call has left.

    The request's deadline is the sooner of the call's and the ``timeout`` parameter's.

    Raises
    ------
    InvalidRequestError
        With the field and the problem, for anything that is not a valid request.
    """
    parameters = parameter_values(message.parameters, at="parameters")
    inputs = message.inputs
    if not inputs:
        raise InvalidRequestError("inputs: expected a non-empty list of input tensors")
    raw = message.raw_input_contents
    if raw and len(raw) != len(inputs):
        raise InvalidRequestError(
            f"raw_input_contents: {len(raw)} entries for {len(inputs)} inputs; "
            "send one per input, in input order"
        )
    decoded = [_input(tensor, i, raw[i] if raw else None) for i, tensor in enumerate(inputs)]
    check_unique_names([tensor.name for tensor in decoded])
    timeout = timeout_of(parameters)
    if deadline_seconds is not None:
        timeout = deadline_seconds if timeout is None else min(timeout, deadline_seconds)
    return InferenceRequest(
        id=message.id or None,
        inputs=decoded,
        outputs=_outputs(message),
        parameters=parameters,
        timeout_seconds=timeout,
    )


def parameter_values(
    parameters: Mapping[str, pb.InferParameter], *, at: str
) -> dict[str, ParameterValue]:
    """Request parameters as plain values."""
    values: dict[str, ParameterValue] = {}
    for key, parameter in parameters.items():
        choice = parameter.WhichOneof("parameter_choice")
        if choice is None:
            raise InvalidRequestError(f"{at}[{key!r}]: no value set")
        values[key] = getattr(parameter, choice)
    return values


def _input(
    tensor: pb.ModelInferRequest.InferInputTensor, index: int, raw: bytes | None
) -> InputTensor:
    at = f"inputs[{index}]"
    name = tensor.name
    if not name:
        raise InvalidRequestError(f"{at}.name: expected a non-empty string")
    datatype = tensor.datatype
    dtype_of(datatype, at=f"{at}.datatype")
    shape = check_shape(list(tensor.shape), at=f"{at}.shape")
    size = math.prod(shape)
    if raw is not None:
        if tensor.contents.ListFields():
            raise InvalidRequestError(
                f"{at}.contents: must be empty when the request uses raw_input_contents"
            )
        flat = decode_raw(raw, datatype, size, at=at, what=f"raw_input_contents[{index}]")
    else:
        flat = _typed(tensor.contents, datatype, at=f"{at}.contents")
    if flat.size != size:
        raise InvalidRequestError(
            f"{at}: shape {list(shape)} needs {size} elements, data has {flat.size}"
        )
    return InputTensor(name=name, datatype=datatype, shape=shape, data=flat.reshape(shape))


def _typed(contents: pb.InferTensorContents, datatype: str, *, at: str) -> np.ndarray[Any, Any]:
    field = CONTENTS_FIELDS.get(datatype)
    if field is None:
        raise InvalidRequestError(
            f"{at}: {datatype} has no typed contents field; send it in raw_input_contents"
        )
    others = [f.name for f, _ in contents.ListFields() if f.name != field]
    if others:
        raise InvalidRequestError(
            f"{at}: the elements of a {datatype} tensor go in {field}, got {', '.join(others)}"
        )
    values = getattr(contents, field)
    if datatype == "BYTES":
        return _texts(values, at=at)
    wide = np.array(values, dtype=_FIELD_DTYPES[field])
    dtype = dtype_of(datatype, at=at)
    if dtype.itemsize < wide.dtype.itemsize and wide.size:
        info = np.iinfo(dtype)
        if wide.min() < info.min or wide.max() > info.max:
            raise InvalidRequestError(
                f"{at}: {datatype} elements must lie in [{info.min}, {info.max}]"
            )
    return wide.astype(dtype, copy=False)


def _texts(values: Any, *, at: str) -> np.ndarray[Any, Any]:
    array = np.empty(len(values), dtype=object)
    try:
        array[:] = [value.decode("utf-8") for value in values]
    except UnicodeDecodeError:
        raise InvalidRequestError(f"{at}: BYTES element is not UTF-8 text") from None
    return array


def _outputs(message: pb.ModelInferRequest) -> tuple[str, ...] | None:
    names = []
    for i, output in enumerate(message.outputs):
        if not output.name:
            raise InvalidRequestError(f"outputs[{i}].name: expected a non-empty string")
        names.append(output.name)
    return requested_outputs(names)
