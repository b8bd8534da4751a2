"""Request/response pairs of OIP v2, KServe v1 and JSON-path servers, read as records."""

from __future__ import annotations

import gzip
import math
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.extract import Exchange, ExchangeRecords, Parsed, PayloadSpec, extract
from storage import FeatureKind, FeatureSchema, FeatureSpec, ModelHandle, NotFoundError, Task
from storage.batch import pack_batch

NOW = 1_800_000_000.0


@pytest.fixture
def clf() -> ModelHandle:
    return ModelHandle(
        model_id=1,
        model_name="clf",
        task=Task.BINARY_CLASSIFICATION,
        classes=("no", "yes"),
        version_id=1,
        version="1",
        schema=FeatureSchema(
            (
                FeatureSpec("age", FeatureKind.NUMERIC),
                FeatureSpec("country", FeatureKind.CATEGORICAL),
            )
        ),
    )


@pytest.fixture
def reg() -> ModelHandle:
    return ModelHandle(
        model_id=2,
        model_name="reg",
        task=Task.REGRESSION,
        classes=(),
        version_id=2,
        version="3",
        schema=FeatureSchema(
            (FeatureSpec("x", FeatureKind.NUMERIC), FeatureSpec("v", FeatureKind.EMBEDDING, dims=2))
        ),
    )


def call(request: Any, response: Any, status: int | None = 200, **extra: Any) -> Exchange:
    def body(value: Any) -> bytes | None:
        return value if value is None or isinstance(value, bytes) else orjson.dumps(value)

    return Exchange(
        request=body(request),
        response=body(response),
        received_at=NOW,
        request_id="hdr-1",
        latency_seconds=0.004,
        http_status=status,
        **extra,
    )


# The OIP v2 examples of the spec and of MLServer 1.7.1 (serving.md §1.2-1.3).
OIP_MATRIX = {
    "id": "42",
    "inputs": [
        {"name": "input-0", "shape": [2, 2], "datatype": "BYTES", "data": [[41, "fr"], [29, "de"]]}
    ],
}
OIP_ANSWER = {
    "model_name": "clf",
    "id": "42",
    "parameters": {},
    "outputs": [
        {"name": "predict", "shape": [2], "datatype": "INT64", "data": [1, 0],
         "parameters": {"content_type": "np"}},
        {"name": "predict_proba", "shape": [2, 2], "datatype": "FP64",
         "data": [0.2, 0.8, 0.7, 0.3]},
    ],
}  # fmt: skip


def test_oip_v2_matrix_rows_are_features_in_declared_order(clf: ModelHandle) -> None:
    records = extract(call(OIP_MATRIX, OIP_ANSWER), clf)
    assert records == [
        {
            "request_id": "42:0",
            "timestamp": NOW,
            "features": {"age": 41, "country": "fr"},
            "status": "ok",
            "latency_seconds": 0.004,
            "prediction": 1,
            "probabilities": [0.2, 0.8],
        },
        {
            "request_id": "42:1",
            "timestamp": NOW,
            "features": {"age": 29, "country": "de"},
            "status": "ok",
            "latency_seconds": 0.004,
            "prediction": 0,
            "probabilities": [0.7, 0.3],
        },
    ]


def test_oip_v2_flat_data_reads_as_nested(clf: ModelHandle) -> None:
    flat = {"inputs": [{**OIP_MATRIX["inputs"][0], "data": [41, "fr", 29, "de"]}]}  # type: ignore[dict-item]
    nested = extract(call(OIP_MATRIX, OIP_ANSWER), clf)
    assert [r["features"] for r in extract(call(flat, OIP_ANSWER), clf)] == [
        r["features"] for r in nested
    ]


def test_oip_v2_one_tensor_per_feature_and_the_response_id(clf: ModelHandle) -> None:
    request = {
        "inputs": [
            {"name": "country", "shape": [1], "datatype": "BYTES", "data": ["fr"]},
            {"name": "age", "shape": [1, 1], "datatype": "FP64", "data": [[41.5]]},
            {"name": "unrelated", "shape": [1], "datatype": "INT64", "data": [7]},
        ]
    }
    answer = {"model_name": "clf", "id": "mlserver-uuid", "outputs": [
        {"name": "label", "shape": [1, 1], "datatype": "BYTES", "data": ["yes"]}
    ]}  # fmt: skip
    [record] = extract(call(request, answer), clf)
    assert record["request_id"] == "mlserver-uuid"
    assert record["features"] == {"age": 41.5, "country": "fr"}
    assert record["prediction"] == "yes"
    assert "probabilities" not in record


