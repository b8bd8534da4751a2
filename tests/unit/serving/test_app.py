from __future__ import annotations

import asyncio
import gzip
import time
from typing import Any

import numpy as np
import orjson
import pytest
from numpy.typing import NDArray
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from serving.admin import AdminPolicy
from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.runtimes.base import Runtime, TensorSpec
from serving.runtimes.sklearn import SklearnRuntime
from serving.server import Server, create_server
from serving.tap import TappedBatch
from tests.unit.serving.asgi import running

pytestmark = pytest.mark.anyio

FEATURES = tuple(FeatureInput(name) for name in ("sl", "sw", "pl", "pw"))
X, Y = load_iris(return_X_y=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def estimator() -> LogisticRegression:
    return LogisticRegression(max_iter=1000).fit(X, Y)


class Slow(Runtime):
    """A model that takes ``seconds`` per batch: for deadlines and full queues."""

    platform = "python_test"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec("y", "FP64", (-1,)),)

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        time.sleep(self.seconds)
        return {"y": features[:, 0]}


class Collected:
    """A tap that keeps what it gets."""

    def __init__(self) -> None:
        self.batches: list[TappedBatch] = []

    def submit(self, batch: TappedBatch) -> None:
        self.batches.append(batch)

    def statuses(self) -> list[str]:
        return [s for batch in self.batches for s in batch.statuses]


def config(name: str = "iris", version: str = "1", **batching: Any) -> ModelConfig:
    return ModelConfig(
        name=name,
        version=version,
        runtime="test",
        uri=f"{name}-{version}",
        features=FEATURES,
        batching=BatchingConfig(**batching),
    )


def iris_server(
    estimator: LogisticRegression, *, tap: Collected | None = None, **kw: Any
) -> Server:
    def load(cfg: ModelConfig) -> Runtime:
        if cfg.uri.startswith("slow"):
            return Slow(float(cfg.options.get("seconds", 0.2)))
        return SklearnRuntime(estimator, feature_names=cfg.feature_names, name=cfg.uri)

    return create_server([config()], tap=tap, load_runtime=load, **kw)


def infer_body(rows: NDArray[Any], **extra: Any) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": "x",
                "shape": list(rows.shape),
                "datatype": "FP64",
                "data": rows.ravel().tolist(),
            }
        ],
        **extra,
    }


async def test_health_metadata_and_readiness(estimator: LogisticRegression) -> None:
    async with running(iris_server(estimator).app) as http:
        assert (await http.get("/v2/health/live")).status_code == 200
        assert (await http.get("/v2/health/ready")).json() == {"ready": True}
        server = (await http.get("/v2")).json()
        assert server["name"] == "driftline"
        assert "model_repository" in server["extensions"]
        metadata = (await http.get("/v2/models/iris")).json()
        assert metadata["name"] == "iris"
        assert metadata["versions"] == ["1"]
        assert [i["name"] for i in metadata["inputs"]] == ["sl", "sw", "pl", "pw"]
        assert {o["name"] for o in metadata["outputs"]} == {"predict", "predict_proba"}
        assert (await http.get("/v2/models/iris/versions/1/ready")).status_code == 200
        assert (await http.get("/v2/models/iris/versions/9/ready")).status_code == 404


async def test_predictions_equal_the_estimators_for_every_request_form(
    estimator: LogisticRegression,
) -> None:
    rows = X[:5]
    expected_proba = estimator.predict_proba(rows)
    async with running(iris_server(estimator).app) as http:
        flat = await http.post("/v2/models/iris/infer", json=infer_body(rows, id="abc"))
        nested = await http.post(
            "/v2/models/iris/versions/1/infer",
            json={
                "inputs": [
                    {"name": "x", "shape": [5, 4], "datatype": "FP64", "data": rows.tolist()}
                ]
            },
        )
        per_feature = await http.post(
            "/v2/models/iris/infer",
            json={
                "inputs": [
                    {"name": f.name, "shape": [5], "datatype": "FP32", "data": rows[:, j].tolist()}
                    for j, f in enumerate(FEATURES)
                ],
                "outputs": [{"name": "predict"}],
            },
        )
        records = await http.post(
            "/v2/models/iris/records",
            json=[dict(zip(["sl", "sw", "pl", "pw"], row, strict=True)) for row in rows.tolist()],
        )
    body = flat.json()
    assert body["id"] == "abc"
    assert body["model_name"] == "iris"
    assert body["model_version"] == "1"
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["predict_proba"]["shape"] == [5, 3]
    np.testing.assert_allclose(
        outputs["predict_proba"]["data"], expected_proba.ravel(), rtol=0, atol=0
    )
    assert outputs["predict"]["data"] == estimator.predict(rows).tolist()
    assert nested.json()["outputs"] == body["outputs"]
    assert nested.json()["id"] not in ("", flat.json()["id"])  # generated when none is sent
    assert [o["name"] for o in per_feature.json()["outputs"]] == ["predict"]
    predictions = records.json()["predictions"]
    assert [p["predict"] for p in predictions] == estimator.predict(rows).tolist()


