"""gRPC messages to and from the server's requests and results (serving.grpc.decode, .encode).

The reference for every decoded tensor is the REST decoder: the same tensor sent as JSON must
decode to the same array, and the same mistake must be refused with the same words.
"""

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
from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc.decode import decode_request, parameter_values
from serving.grpc.encode import encode_metadata, encode_result
from serving.protocol import DATATYPES, parse_request
from serving.protocol.responses import InferenceResult

Typed = dict[str, list[Any]]


def typed_request(
    *tensors: tuple[str, str, list[int], Typed], **fields: Any
) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="m", **fields)
    for name, datatype, shape, contents in tensors:
        request.inputs.add(
            name=name, datatype=datatype, shape=shape, contents=pb.InferTensorContents(**contents)
        )
    return request


def raw_request(*tensors: tuple[str, str, list[int], bytes]) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="m")
    for name, datatype, shape, data in tensors:
        request.inputs.add(name=name, datatype=datatype, shape=shape)
        request.raw_input_contents.append(data)
    return request


def rest_tensor(
    name: str, datatype: str, shape: list[int], data: list[Any]
) -> np.ndarray[Any, Any]:
    body = {"inputs": [{"name": name, "datatype": datatype, "shape": shape, "data": data}]}
    return parse_request(orjson.dumps(body)).inputs[0].data


@pytest.mark.parametrize(
    ("datatype", "field", "values"),
    [
        ("BOOL", "bool_contents", [True, False]),
        ("INT8", "int_contents", [-128, 127]),
        ("INT16", "int_contents", [-3, 300]),
        ("INT32", "int_contents", [-(2**31), 2**31 - 1]),
        ("INT64", "int64_contents", [-(2**63), 2**63 - 1]),
        ("UINT8", "uint_contents", [0, 255]),
        ("UINT16", "uint_contents", [0, 65535]),
        ("UINT32", "uint_contents", [0, 2**32 - 1]),
        ("UINT64", "uint64_contents", [0, 2**64 - 1]),
        ("FP32", "fp32_contents", [1.5, -2.25]),
        ("FP64", "fp64_contents", [0.1, -1e300]),
    ],
)
def test_typed_raw_and_json_tensors_decode_to_the_same_array(
    datatype: str, field: str, values: list[Any]
) -> None:
    expected = rest_tensor("x", datatype, [2], values)
    typed = decode_request(typed_request(("x", datatype, [2], {field: values}))).inputs[0]
    little = np.array(values, dtype=DATATYPES[datatype].newbyteorder("<")).tobytes()
    raw = decode_request(raw_request(("x", datatype, [2], little))).inputs[0]

    for tensor in (typed, raw):
        assert tensor.name == "x"
        assert tensor.datatype == datatype
        assert tensor.data.dtype == expected.dtype == DATATYPES[datatype]
        np.testing.assert_array_equal(tensor.data, expected)


def test_bytes_travel_typed_or_length_prefixed_and_decode_to_text() -> None:
    words = ["red", "vert", "été", ""]
    encoded = [word.encode() for word in words]
    raw = b"".join(struct.pack("<I", len(e)) + e for e in encoded)

    typed = decode_request(typed_request(("c", "BYTES", [4], {"bytes_contents": encoded})))
    from_raw = decode_request(raw_request(("c", "BYTES", [2, 2], raw)))

    assert typed.inputs[0].data.tolist() == words
    assert from_raw.inputs[0].data.tolist() == [words[:2], words[2:]]
    assert typed.inputs[0].data.dtype == rest_tensor("c", "BYTES", [4], words).dtype == object


def test_fp16_travels_raw() -> None:
    halves = np.array([0.5, -2.0], dtype="<f2")
    decoded = decode_request(raw_request(("h", "FP16", [2], halves.tobytes()))).inputs[0].data
    assert decoded.dtype == np.float16
    np.testing.assert_array_equal(decoded, halves)


def test_id_outputs_parameters_and_timeout_are_read() -> None:
    request = typed_request(("x", "FP64", [1, 1], {"fp64_contents": [1.0]}), id="req-7")
    request.outputs.add(name="predict_proba")
    request.outputs.add(name="predict_proba")
    request.parameters["timeout"].int64_param = 250_000
    request.parameters["custom"].string_param = "kept"

    decoded = decode_request(request)

    assert decoded.id == "req-7"
    assert decoded.outputs == ("predict_proba",)
    assert decoded.timeout_seconds == pytest.approx(0.25)
    assert decoded.parameters == {"timeout": 250_000, "custom": "kept"}


def test_an_empty_id_and_no_outputs_mean_none_given() -> None:
    decoded = decode_request(typed_request(("x", "FP64", [1], {"fp64_contents": [1.0]})))
    assert decoded.id is None
    assert decoded.outputs is None
    assert decoded.timeout_seconds is None