def test_oip_v2_single_probability_output_gives_the_argmax_class(clf: ModelHandle) -> None:
    answer = {"outputs": [{"name": "output-0", "shape": [2, 2], "datatype": "FP32",
                           "data": [[0.9, 0.1], [0.4, 0.6]]}]}  # fmt: skip
    records = extract(call(OIP_MATRIX, answer), clf)
    assert [r["prediction"] for r in records] == ["no", "yes"]
    assert [r["probabilities"] for r in records] == [[0.9, 0.1], [0.4, 0.6]]


def test_oip_v2_outputs_named_in_the_spec(reg: ModelHandle) -> None:
    request = {"inputs": [
        {"name": "x", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]},
        {"name": "v", "shape": [2, 2], "datatype": "FP32", "data": [0.1, 0.2, 0.3, 0.4]},
    ]}  # fmt: skip
    answer = {"outputs": [
        {"name": "mean", "shape": [2], "datatype": "FP64", "data": [10.5, 20.5]},
        {"name": "std", "shape": [2], "datatype": "FP64", "data": [1.0, 1.0]},
    ]}  # fmt: skip
    records = extract(call(request, answer), reg, PayloadSpec(prediction="mean"))
    assert [r["prediction"] for r in records] == [10.5, 20.5]
    assert [r["features"] for r in records] == [
        {"x": 1.0, "v": [0.1, 0.2]},
        {"x": 2.0, "v": [0.3, 0.4]},
    ]
    [missing] = {
        r["error"]
        for r in extract(call(request, answer), reg, PayloadSpec("oip_v2", prediction="nope"))
    }
    assert missing == "response: no output named 'nope'; outputs: mean, std"


def test_oip_v2_matrix_with_an_embedding_is_sliced(reg: ModelHandle) -> None:
    request = {"inputs": [{"name": "in", "shape": [1, 3], "datatype": "FP64", "data": [5, 6, 7]}]}
    answer = {"outputs": [{"name": "predict", "shape": [1], "datatype": "FP64", "data": [0.5]}]}
    [record] = extract(call(request, answer), reg)
    assert record["features"] == {"x": 5, "v": [6, 7]}
    assert record["request_id"] == "hdr-1"


# KServe v1 (collection.md §2): rows as lists in feature order or objects by name.
@pytest.mark.parametrize(
    "request_body",
    [
        {"instances": [[41, "fr"], [29, "de"]]},
        {"instances": [{"age": 41, "country": "fr"}, {"country": "de", "age": 29}]},
        {"inputs": [[41, "fr"], [29, "de"]], "instances": [[0, "xx"]]},
    ],
)
def test_kserve_v1_instances(clf: ModelHandle, request_body: dict[str, Any]) -> None:
    records = extract(call(request_body, {"predictions": ["yes", "no"]}), clf)
    assert [r["features"] for r in records] == [
        {"age": 41, "country": "fr"},
        {"age": 29, "country": "de"},
    ]
    assert [r["prediction"] for r in records] == ["yes", "no"]
    assert [r["request_id"] for r in records] == ["hdr-1:0", "hdr-1:1"]


def test_kserve_v1_probability_rows_and_numbers(clf: ModelHandle, reg: ModelHandle) -> None:
    records = extract(call({"instances": [[1, "a"]]}, {"predictions": [[0.25, 0.75]]}), clf)
    assert records[0]["prediction"] == "yes"
    assert records[0]["probabilities"] == [0.25, 0.75]
    one = extract(call({"instances": [[1.0, [0, 1]]]}, {"predictions": [[3.5]]}), reg)
    assert one[0]["prediction"] == 3.5
    floats = extract(call({"instances": [[1, "a"]]}, {"predictions": [1.0]}), clf)
    assert floats[0]["prediction"] == 1  # an integral float is a class index


def test_json_paths_map_over_lists(clf: ModelHandle) -> None:
    spec = PayloadSpec(
        "json", features="data.rows", prediction="result.label", probabilities="result.p",
        request_id="meta.trace",
    )  # fmt: skip
    request = {
        "meta": {"trace": "t-9"},
        "data": {"rows": [{"age": 50, "country": "it"}, [20, "es"]]},
    }
    answer = {"result": [{"label": "no", "p": [0.6, 0.4]}, {"label": "yes", "p": [0.1, 0.9]}]}
    records = extract(call(request, answer), clf, spec)
    assert [(r["request_id"], r["prediction"], r["probabilities"]) for r in records] == [
        ("t-9:0", "no", [0.6, 0.4]),
        ("t-9:1", "yes", [0.1, 0.9]),
    ]
    assert records[1]["features"] == {"age": 20, "country": "es"}


