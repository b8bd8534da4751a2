"""``driftline serve`` with two worker processes, as real processes on loopback.

One server for the module (``serving.workers: 2`` in the project file, REST and gRPC) serves
a scikit-learn classifier and a slow Python model that marks each batch it starts with its
process id. The tests run in file order: the last one stops the server with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import joblib
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc import grpc_predict_v2_pb2_grpc as pb_grpc
from tests.processes import clean_environment, run_driftline, start_driftline

pytestmark = pytest.mark.integration

STARTUP_SECONDS = 120
SLOW_SECONDS = 2.0
X, Y = load_iris(return_X_y=True)
IRIS_ROW = orjson.dumps(
    {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": X[0].tolist()}]}
)
SLOW_ROW = orjson.dumps(
    {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}]}
)

SLOW_MODEL = f"""
import os, pathlib, time
import numpy as np

MARKS = pathlib.Path(__file__).with_name("inflight")

def predict(features):
    MARKS.mkdir(exist_ok=True)
    (MARKS / f"{{os.getpid()}}-{{time.monotonic_ns()}}-{{len(features)}}").touch()
    time.sleep({SLOW_SECONDS})
    return np.asarray(features, dtype=float).sum(axis=1)
"""

PROJECT = """version: 1
serving: {workers: 2, grace_period_seconds: 15}
models:
  - name: iris
    task: multiclass_classification
    classes: ["0", "1", "2"]
    features: [{name: a, kind: numeric}, {name: b, kind: numeric},
               {name: c, kind: numeric}, {name: d, kind: numeric}]
    serving: {runtime: sklearn, uri: iris.joblib, allow_pickle: true}
  - name: slow
    task: regression
    features: [{name: a, kind: numeric}, {name: b, kind: numeric}]
    serving: {runtime: python, uri: "slowmodel:predict", batching: {max_batch_delay_ms: 0}}
