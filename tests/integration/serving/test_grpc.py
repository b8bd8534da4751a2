"""The OIP v2 gRPC endpoint on loopback, driven by tritonclient.grpc (a client we did not write).

One server (uvicorn in a thread, with its gRPC listener on the same event loop) serves a
scikit-learn classifier, its ONNX conversion, a pipeline with a categorical (BYTES) feature and
two slow models for overload and deadlines. Every gRPC answer is checked against the REST
endpoint's answer for the same input, and what the tap receives from either transport is
compared record for record. Typed-contents requests use the Triton client's own generated
stub, since ``tritonclient.grpc.InferenceServerClient`` always sends raw contents.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import tritonclient.grpc as triton
from numpy.typing import NDArray
from prometheus_client.parser import text_string_to_metric_families
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.runtimes.base import Runtime, TensorSpec
from serving.runtimes.sklearn import SklearnRuntime
from serving.server import create_server, load_configured_runtime
from serving.tap import TappedBatch
from tests.app_thread import served_in_thread
from tests.processes import clean_environment, run_driftline, start_driftline

pytestmark = pytest.mark.integration

X, Y = load_iris(return_X_y=True)
IRIS = tuple(FeatureInput(name) for name in ("sl", "sw", "pl", "pw"))
SHOP = (FeatureInput("color", "categorical"), FeatureInput("size"))
SLOW_SECONDS = 0.6


class Slow(Runtime):
    """A model that takes a while per batch: for full queues and deadlines."""

    platform = "python_test"

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec("y", "FP64", (-1,)),)

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        time.sleep(SLOW_SECONDS)
        return {"y": features[:, 0]}


class Collected:
    """A tap that keeps what it gets (from the server's thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: list[TappedBatch] = []

    def submit(self, batch: TappedBatch) -> None:
        with self._lock:
            self._batches.append(batch)

    def request(self, request_id: str, timeout: float = 10.0) -> TappedBatch:
        """The tapped batch holding ``request_id`` alone, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [b for b in self._batches if request_id in b.request_ids]
            if found:
                (batch,) = found
                return _only(batch, request_id)
            time.sleep(0.01)
        raise AssertionError(f"request {request_id!r} was never tapped")


def _only(batch: TappedBatch, request_id: str) -> TappedBatch:
    """The one request's slice of a batch (other requests may have shared it)."""
    i = batch.request_ids.index(request_id)
    start, end = batch.offsets[i], batch.offsets[i + 1]
    return TappedBatch(
        model=batch.model,
        version=batch.version,
        request_ids=(request_id,),
        row_counts=batch.row_counts[i : i + 1],
        features=None if batch.features is None else batch.features[start:end],
        feature_names=batch.feature_names,
        outputs={name: values[start:end] for name, values in batch.outputs.items()},
        received_at=batch.received_at[i : i + 1],
        latency_seconds=batch.latency_seconds[i : i + 1],
        statuses=batch.statuses[i : i + 1],
        errors=batch.errors[i : i + 1],
        roles=batch.roles,
    )


@dataclass(frozen=True)
class Served:
    rest: str
    grpc: str
    tap: Collected
    iris: LogisticRegression
    shop: Pipeline


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shop_pipeline() -> tuple[Pipeline, pd.DataFrame]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"color": rng.choice(["red", "green", "blue"], 300), "size": rng.normal(size=300)}
    )
    target = (frame["color"] == "red") ^ (frame["size"] > 0.5)
    encode = ColumnTransformer([("color", OneHotEncoder(), ["color"])], remainder="passthrough")
    pipeline = Pipeline([("encode", encode), ("model", LogisticRegression())])
    return pipeline.fit(frame, target.astype(int)), frame