@pytest.mark.parametrize(
    ("timeout_us", "deadline", "expected"),
    [(None, 2.0, 2.0), (500_000, 2.0, 0.5), (5_000_000, 2.0, 2.0), (500_000, None, 0.5)],
)
def test_the_sooner_of_timeout_parameter_and_call_deadline_wins(
    timeout_us: int | None, deadline: float | None, expected: float
) -> None:
    request = typed_request(("x", "FP64", [1], {"fp64_contents": [1.0]}))
    if timeout_us is not None:
        request.parameters["timeout"].int64_param = timeout_us
    decoded = decode_request(request, deadline_seconds=deadline)
    assert decoded.timeout_seconds == pytest.approx(expected)


def test_every_parameter_kind_is_read() -> None:
    parameters = {
        "b": pb.InferParameter(bool_param=True),
        "i": pb.InferParameter(int64_param=-4),
        "s": pb.InferParameter(string_param="x"),
        "d": pb.InferParameter(double_param=0.5),
        "u": pb.InferParameter(uint64_param=2**64 - 1),
    }
    assert parameter_values(parameters, at="parameters") == {
        "b": True,
        "i": -4,
        "s": "x",
        "d": 0.5,
        "u": 2**64 - 1,
    }


def _with(request: pb.ModelInferRequest, change: Any) -> pb.ModelInferRequest:
    change(request)
    return request


