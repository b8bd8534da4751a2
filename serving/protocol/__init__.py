"""The Open Inference Protocol v2 on the wire: datatypes, request decoding, response encoding."""

from __future__ import annotations

from serving.protocol.datatypes import DATATYPES, datatype_of, dtype_of
from serving.protocol.requests import InferenceRequest, InputTensor, parse_request
from serving.protocol.responses import encode_error, encode_json, encode_response

__all__ = [
    "DATATYPES",
    "InferenceRequest",
    "InputTensor",
    "datatype_of",
    "dtype_of",
    "encode_error",
    "encode_json",
    "encode_response",
    "parse_request",
]