@pytest.mark.parametrize(
    ("path", "content", "status", "message"),
    [
        ("/v2/models/iris/infer", b"{", 400, "body: not valid JSON"),
        ("/v2/models/iris/infer", orjson.dumps(infer_body(np.zeros((1, 3)))), 400, "has 3 columns"),
        (
            "/v2/models/iris/infer",
            orjson.dumps(infer_body(np.zeros((1, 4)), outputs=[{"name": "nope"}])),
            400,
            "unknown output(s) nope",
        ),
        ("/v2/models/iris/records", b'[{"sl": null, "sw": 1, "pl": 1, "pw": 1}]', 400, "NaN"),
        (
            "/v2/models/other/infer",
            orjson.dumps(infer_body(np.zeros((1, 4)))),
            404,
            "model 'other' is not deployed",
        ),
        (
            "/v2/models/iris/versions/7/infer",
            orjson.dumps(infer_body(np.zeros((1, 4)))),
            404,
            "has no version '7'",
        ),
        ("/v2/models/iris/explain", b"{}", 404, "no route"),
        ("/v1/models/iris", b"{}", 404, "under /v2"),
        (
            "/v2/models/iris/records",
            b'[{"sl": 1}]',
            400,
            "records[0]: missing feature(s) sw, pl, pw",
        ),
    ],
)
async def test_client_mistakes_get_the_documented_status_and_error_body(
    estimator: LogisticRegression, path: str, content: bytes, status: int, message: str
) -> None:
    async with running(iris_server(estimator).app) as http:
        response = await http.post(path, content=content)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["error"]


async def test_wrong_method_is_405_with_allow(estimator: LogisticRegression) -> None:
    async with running(iris_server(estimator).app) as http:
        response = await http.get("/v2/models/iris/infer")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "use POST" in response.json()["error"]


async def test_oversized_and_compressed_bodies(estimator: LogisticRegression) -> None:
    body = orjson.dumps(infer_body(X[:3]))
    async with running(iris_server(estimator, max_body_bytes=len(body) - 1).app) as http:
        too_big = await http.post("/v2/models/iris/infer", content=body)
        zipped = await http.post(
            "/v2/models/iris/infer",
            content=gzip.compress(orjson.dumps(infer_body(X[:1]))),
            headers={"content-encoding": "gzip"},
        )
        bomb = await http.post(
            "/v2/models/iris/infer",
            content=gzip.compress(b" " * 10 * len(body)),
            headers={"content-encoding": "gzip"},
        )
        brotli = await http.post(
            "/v2/models/iris/infer", content=b"x", headers={"content-encoding": "br"}
        )
    assert too_big.status_code == 413
    assert "exceeds the limit" in too_big.json()["error"]
    assert zipped.status_code == 200
    assert bomb.status_code == 413
    assert brotli.status_code == 415


async def test_every_request_is_tapped_and_counted(estimator: LogisticRegression) -> None:
    tap = Collected()
    server = iris_server(estimator, tap=tap)
    async with running(server.app) as http:
        answers = await asyncio.gather(
            *(
                http.post("/v2/models/iris/infer", json=infer_body(X[i : i + 2], id=f"r{i}"))
                for i in range(20)
            )
        )
        bad = await http.post("/v2/models/iris/infer", json=infer_body(np.zeros((1, 3)), id="bad"))
        metrics = (await http.get("/metrics")).text
    assert {a.status_code for a in answers} == {200}
    assert bad.status_code == 400
    ok = [b for b in tap.batches if b.statuses[0] == "ok"]
    assert sorted(i for b in ok for i in b.request_ids) == sorted(f"r{i}" for i in range(20))
    assert sum(int(b.row_counts.sum()) for b in ok) == 40
    first = ok[0]
    assert first.features is not None
    assert first.features.shape[0] == int(first.row_counts.sum())
    assert set(first.outputs) == {"predict", "predict_proba"}
    assert first.roles == {"prediction": "predict", "probabilities": "predict_proba"}
    assert (first.latency_seconds > 0).all()
    refused = [b for b in tap.batches if b.statuses[0] != "ok"]
    assert [(b.request_ids, b.statuses) for b in refused] == [(("bad",), ("bad_input",))]
    assert 'driftline_serving_requests_total{model="iris",status="ok",version="1"} 20.0' in metrics
    assert (
        'driftline_serving_requests_total{model="iris",status="bad_input",version="1"} 1.0'
        in metrics
    )
    assert "driftline_serving_batch_size_rows_bucket" in metrics
    assert 'driftline_serving_queue_depth_requests{model="iris",version="1"} 0.0' in metrics