FP64 = ("x", "FP64", [2], {"fp64_contents": [1.0, 2.0]})


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (pb.ModelInferRequest(model_name="m"), "inputs: expected a non-empty list"),
        (typed_request(("", "FP64", [1], {"fp64_contents": [1.0]})), "inputs[0].name"),
        (
            typed_request(("x", "BF16", [1], {})),
            "inputs[0].datatype: unsupported datatype 'BF16'",
        ),
        (typed_request(("x", "FP64", [], {})), "inputs[0].shape: expected a list of 1 to 8"),
        (
            typed_request(("x", "FP64", [-1], {"fp64_contents": [1.0]})),
            "inputs[0].shape: expected a list of 1 to 8 non-negative integers, got [-1]",
        ),
        (
            typed_request(("x", "FP64", [3], {"fp64_contents": [1.0, 2.0]})),
            "inputs[0]: shape [3] needs 3 elements, data has 2",
        ),
        (
            typed_request(("x", "FP64", [2], {"fp32_contents": [1.0, 2.0]})),
            "inputs[0].contents: the elements of a FP64 tensor go in fp64_contents, "
            "got fp32_contents",
        ),
        (
            typed_request(("x", "INT8", [1], {"int_contents": [300]})),
            "inputs[0].contents: INT8 elements must lie in [-128, 127]",
        ),
        (
            typed_request(("x", "UINT16", [1], {"uint_contents": [70000]})),
            "UINT16 elements must lie in [0, 65535]",
        ),
        (
            typed_request(("x", "FP16", [1], {})),
            "inputs[0].contents: FP16 has no typed contents field; send it in raw_input_contents",
        ),
        (
            typed_request(("x", "BYTES", [1], {"bytes_contents": [b"\xff"]})),
            "inputs[0].contents: BYTES element is not UTF-8 text",
        ),
        (typed_request(FP64, FP64), "inputs[1].name: 'x' is given twice"),
        (
            _with(typed_request(FP64), lambda r: r.outputs.add(name="")),
            "outputs[0].name: expected a non-empty string",
        ),
        (
            _with(
                typed_request(FP64), lambda r: setattr(r.parameters["timeout"], "int64_param", -1)
            ),
            "parameters.timeout: expected a positive number of microseconds, got -1",
        ),
        (
            _with(typed_request(FP64), lambda r: r.parameters["flag"].Clear()),
            "parameters['flag']: no value set",
        ),
        (
            raw_request(("x", "FP64", [2], b"\x00" * 8)),
            "inputs[0]: raw_input_contents[0] is 8 bytes, the shape needs 16",
        ),
        (
            _with(raw_request(("x", "FP64", [1], b"\x00" * 8)), lambda r: r.inputs.add(name="y")),
            "raw_input_contents: 1 entries for 2 inputs; send one per input, in input order",
        ),
        (
            _with(
                raw_request(("x", "FP64", [1], b"\x00" * 8)),
                lambda r: r.inputs[0].contents.fp64_contents.append(1.0),
            ),
            "inputs[0].contents: must be empty when the request uses raw_input_contents",
        ),
        (
            raw_request(("x", "BYTES", [1], b"\x09\x00\x00\x00ab")),
            "inputs[0]: BYTES element runs past its tensor",
        ),
        (raw_request(("x", "BYTES", [1], b"\x02\x00")), "inputs[0]: truncated BYTES element"),
    ],
)
def test_malformed_requests_name_the_field_and_the_problem(
    request_: pb.ModelInferRequest, message: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_request(request_)
    assert message in str(caught.value)


def test_the_same_mistake_gets_the_same_words_as_over_rest() -> None:
    with pytest.raises(InvalidRequestError) as over_rest:
        rest_tensor("x", "FP64", [3], [1.0, 2.0])
    with pytest.raises(InvalidRequestError) as over_grpc:
        decode_request(typed_request(("x", "FP64", [3], {"fp64_contents": [1.0, 2.0]})))
    assert str(over_grpc.value) == str(over_rest.value)


def result(**outputs: np.ndarray[Any, Any]) -> InferenceResult:
    return InferenceResult(model_name="m", model_version="3", request_id="r-1", outputs=outputs)


def test_typed_results_fill_the_field_of_each_datatype() -> None:
    labels = np.array(["a", "b"], dtype=object)
    encoded = encode_result(
        result(predict=np.array([1, 0]), proba=np.array([[0.25, 0.75], [1.0, 0.0]]), label=labels),
        raw=False,
    )

    assert (encoded.model_name, encoded.model_version, encoded.id) == ("m", "3", "r-1")
    assert not encoded.raw_output_contents
    predict, proba, label = encoded.outputs
    assert (predict.name, predict.datatype, list(predict.shape)) == ("predict", "INT64", [2])
    assert list(predict.contents.int64_contents) == [1, 0]
    assert (proba.datatype, list(proba.shape)) == ("FP64", [2, 2])
    assert list(proba.contents.fp64_contents) == [0.25, 0.75, 1.0, 0.0]
    assert (label.datatype, list(label.contents.bytes_contents)) == ("BYTES", [b"a", b"b"])


def test_raw_results_are_little_endian_and_length_prefixed() -> None:
    big_endian = np.array([1.5, -2.0], dtype=">f8")
    encoded = encode_result(result(y=big_endian, s=np.array(["hé"], dtype=object)), raw=True)

    assert not encoded.outputs[0].HasField("contents")
    assert encoded.outputs[0].datatype == "FP64"
    assert encoded.raw_output_contents[0] == np.array([1.5, -2.0], dtype="<f8").tobytes()
    assert encoded.raw_output_contents[1] == struct.pack("<I", 3) + "hé".encode()


def test_an_fp16_output_makes_the_whole_response_raw() -> None:
    encoded = encode_result(
        result(h=np.array([0.5], dtype=np.float16), y=np.array([1.0])), raw=False
    )
    assert [o.datatype for o in encoded.outputs] == ["FP16", "FP64"]
    assert len(encoded.raw_output_contents) == 2
    assert not any(o.HasField("contents") for o in encoded.outputs)


_NUMERIC = ["BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64",
            "FP16", "FP32", "FP64"]  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(_NUMERIC).flatmap(
        lambda name: st.tuples(
            st.just(name),
            hnp.arrays(
                DATATYPES[name],
                hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
                elements={"allow_nan": False} if name.startswith("FP") else None,
            ),
        )
    ),
    st.booleans(),
)
def test_a_result_sent_back_as_a_request_decodes_to_the_same_array(
    case: tuple[str, np.ndarray[Any, Any]], raw: bool
) -> None:
    name, array = case
    encoded = encode_result(result(x=array), raw=raw)
    output = encoded.outputs[0]
    assert output.datatype == name
    request = pb.ModelInferRequest(model_name="m")
    request.inputs.add(
        name=output.name, datatype=output.datatype, shape=output.shape, contents=output.contents
    )
    request.raw_input_contents.extend(encoded.raw_output_contents)

    decoded = decode_request(request).inputs[0].data

    assert decoded.dtype == array.dtype
    np.testing.assert_array_equal(decoded, array)


def test_model_metadata_becomes_the_message() -> None:
    document = {
        "name": "iris",
        "versions": ["1"],
        "platform": "sklearn_joblib",
        "inputs": [{"name": "a", "datatype": "FP64", "shape": [-1]}],
        "outputs": [{"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]}],
        "parameters": {"roles": {"probabilities": "predict_proba"}},
    }
    message = encode_metadata(document)
    assert (message.name, list(message.versions), message.platform) == (
        "iris",
        ["1"],
        "sklearn_joblib",
    )
    assert [(t.name, t.datatype, list(t.shape)) for t in message.inputs] == [("a", "FP64", [-1])]
    assert [(t.name, list(t.shape)) for t in message.outputs] == [("predict_proba", [-1, 3])]
