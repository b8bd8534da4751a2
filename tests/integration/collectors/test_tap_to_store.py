"""From the inference server's tap to the store: real server app, real spool, real database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sklearn.linear_model import LogisticRegression
from sqlalchemy import Engine

from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.payload import decode
from collectors.spool import Position, Spool
from collectors.tap import CollectorTap, TappedRecords
from serving.config import FeatureInput, ModelConfig
from serving.runtimes.sklearn import SklearnRuntime
from serving.server import create_server
from serving.tap import TappedBatch
from storage import FeatureSpec, create_session_factory, register_model
from storage.models import PredictionRecord
from tests.unit.serving.asgi import running

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

FEATURES = (FeatureInput("age"), FeatureInput("country", "categorical"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def register(engine: Engine, name: str = "clf", version: str = "1") -> None:
    with create_session_factory(engine)() as session, session.begin():
        register_model(
            session,
            name=name,
            task="binary_classification",
            version=version,
            classes=("no", "yes"),
            features=(FeatureSpec("age", "numeric"), FeatureSpec("country", "categorical")),
        )


def stored(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(
                    PredictionRecord.request_id,
                    PredictionRecord.status,
                    PredictionRecord.prediction,
                    PredictionRecord.error_type,
                ).order_by(PredictionRecord.request_id)
            )
        )


def wait_for(engine: Engine, count: int) -> list[Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = stored(engine)
        if len(rows) >= count:
            return rows
        time.sleep(0.05)
    return stored(engine)


def collector(engine: Engine, directory: Path) -> tuple[Collector, Spool, CollectorRegistry]:
    registry = CollectorRegistry()
    spool = Spool(directory)
    return Collector(engine, spool, metrics=CollectorMetrics(registry)), spool, registry


def tapped(ids: list[str], rows: list[int], statuses: list[str]) -> TappedBatch:
    total = sum(rows)
    features = np.empty((total, 2), dtype=object)
    features[:, 0] = np.arange(total, dtype=np.float64) + 20
    features[:, 1] = ["fr", "de"] * (total // 2) + ["fr"] * (total % 2)
    ok = all(s == "ok" for s in statuses)
    return TappedBatch(
        model="clf",
        version="1",
        request_ids=tuple(ids),
        row_counts=np.array(rows, dtype=np.int64),
        features=features if total else None,
        feature_names=("age", "country"),
        outputs={"predict": np.arange(total) % 2, "predict_proba": np.full((total, 2), 0.5)}
        if ok
        else {},
        received_at=np.full(len(ids), 1.8e9),
        latency_seconds=np.full(len(ids), 0.002),
        statuses=tuple(statuses),  # type: ignore[arg-type]
        errors=tuple(None if s == "ok" else f"{s} happened" for s in statuses),
        roles={"prediction": "predict", "probabilities": "predict_proba"},
    )


def test_tapped_batches_become_records_once(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    worker, spool, _ = collector(engine, tmp_path / "spool")
    tap = CollectorTap(worker)
    worker.start()
    tap.submit(tapped(["a", "b"], [1, 3], ["ok", "ok"]))
    tap.submit(tapped(["bad"], [0], ["bad_input"]))
    tap.submit(tapped(["slow"], [2], ["timeout"]))
    tap.submit(tapped(["a"], [1], ["ok"]))  # a replay: stored once
    rows = wait_for(engine, 7)
    worker.stop()
    spool.close()
    assert [r.request_id for r in rows] == ["a", "b:0", "b:1", "b:2", "bad", "slow:0", "slow:1"]
    by_id = {r.request_id: r for r in rows}
    assert by_id["b:1"].prediction == 0.0  # class index of "no"... row 2 predicted 0
    assert by_id["bad"].status == 2
    assert by_id["bad"].error_type == "bad_input"
    assert by_id["slow:1"].status == 3


async def test_server_requests_reach_the_store(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    worker, spool, registry = collector(engine, tmp_path / "spool")
    worker.start()
    x = np.array([[30.0, 0.0], [50.0, 1.0], [40.0, 0.0], [70.0, 1.0]])
    estimator = LogisticRegression().fit(x, [0, 1, 0, 1])

    class Runtime(SklearnRuntime):
        def predict(self, features: Any, outputs: tuple[str, ...]) -> Any:
            numeric = np.column_stack([features[:, 0].astype(float), features[:, 1] == "de"])
            return super().predict(numeric.astype(float), outputs)

    config = ModelConfig(name="clf", version="1", runtime="t", uri="t", features=FEATURES)
    server = create_server(
        [config],
        tap=CollectorTap(worker),
        registry=registry,
        load_runtime=lambda c: Runtime(estimator),
    )
    async with running(server.app) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    "/v2/models/clf/records",
                    json={
                        "id": f"req-{i}",
                        "records": [{"age": 20 + i, "country": "de" if i % 2 else "fr"}],
                    },
                )
                for i in range(25)
            )
        )
        refused = await http.post(
            "/v2/models/clf/records", json={"id": "oops", "records": [{"age": 1}]}
        )
        rows = await asyncio.to_thread(wait_for, engine, 26)
        metrics = (await http.get("/metrics")).text
    worker.stop()
    spool.close()
    assert {a.status_code for a in answers} == {200}
    assert refused.status_code == 400
    assert sorted(r.request_id for r in rows) == sorted([f"req-{i}" for i in range(25)] + ["oops"])
    assert "driftline_collector_records_written_total 26.0" in metrics
    assert "driftline_collector_spool_bytes" in metrics


class Recorder:
    """A publisher (the collector's other destination) keeping what it is given."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def publish(self, entries: Sequence[tuple[Position, bytes]]) -> int:
        self.payloads.extend(payload for _, payload in entries)
        return 0


def test_a_backlog_is_spooled_in_bounded_rounds_in_order(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    spool = Spool(tmp_path / "spool")
    recorder = Recorder()
    worker = Collector(
        engine, spool, metrics=CollectorMetrics(CollectorRegistry()), publisher=recorder
    )
    sizes = [20_000, 20_000, 20_000, 5]
    for b, size in enumerate(sizes):  # queued before the spooler's first round
        worker.submit(
            TappedRecords(tapped([f"{b}-{i}" for i in range(size)], [1] * size, ["ok"] * size))
        )
    worker.start()
    deadline = time.monotonic() + 30
    while sum(len(decode(p)) for p in recorder.payloads) < sum(sizes):
        assert time.monotonic() < deadline, "the backlog did not reach the publisher in 30 s"
        time.sleep(0.05)
    worker.stop()
    spool.close()

    rounds = [decode(p).batch.request_ids for p in recorder.payloads]
    # A round stops taking batches once it holds 32,768 records or more.
    assert [len(r) for r in rounds] == [40_000, 20_005]
    assert [i for r in rounds for i in r] == [
        f"{b}-{i}" for b, s in enumerate(sizes) for i in range(s)
    ]