def configs(onnx_path: Path) -> list[ModelConfig]:
    one_at_a_time = BatchingConfig(max_batch_size=1, max_batch_delay_ms=0, max_queue_size=1)
    return [
        ModelConfig(name="iris", version="1", runtime="test", uri="iris", features=IRIS),
        ModelConfig(
            name="iris-onnx", version="1", runtime="onnx", uri=str(onnx_path), features=IRIS
        ),
        ModelConfig(name="shop", version="2", runtime="test", uri="shop", features=SHOP),
        ModelConfig(
            name="crowded", version="1", runtime="test", uri="slow", batching=one_at_a_time
        ),
        ModelConfig(name="late", version="1", runtime="test", uri="slow"),
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from skl2onnx import to_onnx

    iris = LogisticRegression(max_iter=1000).fit(X, Y)
    shop, _ = shop_pipeline()
    onnx_path = tmp_path_factory.mktemp("grpc") / "iris.onnx"
    graph = to_onnx(iris, X[:1].astype(np.float32), options={"zipmap": False})
    onnx_path.write_bytes(graph.SerializeToString())

    def load(config: ModelConfig) -> Runtime:
        if config.uri == "iris":
            return SklearnRuntime(iris, feature_names=config.feature_names)
        if config.uri == "shop":
            return SklearnRuntime(shop, feature_names=config.feature_names)
        if config.uri == "slow":
            return Slow()
        return load_configured_runtime(config)

    tap = Collected()
    grpc_port = free_port()
    server = create_server(configs(onnx_path), tap=tap, load_runtime=load, grpc_port=grpc_port)
    with served_in_thread(server.app) as url:
        yield Served(url, f"127.0.0.1:{grpc_port}", tap, iris, shop)


@pytest.fixture
def client(served: Served) -> Iterator[triton.InferenceServerClient]:
    client = triton.InferenceServerClient(served.grpc)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def stub(served: Served) -> Iterator[service_pb2_grpc.GRPCInferenceServiceStub]:
    with grpc.insecure_channel(served.grpc) as channel:
        yield service_pb2_grpc.GRPCInferenceServiceStub(channel)


def raw_input(name: str, values: NDArray[Any], datatype: str) -> triton.InferInput:
    tensor = triton.InferInput(name, list(values.shape), datatype)
    tensor.set_data_from_numpy(values)
    return tensor


def rest_infer(served: Served, model: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{served.rest}/v2/models/{model}/infer", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return {
        o["name"]: np.asarray(o["data"]).reshape(o["shape"]) for o in response.json()["outputs"]
    }


def json_input(name: str, values: NDArray[Any], datatype: str) -> dict[str, Any]:
    data = values.ravel().tolist()
    return {"name": name, "shape": list(values.shape), "datatype": datatype, "data": data}


def iris_rest(served: Served, rows: NDArray[np.float64], **extra: Any) -> dict[str, Any]:
    return rest_infer(served, "iris", {"inputs": [json_input("x", rows, "FP64")], **extra})


def test_health_and_metadata(served: Served, client: triton.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("iris")
    assert client.is_model_ready("shop", "2")
    server = client.get_server_metadata()
    assert server.name == "driftline"
    metadata = client.get_model_metadata("iris", as_json=True)
    rest = httpx.get(f"{served.rest}/v2/models/iris", timeout=10).json()
    assert metadata["name"] == rest["name"] == "iris"
    assert metadata["versions"] == rest["versions"] == ["1"]
    assert metadata["platform"] == rest["platform"]
    assert [
        (t["name"], t["datatype"], [int(d) for d in t["shape"]]) for t in metadata["inputs"]
    ] == [(t["name"], t["datatype"], t["shape"]) for t in rest["inputs"]]
    assert [(t["name"], [int(d) for d in t["shape"]]) for t in metadata["outputs"]] == [
        ("predict", [-1]),
        ("predict_proba", [-1, 3]),
    ]
    shop = client.get_model_metadata("shop", as_json=True)
    assert [(t["name"], t["datatype"]) for t in shop["inputs"]] == [
        ("color", "BYTES"),
        ("size", "FP64"),
    ]


def test_raw_infer_matches_rest_and_the_estimator(
    served: Served, client: triton.InferenceServerClient
) -> None:
    rows = X[10:17]
    result = client.infer("iris", [raw_input("x", rows, "FP64")], request_id="raw-1")
    rest = iris_rest(served, rows)

    response = result.get_response()
    assert (response.model_name, response.model_version, response.id) == ("iris", "1", "raw-1")
    assert len(response.raw_output_contents) == 2
    np.testing.assert_array_equal(result.as_numpy("predict"), rest["predict"])
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), rest["predict_proba"])
    np.testing.assert_allclose(
        result.as_numpy("predict_proba"), served.iris.predict_proba(rows), rtol=1e-12
    )


