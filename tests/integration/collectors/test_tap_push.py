"""The inference server pushes its tap to a sidecar over loopback; records reach the store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
import uvicorn
from prometheus_client import CollectorRegistry
from sklearn.linear_model import LogisticRegression
from sqlalchemy import Engine

from collectors.auth import TokenAuthorizer
from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.sidecar import IngestService, create_sidecar_app
from collectors.spool import Spool
from collectors.tap_push import PushTap
from serving.config import FeatureInput, ModelConfig
from serving.runtimes.sklearn import SklearnRuntime
from serving.server import create_server
from serving.tap import TappedBatch
from storage import FeatureSpec, create_session_factory, register_model
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token
from tests.unit.serving.asgi import running

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sidecar(engine: Engine, tmp_path: Path) -> Iterator[tuple[str, str]]:
    sessions = create_session_factory(engine)
    with sessions() as session, session.begin():
        register_model(
            session,
            name="clf",
            task="binary_classification",
            version="1",
            classes=("no", "yes"),
            features=(FeatureSpec("a", "numeric"), FeatureSpec("b", "numeric")),
        )
        token = create_token(session, name="tap", scopes=["ingest"]).token
    registry = CollectorRegistry()
    spool = Spool(tmp_path / "spool")
    collector = Collector(engine, spool, metrics=CollectorMetrics(registry))
    collector.start()
    authorize = TokenAuthorizer(TokenVerifier(sessions))
    app = create_sidecar_app(
        IngestService(collector, engine),
        authorize=authorize,
        registry=registry,
        ready=lambda: True,
        max_body_bytes=2**24,
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", token
    server.should_exit = True
    thread.join(timeout=30)
    collector.stop()
    spool.close()


def stored(engine: Engine, count: int) -> list[Any]:
    query = sa.text(
        "select request_id, status, prediction from prediction_records order by request_id"
    )
    deadline = time.monotonic() + 30
    rows: list[Any] = []
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            rows = list(connection.execute(query))
        if len(rows) >= count:
            break
        time.sleep(0.05)
    return rows


async def test_pushed_batches_are_stored(engine: Engine, sidecar: tuple[str, str]) -> None:
    url, token = sidecar
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    estimator = LogisticRegression().fit(x, [0, 1, 0, 1])
    registry = CollectorRegistry()
    tap = PushTap(url, registry=registry, token=token)
    config = ModelConfig(
        name="clf",
        version="1",
        runtime="t",
        uri="t",
        features=(FeatureInput("a"), FeatureInput("b")),
    )
    server = create_server([config], tap=tap, load_runtime=lambda c: SklearnRuntime(estimator))
    async with running(server.app) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    "/v2/models/clf/records",
                    json={"id": f"r{i:02d}", "records": [{"a": i % 2, "b": 1}]},
                )
                for i in range(30)
            )
        )
        bad = await http.post("/v2/models/clf/records", json={"id": "zz", "records": [{"a": 1}]})
    assert {a.status_code for a in answers} == {200}
    assert bad.status_code == 400
    rows = await asyncio.to_thread(stored, engine, 31)
    tap.close()
    assert [r.request_id for r in rows] == [f"r{i:02d}" for i in range(30)] + ["zz"]
    assert rows[-1].status == 2
    assert registry.get_sample_value("driftline_tap_batches_sent_total") >= 2


def test_a_wrong_token_is_retried_and_counted_not_raised(sidecar: tuple[str, str]) -> None:
    url, _ = sidecar
    registry = CollectorRegistry()
    tap = PushTap(url, registry=registry, token="dlt_" + "x" * 43, queue_batches=1)
    batch = TappedBatch(
        model="clf",
        version="1",
        request_ids=("a",),
        row_counts=np.array([0]),
        features=None,
        feature_names=("a", "b"),
        outputs={},
        received_at=np.array([1.8e9]),
        latency_seconds=np.array([0.1]),
        statuses=("error",),
        errors=("boom",),
    )
    for _ in range(5):
        tap.submit(batch)
    tap.close(timeout=1)
    assert registry.get_sample_value("driftline_tap_batches_sent_total") == 0
    dropped = registry.get_sample_value(
        "driftline_tap_batches_dropped_total", {"reason": "queue_full"}
    )
    assert dropped is not None
    assert dropped >= 3
