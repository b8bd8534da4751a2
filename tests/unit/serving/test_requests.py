from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from serving.errors import InvalidRequestError
from serving.protocol import DATATYPES, parse_request
from serving.protocol.responses import encode_response


def body(*inputs: dict[str, Any], **extra: Any) -> bytes:
    return orjson.dumps({"inputs": list(inputs), **extra})


def tensor(data: Any, shape: list[int], datatype: str = "FP64", name: str = "x") -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def test_flat_and_nested_data_decode_to_the_same_array() -> None:
    flat = parse_request(body(tensor([1, 2, 3, 4, 5, 6], [2, 3])))
    nested = parse_request(body(tensor([[1, 2, 3], [4, 5, 6]], [2, 3])))
    np.testing.assert_array_equal(flat.inputs[0].data, nested.inputs[0].data)
    assert flat.inputs[0].data.dtype == np.float64
    assert flat.inputs[0].data.shape == (2, 3)


def test_null_is_a_missing_float() -> None:
    decoded = parse_request(body(tensor([1.5, None], [2], "FP32"))).inputs[0].data
    assert decoded.dtype == np.float32
    assert decoded[0] == 1.5
    assert np.isnan(decoded[1])


def test_id_parameters_outputs_and_timeout_are_read() -> None:
    request = parse_request(
        body(
            tensor([1.0], [1, 1]),
            id="req-7",
            parameters={"timeout": 250_000, "custom": "kept"},
            outputs=[{"name": "predict_proba"}, {"name": "predict_proba"}],
        )
    )
    assert request.id == "req-7"
    assert request.outputs == ("predict_proba",)
    assert request.timeout_seconds == pytest.approx(0.25)
    assert request.parameters["custom"] == "kept"


@pytest.mark.parametrize(
    ("datatype", "data", "expected"),
    [
        ("BOOL", [True, False], np.array([True, False])),
        ("INT8", [-128, 127], np.array([-128, 127], dtype=np.int8)),
        ("UINT16", [0, 65535], np.array([0, 65535], dtype=np.uint16)),
        ("INT64", [2.0, -3.0], np.array([2, -3], dtype=np.int64)),
        ("UINT64", [2**64 - 1, 0], np.array([2**64 - 1, 0], dtype=np.uint64)),
        ("FP16", [0.5, 2.0], np.array([0.5, 2.0], dtype=np.float16)),
        ("FP32", [1, 2.5], np.array([1, 2.5], dtype=np.float32)),
        ("BYTES", ["a", "é"], np.array(["a", "é"], dtype=object)),
    ],
)
def test_each_datatype_decodes_to_its_numpy_type(
    datatype: str, data: list[Any], expected: Any
) -> None:
    decoded = parse_request(body(tensor(data, [2], datatype))).inputs[0].data
    assert decoded.dtype == DATATYPES[datatype]
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "body: empty"),
        (b"[1]", "body: expected a JSON object, got a list"),
        (b"{nope", "body: not valid JSON"),
        (body(), "inputs: expected a non-empty list"),
        (orjson.dumps({"inputs": "x"}), "inputs: expected a non-empty list"),
        (body(tensor([1], [1]), id=5), "id: expected a string, got int"),
        (body({"shape": [1], "datatype": "FP64", "data": [1]}), "inputs[0].name"),
        (body(tensor([1], [1], "BF16")), "inputs[0].datatype: unsupported datatype 'BF16'"),
        (body(tensor([1], [-1])), "inputs[0].shape: expected a list of 1 to 8 non-negative"),
        (body(tensor([1], "1")), "inputs[0].shape"),  # type: ignore[arg-type]
        (body(tensor([1, 2], [3])), "inputs[0]: shape [3] needs 3 elements, data has 2"),
        (body(tensor([[1, 2], [3]], [2, 2])), "inputs[0].data: nested lists of unequal lengths"),
        (body(tensor(["1.5"], [1])), "inputs[0].data: FP64 elements must be numbers"),
        (body(tensor([None, "a"], [2])), "inputs[0].data: FP64 elements must be numbers"),
        (body(tensor([None], [1], "INT32")), "inputs[0].data: INT32 elements must be numbers"),
        (body(tensor([2**63, -1], [2], "UINT64")), "UINT64 elements must lie in"),
        (body(tensor([1, 0], [2], "BOOL")), "BOOL elements must be true or false"),
        (body(tensor([1.5], [1], "INT32")), "INT32 elements must be whole numbers"),
        (body(tensor([300], [1], "INT8")), "INT8 elements must lie in [-128, 127]"),
        (body(tensor([-1], [1], "UINT8")), "UINT8 elements must lie in [0, 255]"),
        (body(tensor([1], [1], "BYTES")), "BYTES elements must be strings"),
        (body({"name": "x", "shape": [1], "datatype": "FP64"}), "inputs[0].data: missing"),
        (body(tensor([1], [1]), tensor([2], [1])), "inputs[1].name: 'x' is given twice"),
        (body(tensor([1], [1]), outputs=[{"nome": "y"}]), "outputs[0].name"),
        (body(tensor([1], [1]), parameters={"timeout": -1}), "parameters.timeout"),
        (body(tensor([1], [1]), parameters=[1]), "parameters: expected an object"),
    ],
)
def test_malformed_requests_name_the_place_and_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_request(raw)
    assert message in str(caught.value)