def test_typed_infer_answers_in_typed_contents(
    served: Served, stub: service_pb2_grpc.GRPCInferenceServiceStub
) -> None:
    rows = X[40:44]
    request = service_pb2.ModelInferRequest(model_name="iris", model_version="1", id="typed-1")
    for j, feature in enumerate(IRIS):  # one input per feature, as the REST test does
        tensor = request.inputs.add(name=feature.name, datatype="FP64", shape=[len(rows)])
        tensor.contents.fp64_contents.extend(rows[:, j].tolist())

    response = stub.ModelInfer(request, timeout=30)

    rest = iris_rest(served, rows)
    assert response.id == "typed-1"
    assert not response.raw_output_contents
    predict, proba = response.outputs
    assert (predict.name, predict.datatype, list(predict.shape)) == ("predict", "INT64", [4])
    assert list(predict.contents.int64_contents) == rest["predict"].tolist()
    assert (proba.datatype, list(proba.shape)) == ("FP64", [4, 3])
    assert list(proba.contents.fp64_contents) == rest["predict_proba"].ravel().tolist()


def test_requested_outputs_only(served: Served, client: triton.InferenceServerClient) -> None:
    rows = X[:3]
    wanted = [triton.InferRequestedOutput("predict_proba")]
    result = client.infer("iris", [raw_input("x", rows, "FP64")], outputs=wanted)

    assert [o.name for o in result.get_response().outputs] == ["predict_proba"]
    assert result.as_numpy("predict") is None
    np.testing.assert_array_equal(
        result.as_numpy("predict_proba"),
        iris_rest(served, rows, outputs=[{"name": "predict_proba"}])["predict_proba"],
    )


def test_a_request_without_id_gets_one(client: triton.InferenceServerClient) -> None:
    first = client.infer("iris", [raw_input("x", X[:1], "FP64")]).get_response().id
    second = client.infer("iris", [raw_input("x", X[:1], "FP64")]).get_response().id
    assert first
    assert second
    assert first != second


def test_bytes_inputs_feed_a_categorical_feature(
    served: Served,
    client: triton.InferenceServerClient,
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
) -> None:
    _, frame = shop_pipeline()
    sample = frame.iloc[:6]
    colors = sample["color"].to_numpy(dtype=object)
    sizes = sample["size"].to_numpy()
    raw = client.infer(
        "shop", [raw_input("color", colors, "BYTES"), raw_input("size", sizes, "FP64")]
    )
    typed_request = service_pb2.ModelInferRequest(model_name="shop")
    typed_request.inputs.add(
        name="color", datatype="BYTES", shape=[6]
    ).contents.bytes_contents.extend(c.encode() for c in colors)
    typed_request.inputs.add(name="size", datatype="FP64", shape=[6]).contents.fp64_contents.extend(
        sizes.tolist()
    )
    typed = stub.ModelInfer(typed_request, timeout=30)
    rest = rest_infer(
        served,
        "shop",
        {"inputs": [json_input("color", colors, "BYTES"), json_input("size", sizes, "FP64")]},
    )

    expected = served.shop.predict(sample)
    np.testing.assert_array_equal(raw.as_numpy("predict"), expected)
    np.testing.assert_array_equal(raw.as_numpy("predict"), rest["predict"])
    assert list(typed.outputs[0].contents.int64_contents) == expected.tolist()
    np.testing.assert_array_equal(raw.as_numpy("predict_proba"), rest["predict_proba"])


