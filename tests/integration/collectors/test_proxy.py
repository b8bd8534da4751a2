"""The reverse proxy in front of a real model server on loopback, recording into a real store."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
import sqlalchemy as sa
import uvicorn
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from collectors.collector import Collector
from collectors.extract import PayloadSpec
from collectors.metrics import CollectorMetrics
from collectors.proxy import ReverseProxy
from collectors.spool import Spool
from storage import FeatureSpec, create_session_factory, read_window, register_model
from storage.models import PredictionRecord

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = "s3cret-client-token"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- a small OIP v2 / KServe v1 model server ----------------------------------------------


class Upstream:
    """What the model server saw, and a gate the streaming route waits on."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.url = ""


def build_upstream(state: Upstream) -> Starlette:
    def json(body: Any, status: int = 200, **headers: str) -> Response:
        return Response(orjson.dumps(body), status, headers, media_type="application/json")

    async def seen(request: Request) -> bytes:
        body = await request.body()
        state.seen.append(
            {
                "path": request.url.path,
                "raw_path": request.scope["raw_path"],
                "query": request.url.query,
                "headers": dict(request.headers),
                "body": body,
            }
        )
        return body

    async def infer(request: Request) -> Response:
        document = orjson.loads(await seen(request))
        model = request.path_params["model"]
        if model == "slow":
            await asyncio.sleep(3)
        if model == "boom":
            return json({"error": "model crashed"}, 500)
        tensor = document["inputs"][0]
        rows = np.asarray(tensor["data"], dtype=object).reshape(tensor["shape"])
        labels = [int(float(row[0]) > 40) for row in rows]
        return json(
            {
                "model_name": model,
                "id": document.get("id", "server-made-id"),
                "outputs": [
                    {"name": "predict", "shape": [len(labels)], "datatype": "INT64",
                     "data": labels},
                    {"name": "predict_proba", "shape": [len(labels), 2], "datatype": "FP64",
                     "data": [[0.2, 0.8] if y else [0.9, 0.1] for y in labels]},
                ],
            },
            **{"x-upstream": "yes"},
        )  # fmt: skip

    async def predict(request: Request) -> Response:
        document = orjson.loads(await seen(request))
        instances = document.get("instances")
        if not isinstance(instances, list):
            return json({"error": 'Expected "instances" to be a list'}, 400)
        answer = orjson.dumps({"predictions": ["yes" if r[0] > 40 else "no" for r in instances]})
        if request.path_params["model"] == "clf-gz":
            return Response(gzip.compress(answer), headers={"content-encoding": "gzip"})
        return Response(answer, media_type="application/json")

    async def custom(request: Request) -> Response:
        document = orjson.loads(await seen(request))
        return json({"result": [{"value": 2 * row["x"]} for row in document["data"]["rows"]]})

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first\n"
            await asyncio.to_thread(state.release.wait, 10)
            yield b"second\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    async def broken(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"outputs": ['
            raise RuntimeError("the model server fell over mid-answer")

        return StreamingResponse(chunks(), headers={"content-length": "100"})

    async def echo(request: Request) -> Response:
        await seen(request)
        return json({"path": request.url.path}, **{"x-upstream": "echo"})

    return Starlette(
        routes=[
            Route("/v2/models/broken/infer", broken, methods=["POST"]),
            Route("/v2/models/{model}/infer", infer, methods=["POST"]),
            Route("/v2/models/{model}/versions/{version}/infer", infer, methods=["POST"]),
            Route("/v1/models/{model}:predict", predict, methods=["POST"]),
            Route("/custom/score", custom, methods=["POST"]),
            Route("/stream", stream),
            Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT"]),
        ]
    )