async def test_deadlines_and_full_queues(estimator: LogisticRegression) -> None:
    tap = Collected()
    slow = ModelConfig(
        name="slow", version="1", runtime="test", uri="slow", features=(FeatureInput("a"),),
        batching=BatchingConfig(max_batch_size=1, max_queue_size=2), options={"seconds": 0.3},
    )  # fmt: skip
    server = iris_server(estimator, tap=tap)
    async with running(server.app) as http:
        await server.repository.deploy(slow)
        one = {"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1.0]}]}
        late = await http.post(
            "/v2/models/slow/infer", json={**one, "parameters": {"timeout": 1000}}
        )
        answers = await asyncio.gather(
            *(http.post("/v2/models/slow/infer", json=one) for _ in range(6))
        )
    assert late.status_code == 504
    assert "missed its deadline" in late.json()["error"]
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) >= 2
    assert 503 in codes
    assert all(c in (200, 503) for c in codes)
    assert "timeout" in tap.statuses()
    assert "overloaded" in tap.statuses()


async def test_the_admin_api_hot_swaps_without_dropping_requests(
    estimator: LogisticRegression,
) -> None:
    server = iris_server(estimator, admin=AdminPolicy(allow_pickle=False))
    async with running(server.app) as http:
        stop = asyncio.Event()

        async def traffic() -> list[tuple[int, str]]:
            seen = []
            while not stop.is_set():
                r = await http.post("/v2/models/iris/infer", json=infer_body(X[:1]))
                seen.append((r.status_code, r.json().get("model_version", r.text)))
            return seen

        clients = [asyncio.ensure_future(traffic()) for _ in range(4)]
        await asyncio.sleep(0.1)
        load = await http.post(
            "/v2/repository/models/iris/load",
            json={"parameters": {"version": "2", "uri": "iris-2"}},
        )
        await asyncio.sleep(0.1)
        stop.set()
        seen = [answer for client in clients for answer in await client]
        index = (await http.post("/v2/repository/index")).json()
        unload = await http.post("/v2/repository/models/iris/unload")
        after = await http.post("/v2/models/iris/infer", json=infer_body(X[:1]))
        ready = await http.get("/v2/health/ready")
    assert load.status_code == 200, load.text
    assert {status for status, _ in seen} == {200}
    versions = [version for _, version in seen]
    assert versions[0] == "1"
    assert "2" in versions
    assert index == [{"name": "iris", "state": "READY", "reason": "", "version": "2"}]
    assert unload.status_code == 200
    assert after.status_code == 503
    assert "unloaded" in after.json()["error"]
    assert ready.status_code == 503


async def test_admin_api_is_closed_to_remote_clients_and_checks_tokens(
    estimator: LogisticRegression,
) -> None:
    async with running(iris_server(estimator).app, client=("10.1.2.3", 5000)) as http:
        remote = await http.post("/v2/repository/models/iris/unload")
    tokened = iris_server(estimator, admin=AdminPolicy(token="s3cret"))
    async with running(tokened.app, client=("10.1.2.3", 5000)) as http:
        wrong = await http.post(
            "/v2/repository/models/iris/unload", headers={"authorization": "Bearer nope"}
        )
        right = await http.post(
            "/v2/repository/models/iris/unload", headers={"authorization": "Bearer s3cret"}
        )
    assert remote.status_code == 403
    assert "loopback" in remote.json()["error"]
    assert wrong.status_code == 403
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("parameters", "status", "message"),
    [
        ({"color": "red"}, 400, "unknown key(s) color"),
        ({"max_batch_size": 0}, 400, "max_batch_size must be >= 1"),
        ({"allow_pickle": True}, 403, "does not let API callers unpickle"),
        ({"config": "{not json"}, 400, "parameters.config: expected a JSON object"),
    ],
)
async def test_bad_load_requests_are_refused_and_the_model_keeps_serving(
    estimator: LogisticRegression, parameters: dict[str, Any], status: int, message: str
) -> None:
    async with running(iris_server(estimator).app) as http:
        load = await http.post("/v2/repository/models/iris/load", json={"parameters": parameters})
        still = await http.post("/v2/models/iris/infer", json=infer_body(X[:1]))
        unknown = await http.post("/v2/repository/models/nope/load", json={})
    assert load.status_code == status
    assert message in load.json()["error"]
    assert still.status_code == 200
    assert unknown.status_code == 400
    assert "give runtime and uri" in unknown.json()["error"]


async def test_a_model_that_fails_to_load_fails_startup(estimator: LogisticRegression) -> None:
    server = create_server([config()], load_runtime=lambda c: SklearnRuntime(object()))
    with pytest.raises(RuntimeError, match="predict"):
        async with running(server.app):
            pass
