"""``driftline serve`` as a real process on loopback, driven by real V2 clients.

Models are trained here on scikit-learn's bundled iris data, saved as a joblib file and as an
ONNX graph (skl2onnx), and declared in a project file. The clients are tritonclient.http
(JSON and its default binary tensors) and plain httpx following the protocol text.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import orjson
import pytest
import sqlalchemy as sa
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from tests.integration.test_cli import driftline, driftline_in_process
from tests.processes import clean_environment, run_driftline, start_driftline

pytestmark = pytest.mark.integration

STARTUP_SECONDS = 60
X, Y = load_iris(return_X_y=True)
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    estimator: LogisticRegression
    project_dir: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_project(directory: Path, estimator: LogisticRegression, *, onnx: bool) -> None:
    joblib.dump(estimator, directory / "iris.joblib")
    features = "\n".join(f"      - {{name: {name}, kind: numeric}}" for name in FEATURES)
    models = [
        f"""  - name: iris
    task: multiclass_classification
    classes: ["0", "1", "2"]
    version: "1"
    features:
{features}
    serving:
      runtime: sklearn
      uri: iris.joblib
      allow_pickle: true
      batching: {{max_batch_size: 32, max_batch_delay_ms: 1}}
"""
    ]
    if onnx:
        from skl2onnx import to_onnx

        graph = to_onnx(estimator, X[:1].astype(np.float32), options={"zipmap": False})
        (directory / "iris.onnx").write_bytes(graph.SerializeToString())
        models.append(
            f"""  - name: iris-onnx
    task: multiclass_classification
    classes: ["0", "1", "2"]
    features:
{features}
    serving:
      runtime: onnx
      uri: iris.onnx
