"""From the server's answers to gRPC messages: inference responses and model metadata.

Outputs go back in typed ``contents`` when the request came typed, and in
``raw_output_contents`` when it came raw (as MLServer does; ``tritonclient.grpc`` sends raw
and reads only raw numeric outputs). A datatype without a typed field (FP16) makes the whole
response raw, since the protocol forbids mixing the two forms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc.decode import CONTENTS_FIELDS
from serving.protocol.datatypes import DATATYPES
from serving.protocol.responses import InferenceResult, wire_array
from serving.protocol.tensors import encode_bytes

__all__ = ["encode_metadata", "encode_result"]


def encode_result(result: InferenceResult, *, raw: bool) -> pb.ModelInferResponse:
    """The response to a request; ``raw`` when it sent ``raw_input_contents``."""
    response = pb.ModelInferResponse(
        model_name=result.model_name,
        model_version=result.model_version,
        id=result.request_id,
    )
    outputs = [(name, array, *wire_array(array)) for name, array in result.outputs.items()]
    raw = raw or any(datatype not in CONTENTS_FIELDS for _, _, datatype, _ in outputs)
    for name, array, datatype, data in outputs:
        tensor = response.outputs.add(name=name, datatype=datatype, shape=array.shape)
        if raw:
            response.raw_output_contents.append(_raw(datatype, data))
        elif isinstance(data, list):  # BYTES
            tensor.contents.bytes_contents.extend(value.encode("utf-8") for value in data)
        else:
            getattr(tensor.contents, CONTENTS_FIELDS[datatype]).extend(data.tolist())
    return response


def encode_metadata(document: dict[str, Any]) -> pb.ModelMetadataResponse:
    """A model's metadata (:meth:`~serving.model.LoadedModel.metadata`) as a message."""
    return pb.ModelMetadataResponse(
        name=document["name"],
        versions=document["versions"],
        platform=document["platform"],
        inputs=[_tensor(spec) for spec in document["inputs"]],
        outputs=[_tensor(spec) for spec in document["outputs"]],
    )


def _raw(datatype: str, data: np.ndarray[Any, Any] | list[str]) -> bytes:
    if datatype == "BYTES":
        return encode_bytes(data)
    little = DATATYPES[datatype].newbyteorder("<")
    return np.asarray(data).astype(little, copy=False).tobytes()


def _tensor(spec: dict[str, Any]) -> pb.ModelMetadataResponse.TensorMetadata:
    return pb.ModelMetadataResponse.TensorMetadata(
        name=spec["name"], datatype=spec["datatype"], shape=spec["shape"]
    )
