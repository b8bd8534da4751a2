"""A learning model in a running server: snapshots served as versions, followers, admin."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from serving.admin import AdminPolicy
from serving.online.learner import Learner
from serving.online.memory import MemoryStore
from serving.online.metrics import LearningCollector
from serving.online.service import LearningApp, OnlineLearning
from serving.server import create_server
from tests.unit.serving.asgi import running
from tests.unit.serving.online.streams import FEATURES, hyperplane, model_config, river_model

pytest.importorskip("river")
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _infer_body(rows: np.ndarray) -> dict[str, Any]:
    return {
        "inputs": [
            {"name": name, "shape": [len(rows)], "datatype": "FP64", "data": rows[:, i].tolist()}
            for i, name in enumerate(FEATURES)
        ]
    }


async def _until_version(http: httpx.AsyncClient, version: str) -> None:
    for _ in range(200):
        answer = await http.get("/v2/models/m/ready")
        if answer.status_code == 200 and answer.json()["version"] == version:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never served {version}; last answer {answer.json()}")


def _app(learner: Learner | None, base: Any, store: MemoryStore | None = None) -> LearningApp:
    config = learner.start() if learner is not None else base
    server = create_server([config])
    learners = {"m": learner} if learner is not None else {}
    server.registry.register(LearningCollector(learners))
    online = OnlineLearning(server.repository, learners, {"m": base})
    return LearningApp(server.app, online, admin=AdminPolicy())


async def test_the_server_answers_with_each_snapshot_and_obeys_the_admin_routes(
    tmp_path: Path,
) -> None:
    rows, truth = hyperplane(1_200, seed=1)
    base = model_config(river_model(rows[:300], truth[:300]), tmp_path, name="m")
    base = dataclasses.replace(
        base,
        learning=dataclasses.replace(base.learning, poll_seconds=0.02, snapshot_every=200),  # type: ignore[type-var]
    )
    store = MemoryStore(len(FEATURES))
    app = _app(Learner(base, store), base)
    async with running(app) as http:  # type: ignore[arg-type]
        status = (await http.get("/v2/repository/models/m/learning")).json()
        assert (status["frozen"], status["serving"]) == (False, "1")
        answer = await http.post("/v2/models/m/infer", json=_infer_body(rows[:3]))
        assert answer.status_code == 200
        assert answer.json()["model_version"] == "1"
        assert answer.json()["outputs"][0]["data"][0] in ("no", "yes")

        store.add([f"r{i}" for i in range(300, 600)], rows[300:600], truth[300:600])
        await _until_version(http, "1-s1")  # learnt off the request path, then served
        answer = await http.post("/v2/models/m/infer", json=_infer_body(rows[:3]))
        assert answer.json()["model_version"] == "1-s1"

        frozen = await http.post("/v2/repository/models/m/learning/freeze", json={})
        assert frozen.status_code == 200
        assert frozen.json()["frozen"] is True
        rolled = await http.post(
            "/v2/repository/models/m/learning/rollback", json={"parameters": {"version": "1"}}
        )
        assert rolled.status_code == 200, rolled.text
        assert rolled.json()["serving"] == "1"
        await _until_version(http, "1")

        unknown = await http.get("/v2/repository/models/x/learning")
        assert unknown.status_code == 404
        assert "does not learn online" in unknown.json()["error"]
        bad = await http.post(
            "/v2/repository/models/m/learning/rollback", json={"parameters": {"version": "9"}}
        )
        assert bad.status_code == 400
        assert "no snapshot '9'" in bad.json()["error"]
        metrics = (await http.get("/metrics")).text
        assert 'driftline_online_frozen{model="m"} 1.0' in metrics
        assert 'driftline_online_examples_total{model="m",outcome="learnt"}' in metrics
        get_only = await http.post("/v2/repository/models/m/learning", json={})
        assert get_only.status_code == 405
    assert [e.kind for e in store.events] == ["freeze", "rollback"]


async def test_the_admin_routes_refuse_remote_callers_without_a_token(tmp_path: Path) -> None:
    rows, truth = hyperplane(400, seed=2)
    base = model_config(river_model(rows, truth), tmp_path, name="m")
    app = _app(Learner(base, MemoryStore(len(FEATURES))), base)
    async with running(app, client=("10.1.2.3", 5000)) as http:  # type: ignore[arg-type]
        answer = await http.post("/v2/repository/models/m/learning/freeze", json={})
        assert answer.status_code == 403
        assert "loopback" in answer.json()["error"]


async def test_a_follower_serves_what_the_learner_published(tmp_path: Path) -> None:
    rows, truth = hyperplane(900, seed=4)
    model = river_model(rows[:300], truth[:300])
    base = model_config(model, tmp_path, name="m")
    learning = dataclasses.replace(base.learning, poll_seconds=0.02, snapshot_every=100)  # type: ignore[type-var]
    base = dataclasses.replace(base, learning=learning)
    store = MemoryStore(len(FEATURES))
    learner = Learner(base, store)
    learner.start()
    store.add([f"r{i}" for i in range(300, 500)], rows[300:500], truth[300:500])
    while store.pending:
        learner.step()
    published = learner.status()["serving"]
    assert published.startswith("1-s")
    elsewhere = OnlineLearning(create_server([]).repository, {"m": learner}, {})
    learner.bind(elsewhere.publisher("m"))  # no server running: only writes current.json
    follower = _app(None, copy.deepcopy(base))
    async with running(follower) as http:  # type: ignore[arg-type]
        await _until_version(http, published)