def test_json_paths_single_row_object(clf: ModelHandle) -> None:
    spec = PayloadSpec("json", features="input", prediction="output.0", probabilities="scores")
    answer = {"output": ["yes", "ignored"], "scores": [0.3, 0.7]}
    [record] = extract(call({"input": {"age": 3, "country": "fr"}}, answer), clf, spec)
    assert (record["prediction"], record["probabilities"]) == ("yes", [0.3, 0.7])


ONE = {"instances": [[1, "a"]]}


@pytest.mark.parametrize(
    ("request_body", "response", "status", "outcome", "reason"),
    [
        (b"{nope", OIP_ANSWER, 200, "bad_input", "request: not valid JSON"),
        ({"rows": []}, OIP_ANSWER, 200, "bad_input", "not an OIP v2 or KServe v1 payload"),
        (
            {"inputs": [{"name": "in", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3]}]},
            OIP_ANSWER, 200, "bad_input", "shape [2, 2] needs 4 values, data has 3",
        ),
        (
            {"inputs": [{"name": "in", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]},
            OIP_ANSWER, 200, "bad_input", "expected 2 columns (age, country), got 3",
        ),
        (
            {"inputs": [{"name": "in", "shape": [2, 2], "data": [[1], [2, 3, 4]]}]},
            OIP_ANSWER, 200, "bad_input", "nested lists of uneven lengths",
        ),
        (
            {"inputs": [{"name": "age", "shape": [1, 0], "datatype": "FP64", "data": []}]},
            OIP_ANSWER, 200, "bad_input", "input 'age': expected one value per row, got 0",
        ),
        ({"instances": [[1, "a", 3]]}, {}, 200, "bad_input", "instances[0]: expected 2 values"),
        ({"instances": "x"}, {}, 200, "bad_input", "not an OIP v2 or KServe v1 payload"),
        (ONE, b"<html>", 200, "error", "response: not valid JSON"),
        (ONE, {"predictions": [1, 0]}, 200, "error", "expected 1 predictions"),
        (ONE, {"answer": 1}, 200, "error", 'expected an object with "predictions"'),
        (ONE, {"error": "bad shape"}, 400, "bad_input", "HTTP 400: bad shape"),
        (ONE, b"oops", 503, "error", "HTTP 503"),
    ],
)  # fmt: skip
def test_unreadable_payloads_become_failure_records(
    clf: ModelHandle,
    request_body: Any,
    response: Any,
    status: int,
    outcome: str,
    reason: str,
) -> None:
    records = extract(call(request_body, response, status), clf)
    assert {r["status"] for r in records} == {outcome}
    assert all(reason in r["error"] for r in records), records[0]["error"]
    assert all("prediction" not in r for r in records)


def test_a_failed_call_keeps_the_features_it_could_read(clf: ModelHandle) -> None:
    [record] = extract(call({"instances": [[41, "fr"]]}, {"predictions": [1, 2]}), clf)
    assert record["features"] == {"age": 41, "country": "fr"}
    assert record["status"] == "error"


def test_transport_failures_and_missing_bodies(clf: ModelHandle) -> None:
    timeout = call({"instances": [[41, "fr"]]}, None, 504, outcome="timeout", error="upstream slow")
    [record] = extract(timeout, clf)
    assert (record["status"], record["error"], record["features"]) == (
        "timeout",
        "upstream slow",
        {"age": 41, "country": "fr"},
    )
    big = call(None, None, 200, outcome="error", error="payload too large to record")
    [record] = extract(big, clf)
    assert (record["request_id"], record["features"], record["status"]) == ("hdr-1", {}, "error")


def test_a_lone_response_is_recorded_with_outputs_only(clf: ModelHandle) -> None:
    records = extract(call(None, OIP_ANSWER), clf)
    assert [(r["request_id"], r["features"], r["prediction"]) for r in records] == [
        ("42:0", {}, 1),
        ("42:1", {}, 0),
    ]