def test_the_onnx_model_over_grpc(served: Served, client: triton.InferenceServerClient) -> None:
    rows = X[::10].astype(np.float32)
    result = client.infer("iris-onnx", [raw_input("x", rows, "FP32")])
    rest = rest_infer(served, "iris-onnx", {"inputs": [json_input("x", rows, "FP32")]})

    np.testing.assert_array_equal(result.as_numpy("label"), served.iris.predict(X[::10]))
    np.testing.assert_array_equal(result.as_numpy("label"), rest["label"])
    np.testing.assert_allclose(result.as_numpy("probabilities"), rest["probabilities"], rtol=1e-6)
    np.testing.assert_allclose(
        result.as_numpy("probabilities"), served.iris.predict_proba(X[::10]), atol=1e-5
    )


def status_of(call: Any) -> tuple[str, str]:
    with pytest.raises(InferenceServerException) as caught:
        call()
    return caught.value.status(), caught.value.message()


def test_malformed_input_is_invalid_argument(client: triton.InferenceServerClient) -> None:
    code, message = status_of(lambda: client.infer("iris", [raw_input("x", X[:1, :3], "FP64")]))
    assert code == "StatusCode.INVALID_ARGUMENT"
    assert message == (
        "inputs[0] ('x'): shape [1, 3] has 3 columns, the model takes 4 features: sl, sw, pl, pw"
    )
    bad_output = [triton.InferRequestedOutput("nope")]
    code, message = status_of(
        lambda: client.infer("iris", [raw_input("x", X[:1], "FP64")], outputs=bad_output)
    )
    assert code == "StatusCode.INVALID_ARGUMENT"
    assert "outputs: unknown output(s) nope" in message


def test_unknown_model_or_version_is_not_found(client: triton.InferenceServerClient) -> None:
    rows = [raw_input("x", X[:1], "FP64")]
    assert status_of(lambda: client.infer("nope", rows)) == (
        "StatusCode.NOT_FOUND",
        "model 'nope' is not deployed",
    )
    code, message = status_of(lambda: client.infer("iris", rows, model_version="9"))
    assert code == "StatusCode.NOT_FOUND"
    assert "model 'iris' has no version '9'" in message
    assert status_of(lambda: client.is_model_ready("nope"))[0] == "StatusCode.NOT_FOUND"
    assert status_of(lambda: client.get_model_metadata("nope"))[0] == "StatusCode.NOT_FOUND"


def test_a_full_queue_is_unavailable(client: triton.InferenceServerClient) -> None:
    """``crowded`` runs one request at a time and queues one more: a burst overflows it."""
    outcomes: list[Any] = []
    done = threading.Event()

    def collect(result: Any, error: Any) -> None:
        outcomes.append(error if error is not None else result)
        if len(outcomes) == 4:
            done.set()

    for i in range(4):
        client.async_infer("crowded", [raw_input("x", np.array([[float(i)]]), "FP64")], collect)
    assert done.wait(timeout=30)

    refused = [o for o in outcomes if isinstance(o, InferenceServerException)]
    assert refused, "no request was refused"
    assert {e.status() for e in refused} == {"StatusCode.UNAVAILABLE"}
    assert all("queue is full (1 requests)" in e.message() for e in refused)
    assert len(refused) < 4


def test_a_missed_timeout_is_deadline_exceeded(
    served: Served, client: triton.InferenceServerClient
) -> None:
    """The request's own ``timeout`` parameter (microseconds), shorter than the model's time."""
    started = time.monotonic()
    code, message = status_of(
        lambda: client.infer(
            "late", [raw_input("x", X[:1, :1], "FP64")], request_id="late-1", timeout=100_000
        )
    )
    assert code == "StatusCode.DEADLINE_EXCEEDED"
    assert message.startswith("request 'late-1' missed its deadline after ")
    assert time.monotonic() - started < SLOW_SECONDS
    assert served.tap.request("late-1").statuses == ("timeout",)