class Served:
    """An ASGI app under real uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: Any, **options: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    state = Upstream()
    served = Served(build_upstream(state), timeout_graceful_shutdown=1)
    state.url = served.url
    yield state
    state.release.set()
    served.stop()


# -- the proxy under test -------------------------------------------------------------------


class Proxied:
    def __init__(self, engine: Engine, registry: CollectorRegistry, spool_dir: Path) -> None:
        self.engine = engine
        self.registry = registry
        self.spool_dir = spool_dir

    def stored(self, count: int) -> dict[str, Any]:
        query = sa.select(
            PredictionRecord.request_id,
            PredictionRecord.status,
            PredictionRecord.prediction,
            PredictionRecord.latency_seconds,
            PredictionRecord.error_type,
            PredictionRecord.error_message,
        )
        deadline = time.monotonic() + 30
        rows: list[Any] = []
        while time.monotonic() < deadline:
            with self.engine.connect() as connection:
                rows = list(connection.execute(query))
            if len(rows) >= count:
                break
            time.sleep(0.05)
        return {row.request_id: row for row in rows}

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def collector(engine: Engine, tmp_path: Path) -> Iterator[tuple[Collector, Proxied]]:
    with create_session_factory(engine)() as session, session.begin():
        register_model(
            session,
            name="clf",
            task="binary_classification",
            version="1",
            classes=("no", "yes"),
            features=(FeatureSpec("age", "numeric"), FeatureSpec("country", "categorical")),
        )
        features = (FeatureSpec("x", "numeric"),)
        register_model(session, name="reg", task="regression", version="1", features=features)
    registry = CollectorRegistry()
    spool = Spool(tmp_path / "spool")
    collector = Collector(engine, spool, metrics=CollectorMetrics(registry))
    collector.start()
    yield collector, Proxied(engine, registry, tmp_path / "spool")
    collector.stop()
    spool.close()


def make_proxy(
    collector: Collector, registry: CollectorRegistry, url: str, **extra: Any
) -> ReverseProxy:
    options: dict[str, Any] = {
        "registry": registry,
        "routes": {"/custom/score": "reg"},
        "names": {"clf-gz": "clf"},
        "specs": {"reg": PayloadSpec("json", features="data.rows", prediction="result.value")},
        "timeout_seconds": 1.0,
        "max_record_bytes": 4096,
        **extra,
    }
    return ReverseProxy(url, collector.submit, collector.handle, **options)


@pytest.fixture
async def proxy(
    collector: tuple[Collector, Proxied], upstream: Upstream
) -> AsyncIterator[tuple[httpx.AsyncClient, Proxied]]:
    app = make_proxy(collector[0], collector[1].registry, upstream.url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        yield client, collector[1]
    await app.aclose()


def oip(rows: list[list[Any]], request_id: str | None = None) -> bytes:
    body: dict[str, Any] = {
        "inputs": [{"name": "input-0", "shape": [len(rows), 2], "datatype": "BYTES", "data": rows}]
    }
    if request_id is not None:
        body["id"] = request_id
    return orjson.dumps(body)


def v1(rows: list[list[Any]]) -> dict[str, Any]:
    return {"instances": rows}


def rid(request_id: str) -> dict[str, str]:
    return {"x-request-id": request_id}


async def test_oip_call_is_forwarded_unchanged_and_recorded(
    proxy: tuple[httpx.AsyncClient, Proxied], upstream: Upstream
) -> None:
    client, proxied = proxy
    body = oip([[41, "fr"], [29, "de"]], "call-1")
    headers = {"content-type": "application/json", "x-custom": "kept"}
    via = await client.post("/v2/models/clf/infer", content=body, headers=headers)
    forwarded = upstream.seen[-1]
    async with httpx.AsyncClient(base_url=upstream.url) as direct_client:
        direct = await direct_client.post("/v2/models/clf/infer", content=body, headers=headers)
    assert forwarded["body"] == body
    assert forwarded["headers"]["x-custom"] == "kept"
    assert via.status_code == direct.status_code == 200
    assert via.content == direct.content
    for name in ("content-type", "content-length", "x-upstream"):
        assert via.headers[name] == direct.headers[name]
    rows = proxied.stored(2)
    assert sorted(rows) == ["call-1:0", "call-1:1"]
    assert [rows[k].prediction for k in sorted(rows)] == [1.0, 0.0]
    assert all(rows[k].status == 0 and 0 < rows[k].latency_seconds < 5 for k in rows)
    window = read_window(
        proxied.engine,
        "clf",
        start=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        end=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    )
    np.testing.assert_array_equal(np.sort(window.numeric[:, 0]), [29.0, 41.0])
    np.testing.assert_allclose(np.sort(window.probabilities[:, 1]), [0.1, 0.8])


async def test_versioned_v1_gzip_and_custom_routes_are_recorded(
    proxy: tuple[httpx.AsyncClient, Proxied],
) -> None:
    client, proxied = proxy
    answers = [
        await client.post("/v2/models/clf/versions/1/infer", content=oip([[50, "it"]], "v2-ver")),
        await client.post("/v1/models/clf:predict", json=v1([[45, "fr"]]), headers=rid("v1")),
        await client.post("/v1/models/clf-gz:predict", json=v1([[20, "de"]]), headers=rid("gz")),
        await client.post("/custom/score", json={"data": {"rows": [{"x": 1.5}]}}, headers=rid("j")),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[2].json() == {"predictions": ["no"]}  # decompressed by the client, not us
    rows = proxied.stored(4)
    assert {k: (rows[k].status, rows[k].prediction) for k in rows} == {
        "v2-ver": (0, 1.0),
        "v1": (0, 1.0),
        "gz": (0, 0.0),
        "j": (0, 3.0),
    }


async def test_authorization_reaches_the_upstream_and_is_never_stored(
    proxy: tuple[httpx.AsyncClient, Proxied], upstream: Upstream
) -> None:
    client, proxied = proxy
    headers = {"authorization": f"Bearer {SECRET}", "cookie": f"session={SECRET}"}
    answer = await client.post(
        "/v2/models/clf/infer", content=oip([[33, "fr"]], "auth-1"), headers=headers
    )
    assert answer.status_code == 200
    assert upstream.seen[-1]["headers"]["authorization"] == f"Bearer {SECRET}"
    assert upstream.seen[-1]["headers"]["cookie"] == f"session={SECRET}"
    assert "auth-1" in proxied.stored(1)
    with proxied.engine.connect() as connection:
        dump = repr(list(connection.execute(sa.select(PredictionRecord))))
    assert "auth-1" in dump
    assert SECRET not in dump
    spooled = b"".join(p.read_bytes() for p in proxied.spool_dir.rglob("*") if p.is_file())
    assert b"auth-1" in spooled
    assert SECRET.encode() not in spooled


async def test_upstream_errors_are_passed_back_and_recorded(
    proxy: tuple[httpx.AsyncClient, Proxied],
) -> None:
    client, proxied = proxy
    bad = await client.post(
        "/v1/models/clf:predict", json={"instances": "no"}, headers={"x-request-id": "bad"}
    )
    boom = await client.post("/v2/models/boom/infer", content=oip([[1, "x"]], "boom-1"))
    assert (bad.status_code, bad.json()) == (400, {"error": 'Expected "instances" to be a list'})
    assert (boom.status_code, boom.json()) == (500, {"error": "model crashed"})
    rows = proxied.stored(1)
    assert rows["bad"].status == 2
    assert rows["bad"].error_message == 'HTTP 400: Expected "instances" to be a list'
    # "boom" is not a registered model: the collector rejects it, counted.
    deadline = time.monotonic() + 10
    while proxied.metric("driftline_collector_records_rejected_total", reason="unknown_model") < 1:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_an_unreachable_upstream_is_502_and_an_error_record(
    collector: tuple[Collector, Proxied],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = make_proxy(collector[0], collector[1].registry, f"http://127.0.0.1:{closed}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as c:
        answer = await c.post("/v2/models/clf/infer", content=oip([[41, "fr"]], "down-1"))
    await app.aclose()
    assert answer.status_code == 502
    assert answer.json()["error"].startswith("upstream unreachable (ConnectError")
    [row] = collector[1].stored(1).values()
    assert (row.request_id, row.status, row.prediction) == ("down-1", 1, None)
    assert row.error_message.startswith("upstream unreachable")
    unreachable = {"reason": "unreachable"}
    assert collector[1].metric("driftline_proxy_upstream_failures_total", **unreachable) == 1


async def test_a_slow_upstream_is_504_and_a_timeout_record(
    proxy: tuple[httpx.AsyncClient, Proxied],
) -> None:
    client, proxied = proxy
    answer = await client.post("/v2/models/slow/infer", content=oip([[41, "fr"]], "slow-1"))
    assert answer.status_code == 504
    assert answer.json()["error"].startswith("upstream no answer in time")
    assert proxied.metric("driftline_proxy_upstream_failures_total", reason="timeout") == 1


async def test_a_payload_too_large_is_forwarded_and_recorded_as_a_failure(
    proxy: tuple[httpx.AsyncClient, Proxied],
) -> None:
    client, proxied = proxy
    rows = [[41 + i % 3, "fr" * 20] for i in range(200)]  # ~10 KiB, over the 4 KiB limit
    answer = await client.post(
        "/v2/models/clf/infer", content=oip(rows, "big-1"), headers={"x-request-id": "big-1"}
    )
    assert answer.status_code == 200
    assert len(answer.json()["outputs"][0]["data"]) == 200
    [row] = proxied.stored(1).values()
    assert (row.request_id, row.status, row.prediction) == ("big-1", 1, None)
    assert row.error_message == "payload too large to record (over 4096 bytes)"
    assert proxied.metric("driftline_proxy_bodies_unrecorded_total", reason="too_large") == 1
    assert proxied.metric("driftline_proxy_held_bytes") == 0


async def test_other_routes_are_forwarded_as_sent_and_not_recorded(
    proxy: tuple[httpx.AsyncClient, Proxied], upstream: Upstream
) -> None:
    client, proxied = proxy
    headers = {"connection": "x-hop", "x-hop": "1", "x-end": "2"}
    answer = await client.get("/echo/a%2Fb/c?q=1&r=%20", headers=headers)
    assert (answer.status_code, answer.headers["x-upstream"]) == (200, "echo")
    seen = upstream.seen[-1]
    assert (seen["raw_path"], seen["query"]) == (b"/echo/a%2Fb/c", "q=1&r=%20")
    assert "x-hop" not in seen["headers"]
    assert seen["headers"]["x-end"] == "2"
    put = await client.put("/echo/x", content=b"raw bytes")
    assert put.status_code == 200
    assert upstream.seen[-1]["body"] == b"raw bytes"
    assert proxied.metric("driftline_proxy_calls_recorded_total") == 0


async def test_streaming_and_recording_through_real_uvicorn(
    collector: tuple[Collector, Proxied], upstream: Upstream
) -> None:
    app = make_proxy(collector[0], collector[1].registry, upstream.url)
    served = Served(app, server_header=False, date_header=False)
    upstream.release.clear()
    try:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            async with client.stream("GET", "/stream") as answer:
                chunks = answer.aiter_raw()
                first = await anext(chunks)
                assert b"first" in first  # arrived while the upstream still holds "second"
                assert not upstream.release.is_set()
                upstream.release.set()
                rest = b"".join([c async for c in chunks])
            assert (first + rest).endswith(b"second\n")
            gz = await client.post(
                "/v1/models/clf-gz:predict",
                json={"instances": [[50, "fr"]]},
                headers={"x-request-id": "gz-real", "accept-encoding": "gzip"},
            )
            assert gz.headers["content-encoding"] == "gzip"
            assert gz.json() == {"predictions": ["yes"]}
            with pytest.raises(httpx.RemoteProtocolError):  # cut, as the upstream cut it
                await client.post("/v2/models/broken/infer", content=oip([[1, "x"]]))
            broken = {"reason": "broken"}
            assert collector[1].metric("driftline_proxy_upstream_failures_total", **broken) == 1
            answer = await client.post("/v2/models/clf/infer", content=oip([[41, "fr"]], "real-1"))
            assert answer.status_code == 200
            assert answer.headers.get_list("server") == ["uvicorn"]  # the upstream's, once
            assert len(answer.headers.get_list("date")) == 1
    finally:
        served.stop()
    rows = collector[1].stored(2)
    assert {k: (rows[k].status, rows[k].prediction) for k in rows} == {
        "gz-real": (0, 1.0),
        "real-1": (0, 1.0),
    }


PROJECT = """version: 1
models:
  - name: clf
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: age, kind: numeric}, {name: country, kind: categorical}]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_driftline_sidecar_runs_the_proxy_beside_the_sidecar(
    tmp_path: Path, upstream: Upstream
) -> None:
    (tmp_path / "driftline.yaml").write_text(PROJECT)
    port, proxy_port = free_port(), free_port()
    command = [
        str(Path(sys.executable).with_name("driftline")), "sidecar", "--port", str(port),
        "--proxy-to", upstream.url, "--proxy-port", str(proxy_port), "--no-cloudevents-auth",
        "--model-name", "clf-gz=clf",
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    with (tmp_path / "sidecar.log").open("wb") as log:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "sidecar.log").read_text()
            assert time.monotonic() < deadline, "the sidecar did not start"
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                echo = httpx.get(f"http://127.0.0.1:{proxy_port}/echo/up", timeout=1)
                if ready.status_code == echo.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        answer = httpx.post(
            f"http://127.0.0.1:{proxy_port}/v1/models/clf-gz:predict",
            json={"instances": [[50, "fr"]]},
            headers={"x-request-id": "proc-1", "accept-encoding": "gzip"},
        )
        assert (answer.status_code, answer.json()) == (200, {"predictions": ["yes"]})
        event = httpx.post(
            f"http://127.0.0.1:{port}/",
            content=b'{"instances": [[30, "de"]]}',
            headers={
                "ce-specversion": "1.0", "ce-id": "ce-1", "ce-source": "test",
                "ce-type": "org.kubeflow.serving.inference.request",
                "ce-inferenceservicename": "clf",
            },
        )  # fmt: skip
        assert (event.status_code, event.json()) == (200, {"status": "pending"})
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    log = (tmp_path / "sidecar.log").read_text()
    assert code == 0, log
    assert "Traceback" not in log
    engine = sa.create_engine(f"sqlite:///{tmp_path / '.driftline' / 'driftline.db'}")
    with engine.connect() as connection:
        query = sa.select(PredictionRecord.request_id, PredictionRecord.status)
        stored = {row.request_id: row.status for row in connection.execute(query)}
    engine.dispose()
    assert stored == {"proc-1": 0, "ce-1": 1}  # the lone request is recorded at shutdown