def test_a_lone_response_without_predictions_is_one_record_without_a_prediction(
    clf: ModelHandle,
) -> None:
    """Found by the property test below: ``{"predictions": []}`` with no request."""
    (record,) = extract(call(None, {"predictions": []}), clf)

    assert record["features"] == {}
    assert "prediction" not in record


def test_compressed_and_structured_bodies(clf: ModelHandle) -> None:
    zipped = Exchange(
        request=Parsed({"instances": [[41, "fr"]]}),
        response=gzip.compress(orjson.dumps({"predictions": ["yes"]})),
        received_at=NOW,
        request_id="z",
        http_status=200,
        response_encoding="gzip",
    )
    [record] = extract(zipped, clf)
    assert (record["prediction"], record["status"]) == ("yes", "ok")
    assert "latency_seconds" not in record
    brotli = Exchange(
        request=b"{}", response=b"x", received_at=NOW, request_id="b", http_status=200,
        request_encoding="br",
    )  # fmt: skip
    [record] = extract(brotli, clf)
    assert record["error"] == "request: content-encoding 'br' is not supported"


def test_records_are_checked_like_ingested_ones(clf: ModelHandle) -> None:
    answer = {"predictions": ["yes", "maybe"]}
    source = ExchangeRecords(
        "clf",
        None,
        call({"instances": [[41, "fr"], ["old", "de"]]}, answer),
        lookup=lambda m, v: clf,
    )
    assert (source.model, source.version) == ("clf", "1")
    batch = source.records(clf)
    assert list(batch.request_ids) == ["hdr-1:0", "hdr-1:1"]
    assert list(batch.predictions) == ["yes", None]  # type: ignore[arg-type]
    assert batch.status.tolist() == [0, 2]  # type: ignore[union-attr]
    assert "numeric feature, got 'old'" in batch.error_messages[1]  # type: ignore[index]
    np.testing.assert_array_equal(batch.latency_seconds, [0.004, math.nan])  # type: ignore[arg-type]


def test_an_unknown_model_has_no_version(clf: ModelHandle) -> None:
    def lookup(model: str, version: str | None) -> ModelHandle:
        raise NotFoundError(f"unknown model {model!r}")

    source = ExchangeRecords("ghost", None, call(None, None), lookup=lookup)
    assert source.version == ""
    assert ExchangeRecords("ghost", "7", call(None, None), lookup=lookup).version == "7"


LEAF = st.none() | st.booleans() | st.integers(-(2**62), 2**62) | st.floats() | st.text(max_size=3)
KEYS = st.sampled_from(["age", "country", "predict", "predict_proba", "label", "probabilities"])
JSON = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
TENSOR = st.fixed_dictionaries(
    {
        "name": KEYS,
        "shape": st.lists(st.integers(-1, 4) | st.booleans() | st.floats(), max_size=3),
        "data": st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4), max_leaves=12),
    }
)
REQUEST = (
    st.fixed_dictionaries({"inputs": st.lists(TENSOR, max_size=3)})
    | st.fixed_dictionaries({"instances": st.lists(JSON, max_size=3)})
    | st.fixed_dictionaries({"data": JSON})
    | JSON
)
RESPONSE = (
    st.fixed_dictionaries({"outputs": st.lists(TENSOR, max_size=2)})
    | st.fixed_dictionaries({"predictions": st.lists(JSON, max_size=3)})
    | JSON
)
SPECS = st.sampled_from(
    [None, PayloadSpec("json", features="data", prediction="predictions", probabilities="p")]
)


@settings(max_examples=400, deadline=None)
@given(request_body=REQUEST, response=RESPONSE, status=st.sampled_from([200, 400, 500]), spec=SPECS)
def test_no_payload_makes_extraction_raise_or_the_store_refuse(
    request_body: Any, response: Any, status: int, spec: PayloadSpec | None
) -> None:
    model = ModelHandle(
        model_id=1, model_name="clf", task=Task.BINARY_CLASSIFICATION, classes=("no", "yes"),
        version_id=1, version="1",
        schema=FeatureSchema((FeatureSpec("age", FeatureKind.NUMERIC),
                              FeatureSpec("country", FeatureKind.CATEGORICAL))),
    )  # fmt: skip
    exchange = call(request_body, response, status)
    records = extract(exchange, model, spec)
    assert records
    source = ExchangeRecords("clf", "1", exchange, lookup=lambda m, v: model, spec=spec)
    batch = source.records(model)
    assert len(pack_batch(model, batch).request_ids) == len(records)  # the store takes them