def binary_body(tensors: list[tuple[str, str, list[int], bytes]]) -> tuple[bytes, int]:
    header = orjson.dumps(
        {
            "inputs": [
                {"name": n, "datatype": d, "shape": s, "parameters": {"binary_data_size": len(b)}}
                for n, d, s, b in tensors
            ]
        }
    )
    return header + b"".join(b for *_, b in tensors), len(header)


def test_binary_tensors_follow_the_json_header_in_input_order() -> None:
    floats = np.array([[1.5, -2.0], [3.25, 4.0]], dtype="<f4")
    strings = b"".join(struct.pack("<I", len(s)) + s for s in (b"hi", b"\xc3\xa9t\xc3\xa9"))
    raw, length = binary_body(
        [
            ("a", "FP32", [2, 2], floats.tobytes()),
            ("b", "BYTES", [2], strings),
            ("c", "BOOL", [2], b"\x01\x00"),
        ]
    )
    request = parse_request(raw, json_length=length)
    np.testing.assert_array_equal(request.inputs[0].data, floats)
    assert request.inputs[1].data.tolist() == ["hi", "été"]
    assert request.inputs[2].data.tolist() == [True, False]


@pytest.mark.parametrize(
    ("tensors", "extra", "message"),
    [
        ([("a", "FP64", [2], b"\x00" * 8)], b"", "binary_data_size is 8 bytes, the shape needs 16"),
        ([("a", "FP64", [1], b"\x00" * 8)], b"\x00", "1 bytes after the last binary tensor"),
        ([("a", "BYTES", [1], b"\x09\x00\x00\x00ab")], b"", "BYTES element runs past its tensor"),
        ([("a", "BYTES", [1], b"\x02\x00\x00\x00\xff\xfe")], b"", "not UTF-8"),
    ],
)
def test_bad_binary_tensors_are_refused(
    tensors: list[tuple[str, str, list[int], bytes]], extra: bytes, message: str
) -> None:
    raw, length = binary_body(tensors)
    with pytest.raises(InvalidRequestError, match=message):
        parse_request(raw + extra, json_length=length)


def test_binary_size_past_the_body_explains_the_header() -> None:
    raw, _ = binary_body([("a", "FP64", [1], b"\x00" * 8)])
    header_only = raw[:-8]
    with pytest.raises(InvalidRequestError, match="Inference-Header-Content-Length"):
        parse_request(header_only, json_length=len(header_only))


def test_header_length_larger_than_the_body_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="does not fit a body of 2 bytes"):
        parse_request(b"{}", json_length=3)


_NUMERIC = ["INT8", "INT16", "INT32", "INT64", "UINT8", "UINT32", "FP32", "FP64", "BOOL"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_NUMERIC).flatmap(lambda name: st.tuples(
    st.just(name),
    hnp.arrays(
        DATATYPES[name],
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
        elements={"allow_nan": False, "allow_infinity": False} if name.startswith("FP") else None,
    ),
)))  # fmt: skip
def test_a_response_tensor_parses_back_to_the_same_array(
    case: tuple[str, np.ndarray[Any, Any]],
) -> None:
    name, array = case
    encoded = orjson.loads(
        encode_response(model_name="m", model_version="1", request_id="r", outputs={"x": array})
    )["outputs"][0]
    assert encoded["datatype"] == name
    decoded = parse_request(body(encoded)).inputs[0].data
    assert decoded.dtype == array.dtype
    np.testing.assert_array_equal(decoded, array)