"""


@dataclass(frozen=True)
class Served:
    url: str
    grpc_address: str
    directory: Path
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Callable[[], bool], what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("workers")
    joblib.dump(LogisticRegression(max_iter=1000).fit(X, Y), directory / "iris.joblib")
    (directory / "slowmodel.py").write_text(SLOW_MODEL)
    (directory / "driftline.yaml").write_text(PROJECT)
    port, grpc_port = free_port(), free_port()
    environment = clean_environment(
        DRIFTLINE_PORT=str(port), DRIFTLINE_GRPC_PORT=str(grpc_port), PYTHONPATH=str(directory)
    )
    log = directory / "serve.log"
    process = start_driftline(
        "serve", "--no-record", cwd=directory, log=log, environment=environment
    )
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: "all 2 workers ready" in log.read_text(), "both workers")
        yield Served(url, f"127.0.0.1:{grpc_port}", directory, process, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def infer(url: str, model: str = "iris", body: bytes = IRIS_ROW) -> httpx.Response:
    """One request on a fresh connection (the kernel picks a worker per connection)."""
    return httpx.post(f"{url}/v2/models/{model}/infer", content=body, timeout=30)


def worker_of(response: httpx.Response) -> str:
    return response.headers["x-driftline-worker"]


def workers_answering(url: str, expected: int, *, model: str = "iris") -> dict[str, int]:
    """Status by worker, from fresh connections until ``expected`` workers have answered."""
    seen: dict[str, int] = {}
    for _ in range(400):
        response = infer(url, model)
        seen[worker_of(response)] = response.status_code
        if len(seen) >= expected:
            return seen
    pytest.fail(f"only {sorted(seen)} answered")


def requests_total(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "driftline_serving_requests"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("model") == "iris"
    )


def test_two_workers_answer_with_distinct_processes(served: Served) -> None:
    seen = workers_answering(served.url, 2)
    assert set(seen.values()) == {200}
    pids = {name.split("/")[1] for name in seen}
    assert len(pids) == 2
    assert {name.split("/")[0] for name in seen} == {"0", "1"}


def test_grpc_is_served_by_the_workers(served: Served) -> None:
    with grpc.insecure_channel(served.grpc_address) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        assert stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready
        tensor = pb.ModelInferRequest.InferInputTensor(name="x", datatype="FP64", shape=[1, 4])
        tensor.contents.fp64_contents.extend(X[0].tolist())
        answer = stub.ModelInfer(
            pb.ModelInferRequest(model_name="iris", inputs=[tensor]), timeout=10
        )
        assert answer.model_name == "iris"


def test_metrics_count_the_requests_of_every_worker(served: Served) -> None:
    before = requests_total(served.url)
    workers = {worker_of(infer(served.url)) for _ in range(30)}
    assert len(workers) == 2  # 30 fresh connections reached both (chance of not: 2**-29)
    # Whichever worker answers the scrape reports the sum over both.
    assert {requests_total(served.url) - before for _ in range(6)} == {30}


def test_load_and_unload_reach_every_worker(served: Served) -> None:
    unload = httpx.post(f"{served.url}/v2/repository/models/iris/unload", timeout=60)
    assert unload.status_code == 200, unload.text
    assert set(workers_answering(served.url, 2).values()) == {503}
    load = httpx.post(f"{served.url}/v2/repository/models/iris/load", content=b"{}", timeout=60)
    assert load.status_code == 200, load.text
    assert set(workers_answering(served.url, 2).values()) == {200}
    failed = httpx.post(
        f"{served.url}/v2/repository/models/iris/load",
        json={"parameters": {"uri": str(served.directory / "missing.joblib")}},
        timeout=60,
    )
    assert failed.status_code == 400
    assert "missing.joblib" in failed.json()["error"]
    assert set(workers_answering(served.url, 2).values()) == {200}


def test_a_killed_worker_fails_its_requests_and_is_restarted(served: Served) -> None:
    before = requests_total(served.url)
    marks = served.directory / "inflight"
    started = set(marks.iterdir()) if marks.exists() else set()
    outcome: list[BaseException | httpx.Response] = []

    def call() -> None:
        try:
            outcome.append(infer(served.url, "slow", SLOW_ROW))
        except httpx.HTTPError as error:
            outcome.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    eventually(lambda: marks.exists() and set(marks.iterdir()) > started, "the slow request")
    (mark,) = set(marks.iterdir()) - started
    victim = int(mark.name.split("-")[0])
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert time.monotonic() - killed_at < SLOW_SECONDS + 5
    assert isinstance(outcome[0], httpx.TransportError), outcome  # closed, not answered
    # The other worker answers meanwhile, and a new worker takes the dead one's place.
    assert [infer(served.url).status_code for _ in range(4)] == [200] * 4
    seen = workers_answering(served.url, 2)
    assert str(victim) not in {name.split("/")[1] for name in seen}
    assert set(seen.values()) == {200}
    assert requests_total(served.url) >= before  # the dead worker's counts are kept
    assert "exited with status -9" in served.log.read_text()


def test_sigterm_finishes_requests_in_flight(served: Served) -> None:
    marks = served.directory / "inflight"
    started = set(marks.iterdir()) if marks.exists() else set()
    answers: list[BaseException | httpx.Response] = []

    def call() -> None:
        try:
            answers.append(infer(served.url, "slow", SLOW_ROW))
        except httpx.HTTPError as error:
            answers.append(error)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    eventually(
        lambda: marks.exists() and len(set(marks.iterdir()) - started) >= 1,
        "slow requests in flight",
    )
    served.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=30)
    assert served.process.wait(timeout=30) == 0
    # Every request the model computed was answered. A request whose connection still
    # waited in a worker's accept queue when the worker stopped listening was never read:
    # the kernel resets it (the client sees ConnectError, or RemoteProtocolError when its
    # request was already written).
    statuses = [a.status_code if isinstance(a, httpx.Response) else type(a) for a in answers]
    assert len(statuses) == len(threads)
    assert set(statuses) <= {200, httpx.ConnectError, httpx.RemoteProtocolError}, statuses
    computed = sum(int(mark.name.rsplit("-", 1)[1]) for mark in set(marks.iterdir()) - started)
    assert statuses.count(200) == computed >= 1, (statuses, computed)
    assert "all workers stopped" in served.log.read_text()
    with pytest.raises(httpx.ConnectError):
        infer(served.url)


def test_a_model_that_does_not_load_stops_the_workers_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "driftline.yaml").write_text(
        "version: 1\nserving: {workers: 2}\nmodels:\n  - name: m\n    task: regression\n"
        "    features: [{name: a, kind: numeric}]\n"
        "    serving: {runtime: sklearn, uri: missing.joblib, allow_pickle: true}\n"
    )
    environment = clean_environment(DRIFTLINE_PORT=str(free_port()))
    run = run_driftline(
        "serve", "--no-record", cwd=tmp_path, environment=environment, timeout=STARTUP_SECONDS
    )
    assert run.returncode == 2, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: worker ")
    assert "did not start" in last
    assert "missing.joblib" in last
    assert "Traceback" not in run.stderr