def test_the_calls_deadline_bounds_the_request(
    served: Served, client: triton.InferenceServerClient
) -> None:
    """A client deadline shorter than the model's time: the server stops waiting too, and
    taps the request as timed out (not as answered)."""
    code, _ = status_of(
        lambda: client.infer(
            "late", [raw_input("x", X[:1, :1], "FP64")], request_id="late-2", client_timeout=0.2
        )
    )
    assert code == "StatusCode.DEADLINE_EXCEEDED"
    tapped = served.tap.request("late-2")
    assert tapped.statuses == ("timeout",)
    time.sleep(SLOW_SECONDS)  # the batch that ran anyway does not tap it a second time
    assert served.tap.request("late-2").statuses == ("timeout",)


def test_a_cancelled_call_is_tapped_once_as_a_timeout(
    served: Served, client: triton.InferenceServerClient
) -> None:
    call = client.async_infer(
        "late", [raw_input("x", X[:1, :1], "FP64")], lambda result, error: None, request_id="late-3"
    )
    time.sleep(SLOW_SECONDS / 3)
    call.cancel()

    tapped = served.tap.request("late-3")
    assert tapped.statuses == ("timeout",)
    assert tapped.errors == ("request 'late-3' was cancelled by its caller",)
    time.sleep(SLOW_SECONDS)  # the batch that ran anyway does not tap it as answered
    assert served.tap.request("late-3").statuses == ("timeout",)


def comparable(batch: TappedBatch) -> dict[str, Any]:
    """Everything a tapped request carries but its id and timings."""
    return {
        "model": batch.model,
        "version": batch.version,
        "row_counts": batch.row_counts.tolist(),
        "features": None if batch.features is None else batch.features.tolist(),
        "feature_dtype": None if batch.features is None else batch.features.dtype,
        "feature_names": batch.feature_names,
        "outputs": {name: values.tolist() for name, values in batch.outputs.items()},
        "statuses": batch.statuses,
        "errors": batch.errors,
        "roles": dict(batch.roles),
    }


def test_a_grpc_request_is_tapped_like_a_rest_one(
    served: Served, client: triton.InferenceServerClient
) -> None:
    rows = X[60:63]
    client.infer("iris", [raw_input("x", rows, "FP64")], request_id="tap-grpc")
    iris_rest(served, rows, id="tap-rest")
    with pytest.raises(InferenceServerException):
        client.infer("iris", [raw_input("x", rows[:, :3], "FP64")], request_id="bad-grpc")
    bad = {"id": "bad-rest", "inputs": [json_input("x", rows[:, :3], "FP64")]}
    assert (
        httpx.post(f"{served.rest}/v2/models/iris/infer", json=bad, timeout=10).status_code == 400
    )

    over_grpc, over_rest = served.tap.request("tap-grpc"), served.tap.request("tap-rest")
    assert comparable(over_grpc) == comparable(over_rest)
    assert over_grpc.statuses == ("ok",)
    np.testing.assert_array_equal(over_grpc.features, rows)
    bad_grpc, bad_rest = served.tap.request("bad-grpc"), served.tap.request("bad-rest")
    assert comparable(bad_grpc) == comparable(bad_rest)
    assert bad_grpc.statuses == ("bad_input",)
    assert "has 3 columns" in str(bad_grpc.errors[0])


def requests_counted(served: Served, status: str) -> float:
    metrics = httpx.get(f"{served.rest}/metrics", timeout=10).text
    wanted = {"model": "iris", "version": "1", "status": status}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "driftline_serving_requests_total" and sample.labels == wanted:
                return float(sample.value)
    return 0.0


