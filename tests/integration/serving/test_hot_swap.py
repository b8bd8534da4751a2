"""Hot swap under load over real HTTP, and composites over both transports, on loopback.

One server (uvicorn in a thread, with its gRPC listener) serves a model whose two versions
answer differently (1.0 and 2.0), and a pipeline and an ensemble that call it. Several
clients send a steady stream of requests, to the model and to the composites, while a new
version is deployed through the admin API: no request fails, each answer names the version
that computed it, and the tap records that same version for each request id.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.grpc as triton
from numpy.typing import NDArray
from prometheus_client.parser import text_string_to_metric_families

from serving.composite import EnsembleConfig, PipelineConfig, PipelineStep
from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.runtimes.base import OutputRole, Runtime, TensorSpec
from serving.server import create_server
from serving.tap import TappedBatch
from tests.app_thread import served_in_thread

pytestmark = pytest.mark.integration

FEATURES = (FeatureInput("a"), FeatureInput("b"))
CLIENTS = 6
LOAD_SECONDS = 0.4


class Constant(Runtime):
    """Answers ``value`` for every row, taking a millisecond per batch."""

    platform = "python_test"

    def __init__(self, value: float) -> None:
        self.value = value

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec("y", "FP64", (-1,)),)

    @property
    def roles(self) -> dict[OutputRole, str]:
        return {"prediction": "y"}

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        time.sleep(0.001)
        return {"y": np.full(len(features), self.value)}


def load(config: ModelConfig) -> Runtime:
    if config.uri == "v2":
        time.sleep(LOAD_SECONDS)  # traffic keeps flowing to version 1 meanwhile
    return Constant({"v1": 1.0, "v2": 2.0, "ten": 10.0}[config.uri])


class Collected:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: list[TappedBatch] = []

    def submit(self, batch: TappedBatch) -> None:
        with self._lock:
            self._batches.append(batch)

    def versions(self, model: str) -> dict[str, tuple[str, float, str]]:
        """Per request id: the version that answered, its output and the status."""
        with self._lock:
            batches = [b for b in self._batches if b.model == model]
        found: dict[str, tuple[str, float, str]] = {}
        for batch in batches:
            outputs = batch.outputs.get("y")
            for i, request_id in enumerate(batch.request_ids):
                value = float(outputs[batch.offsets[i]]) if outputs is not None else np.nan
                found[request_id] = (batch.version, value, batch.statuses[i])
        return found


@dataclass(frozen=True)
class Served:
    url: str
    grpc: str
    tap: Collected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    batching = BatchingConfig(max_batch_size=8, max_batch_delay_ms=1)
    configs = [
        ModelConfig("score", "1", "test", "v1", FEATURES, batching),
        ModelConfig("ten", "1", "test", "ten", FEATURES),
        ModelConfig(
            "via", "7", "pipeline", "", FEATURES,
            composite=PipelineConfig((PipelineStep("score"),), outputs={"y": "y"}),
        ),
        ModelConfig(
            "avg", "3", "ensemble", "", FEATURES,
            composite=EnsembleConfig(("score", "ten"), combine="mean"),
        ),
    ]  # fmt: skip
    tap = Collected()
    grpc_port = free_port()
    server = create_server(configs, tap=tap, load_runtime=load, grpc_port=grpc_port)
    with served_in_thread(server.app) as url:
        yield Served(url, f"127.0.0.1:{grpc_port}", tap)


def body(request_id: str) -> dict[str, Any]:
    return {
        "id": request_id,
        "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [0.5, 1.5]}],
    }


@dataclass(frozen=True)
class Answer:
    model: str
    request_id: str
    status: int
    version: str | None
    value: float | None
    sent_after_swap: bool


async def stream(served: Served) -> tuple[list[Answer], list[int], httpx.Response]:
    """Clients send requests until a while after the new version is deployed."""
    swapped = asyncio.Event()
    stop = asyncio.Event()
    answers: list[Answer] = []
    ready_codes: list[int] = []

    async def client(n: int, http: httpx.AsyncClient) -> None:
        models = ("score", "via", "avg")
        i = 0
        while not stop.is_set():
            model = models[i % len(models)]
            request_id = f"c{n}-{i}"
            after = swapped.is_set()
            r = await http.post(f"/v2/models/{model}/infer", json=body(request_id))
            answer = r.json() if r.status_code == 200 else {}
            value = answer["outputs"][0]["data"][0] if answer else None
            version = answer.get("model_version")
            answers.append(Answer(model, request_id, r.status_code, version, value, after))
            i += 1

    async def readiness(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            ready_codes.append((await http.get("/v2/health/ready")).status_code)
            await asyncio.sleep(0.02)

    limits = httpx.Limits(max_connections=CLIENTS + 2)
    async with httpx.AsyncClient(base_url=served.url, timeout=30, limits=limits) as http:
        tasks = [asyncio.ensure_future(client(n, http)) for n in range(CLIENTS)]
        tasks.append(asyncio.ensure_future(readiness(http)))
        await asyncio.sleep(0.2)
        deploy = await http.post(
            "/v2/repository/models/score/load", json={"parameters": {"version": "2", "uri": "v2"}}
        )
        swapped.set()
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*tasks)
    return answers, ready_codes, deploy


def test_a_new_version_deployed_under_load_drops_nothing(served: Served) -> None:
    answers, ready_codes, deploy = asyncio.run(stream(served))
    assert deploy.status_code == 200, deploy.text
    assert len(answers) > 20, f"only {len(answers)} requests were sent"
    failed = [a for a in answers if a.status != 200]
    assert failed == [], f"{len(failed)} of {len(answers)} requests failed: {failed[:3]}"
    assert set(ready_codes) == {200}, "readiness dropped while the new version loaded"

    direct = [a for a in answers if a.model == "score"]
    assert {a.version for a in direct} == {"1", "2"}
    for a in direct:  # each answer comes from the version it names
        assert a.value == {"1": 1.0, "2": 2.0}[a.version or ""], a
    assert all(a.version == "2" for a in direct if a.sent_after_swap)

    tapped = served.tap.versions("score")
    tapped_via = served.tap.versions("via")
    for a in direct:
        assert tapped[a.request_id] == (a.version, a.value, "ok"), a
    # composites call the model's default version; the member's record says which answered
    for a in answers:
        if a.model == "via":
            member_version, member_value, _ = tapped[a.request_id]
            assert a.version == "7"
            assert a.value == member_value == {"1": 1.0, "2": 2.0}[member_version]
            assert tapped_via[a.request_id] == ("7", a.value, "ok")
        if a.model == "avg":
            member_version, member_value, _ = tapped[a.request_id]
            assert a.value == pytest.approx((member_value + 10.0) / 2)
    via_versions = {tapped[a.request_id][0] for a in answers if a.model == "via"}
    assert via_versions == {"1", "2"}, "the pipeline did not follow the member's new version"

    metrics = httpx.get(f"{served.url}/metrics").text
    ok = samples(metrics, "driftline_serving_requests_total", status="ok", model="score")
    assert set(ok) >= {"1", "2"}
    assert sum(ok.values()) >= len(direct)
    info = samples(metrics, "driftline_serving_model_version_info", model="score")
    assert info == {"2": 1.0}


def samples(text: str, name: str, **labels: str) -> dict[str, float]:
    """Per ``version`` label, the value of the series of ``name`` with ``labels``."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                version = sample.labels["version"]
                found[version] = found.get(version, 0.0) + sample.value
    return found


def test_composites_answer_over_grpc_as_over_rest(served: Served) -> None:
    client = triton.InferenceServerClient(served.grpc)
    try:
        x = triton.InferInput("x", [2, 2], "FP64")
        x.set_data_from_numpy(np.array([[0.1, 0.2], [0.3, 0.4]]))
        result = client.infer("avg", [x], request_id="g-1")
        metadata = client.get_model_metadata("via")
    finally:
        client.close()
    rest = httpx.post(f"{served.url}/v2/models/avg/infer", json=body("r-1")).json()
    version = httpx.get(f"{served.url}/v2/models/score/ready").json()["version"]
    expected = ({"1": 1.0, "2": 2.0}[version] + 10.0) / 2
    np.testing.assert_allclose(result.as_numpy("y"), [expected, expected])
    assert rest["outputs"][0]["data"] == [expected]
    assert metadata.platform == "driftline_pipeline"
    assert [i.name for i in metadata.inputs] == ["a", "b"]
    assert [(o.name, o.datatype, list(o.shape)) for o in metadata.outputs] == [("y", "FP64", [-1])]