"""
        )
    (directory / "driftline.yaml").write_text("version: 1\nmodels:\n" + "".join(models))


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"driftline serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("driftline serve did not become ready")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("serve")
    estimator = LogisticRegression(max_iter=1000).fit(X, Y)
    onnx = _has("skl2onnx") and _has("onnxruntime")
    write_project(directory, estimator, onnx=onnx)
    port = free_port()
    environment = clean_environment(DRIFTLINE_PORT=str(port), DRIFTLINE_HOST="127.0.0.1")
    log = directory / "serve.log"
    process = start_driftline("serve", cwd=directory, log=log, environment=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log)
        yield Served(url, port, estimator, directory, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_tritonclient_gets_the_estimators_predictions(served: Served) -> None:
    http = pytest.importorskip("tritonclient.http")
    client = http.InferenceServerClient(f"127.0.0.1:{served.port}")
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("iris")
        metadata = client.get_model_metadata("iris")
        assert [tensor["name"] for tensor in metadata["inputs"]] == list(FEATURES)
        rows = X[10:17]
        for binary in (False, True):
            tensor = http.InferInput("input-0", list(rows.shape), "FP64")
            tensor.set_data_from_numpy(rows, binary_data=binary)
            wanted = [http.InferRequestedOutput("predict_proba", binary_data=binary)]
            result = client.infer("iris", [tensor], outputs=wanted, request_id=f"t-{binary}")
            np.testing.assert_allclose(
                result.as_numpy("predict_proba"), served.estimator.predict_proba(rows), rtol=1e-12
            )
            assert result.get_response()["id"] == f"t-{binary}"
    finally:
        client.close()


def test_the_onnx_model_agrees_with_the_estimator(served: Served) -> None:
    http = pytest.importorskip("tritonclient.http")
    pytest.importorskip("onnxruntime")
    client = http.InferenceServerClient(f"127.0.0.1:{served.port}")
    try:
        rows = X[::10]
        tensor = http.InferInput("input-0", list(rows.shape), "FP32")
        tensor.set_data_from_numpy(rows.astype(np.float32), binary_data=False)
        result = client.infer("iris-onnx", [tensor])
        probabilities = [o["name"] for o in result.get_response()["outputs"]]
        assert "probabilities" in probabilities
        np.testing.assert_allclose(
            result.as_numpy("probabilities"), served.estimator.predict_proba(rows), atol=1e-5
        )
        np.testing.assert_array_equal(result.as_numpy("label"), served.estimator.predict(rows))
    finally:
        client.close()


def test_plain_http_client_following_the_spec(served: Served) -> None:
    rows = X[:3]
    request = {
        "id": "plain-1",
        "inputs": [
            {"name": name, "shape": [3, 1], "datatype": "FP64", "data": rows[:, [j]].tolist()}
            for j, name in enumerate(FEATURES)
        ],
        "outputs": [{"name": "predict"}],
    }
    response = httpx.post(f"{served.url}/v2/models/iris/versions/1/infer", json=request, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "plain-1"
    assert body["model_name"] == "iris"
    assert body["outputs"] == [
        {
            "name": "predict",
            "datatype": "INT64",
            "shape": [3],
            "data": served.estimator.predict(rows).tolist(),
        }
    ]


def test_predictions_are_recorded_in_the_store(served: Served) -> None:
    rows = X[20:23]
    request = {
        "id": "recorded",
        "inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP64", "data": rows.tolist()}],
    }
    assert httpx.post(f"{served.url}/v2/models/iris/infer", json=request, timeout=10).is_success
    database = served.project_dir / ".driftline" / "driftline.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    query = sa.text(
        "select request_id, prediction from prediction_records where request_id like 'recorded:%'"
        " order by request_id"
    )
    deadline = time.monotonic() + 30
    found: list[Any] = []
    while time.monotonic() < deadline and len(found) < 3:
        with engine.connect() as connection:
            found = list(connection.execute(query))
        time.sleep(0.1)
    engine.dispose()
    assert [row.request_id for row in found] == ["recorded:0", "recorded:1", "recorded:2"]
    classes = served.estimator.predict(rows).tolist()
    assert [row.prediction for row in found] == [float(c) for c in classes]


def one_input(name: str, shape: list[int], datatype: str, data: list[float]) -> bytes:
    return orjson.dumps(
        {"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}
    )


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"not json", 400, "not valid JSON"),
        (one_input("x", [1, 4], "FP64", [1, 2]), 400, "needs 4 elements"),
        (one_input("x", [1, 4], "FLOAT", [1, 2, 3, 4]), 400, "unsupported datatype"),
        (one_input("sepal_length", [1], "FP64", [1]), 400, "missing feature input(s)"),
    ],
)
def test_malformed_requests_over_http(
    served: Served, content: bytes, status: int, message: str
) -> None:
    response = httpx.post(f"{served.url}/v2/models/iris/infer", content=content, timeout=10)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_models_cli_deploys_lists_and_undeploys(served: Served) -> None:
    environment = {"DRIFTLINE_PORT": str(served.port)}
    arguments = ("--runtime", "sklearn", "--uri", "iris.joblib", "--version", "7")
    deployed = driftline_in_process(
        served.project_dir, "models", "deploy", "iris-copy", *arguments, env=environment
    )
    # The server does not let API callers unpickle files: the CLI says so and exits 2.
    assert deployed.returncode == 2
    assert deployed.stderr.startswith("error: ")
    assert "allow_pickle" in deployed.stderr
    if (served.project_dir / "iris.onnx").exists():
        onnx = ("--runtime", "onnx", "--uri", "iris.onnx", "--version", "3")
        added = driftline(
            served.project_dir, "models", "deploy", "iris-new", *onnx, env=environment
        )
        assert added.returncode == 0, added.transcript
        answer = httpx.post(
            f"{served.url}/v2/models/iris-new/infer",
            content=one_input("x", [1, 4], "FP32", X[0].tolist()),
            timeout=10,
        )
        assert answer.json()["model_version"] == "3"
    listed = driftline(served.project_dir, "models", "list", env=environment)
    assert listed.returncode == 0, listed.transcript
    assert listed.stdout.count("READY") == 2 + (served.project_dir / "iris.onnx").exists()
    gone = driftline(served.project_dir, "models", "undeploy", "iris-new", env=environment)
    assert gone.returncode == 0, gone.transcript
    missing = driftline_in_process(
        served.project_dir, "models", "undeploy", "nope", env=environment
    )
    assert missing.returncode == 2
    assert "not deployed" in missing.stderr


def test_unreachable_server_is_a_one_line_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = driftline_in_process(tmp_path, "models", "list", "--url", url)
    assert run.returncode == 2
    assert run.stderr.startswith("error: cannot reach the server")
    assert "Traceback" not in run.stderr


def test_a_missing_model_file_stops_startup_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "driftline.yaml").write_text(
        "version: 1\nmodels:\n  - name: m\n    task: regression\n"
        "    features: [{name: a, kind: numeric}]\n"
        "    serving: {runtime: sklearn, uri: missing.joblib, allow_pickle: true}\n"
    )
    environment = clean_environment(DRIFTLINE_PORT=str(free_port()))
    run = run_driftline("serve", cwd=tmp_path, environment=environment, timeout=60)
    assert run.returncode != 0
    assert "missing.joblib" in run.stderr
    assert "Traceback" not in run.stderr


def test_sigterm_stops_the_server_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down, then re-raises the signal so that supervisors see why it stopped.
    assert served.process.wait(timeout=30) in (0, -signal.SIGTERM)
    log = (served.project_dir / "serve.log").read_text()
    assert "unloaded model iris version 1" in log
    assert "Application shutdown complete" in log