def test_grpc_requests_count_in_the_same_metrics(
    served: Served, client: triton.InferenceServerClient
) -> None:
    ok, bad = requests_counted(served, "ok"), requests_counted(served, "bad_input")
    for _ in range(3):
        client.infer("iris", [raw_input("x", X[:2], "FP64")])
    with pytest.raises(InferenceServerException):
        client.infer("iris", [raw_input("x", X[:1, :2], "FP64")])

    assert requests_counted(served, "ok") == ok + 3
    assert requests_counted(served, "bad_input") == bad + 1


def test_driftline_serve_grpc_port_records_like_rest(tmp_path: Path) -> None:
    """The CLI wiring: ``driftline serve --grpc-port``, and the store gets the same records
    from a gRPC request as from a REST one."""
    from tests.integration.serving.test_serve_process import wait_ready, write_project

    estimator = LogisticRegression(max_iter=1000).fit(X, Y)
    write_project(tmp_path, estimator, onnx=False)
    port, grpc_port = free_port(), free_port()
    environment = clean_environment(DRIFTLINE_PORT=str(port), DRIFTLINE_HOST="127.0.0.1")
    log = tmp_path / "serve.log"
    process = start_driftline(
        "serve", "--grpc-port", str(grpc_port), cwd=tmp_path, log=log, environment=environment
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, log)
        rows = X[100:103]
        client = triton.InferenceServerClient(f"127.0.0.1:{grpc_port}")
        try:
            result = client.infer("iris", [raw_input("x", rows, "FP64")], request_id="cli-grpc")
        finally:
            client.close()
        body = {"id": "cli-rest", "inputs": [json_input("x", rows, "FP64")]}
        rest = httpx.post(f"http://127.0.0.1:{port}/v2/models/iris/infer", json=body, timeout=10)
        np.testing.assert_array_equal(result.as_numpy("predict"), rest.json()["outputs"][0]["data"])
        recorded = stored_records(tmp_path / ".driftline" / "driftline.db", count=6)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    by_transport = {
        prefix: [row[1:] for row in recorded if row[0].startswith(prefix)]
        for prefix in ("cli-grpc:", "cli-rest:")
    }
    assert len(by_transport["cli-grpc:"]) == 3
    assert by_transport["cli-grpc:"] == by_transport["cli-rest:"]
    assert "serving gRPC (inference.GRPCInferenceService) on 127.0.0.1:" in log.read_text()


def stored_records(database: Path, *, count: int) -> list[Any]:
    """``(request_id, status, prediction, probabilities, features, error)`` rows, polled
    until ``count`` are there (the recording tap writes in the background)."""
    engine = sa.create_engine(f"sqlite:///{database}")
    query = sa.text(
        "select request_id, status, prediction, probabilities, features, error_message"
        " from prediction_records where request_id like 'cli-%' order by request_id"
    )
    deadline = time.monotonic() + 30
    found: list[Any] = []
    try:
        while time.monotonic() < deadline and len(found) < count:
            with engine.connect() as connection:
                found = [tuple(row) for row in connection.execute(query)]
            time.sleep(0.1)
    finally:
        engine.dispose()
    return found


def test_a_taken_grpc_port_stops_startup_with_one_line(tmp_path: Path) -> None:
    from tests.integration.serving.test_serve_process import write_project

    write_project(tmp_path, LogisticRegression(max_iter=1000).fit(X, Y), onnx=False)
    environment = clean_environment(DRIFTLINE_PORT=str(free_port()))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        grpc_port = taken.getsockname()[1]
        run = run_driftline(
            "serve", "--no-record", "--grpc-port", str(grpc_port),
            cwd=tmp_path, environment=environment, timeout=120,
        )  # fmt: skip
    assert run.returncode != 0
    assert f"cannot listen for gRPC on 127.0.0.1:{grpc_port}: the port is taken" in run.stderr
    assert "Traceback" not in run.stderr
    assert "deployed model" not in run.stderr  # the port is claimed before the models load
