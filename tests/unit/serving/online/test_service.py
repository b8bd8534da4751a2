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
from serving.errors import ModelNotReadyError
from serving.online.learner import Learner
from serving.online.memory import MemoryStore
from serving.online.metrics import LearningMetrics
from serving.online.service import LearningApp, OnlineLearning, Remote, published_config
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


def _app(learner: Learner | None, base: Any, *, remote: Remote | None = None) -> LearningApp:
    """A server of ``base`` that learns it (``learner``) or follows its snapshots."""
    config = learner.start() if learner is not None else published_config(base)
    server = create_server([config])
    learners = {"m": learner} if learner is not None else {}
    metrics = LearningMetrics(learners, server.registry)
    online = OnlineLearning(
        server.repository, learners, {"m": base}, remote=remote, after_step=metrics.sync
    )
    return LearningApp(server.app, online, admin=AdminPolicy())


def _learning(base: Any) -> Any:
    """``base`` polling and snapshotting often."""
    learning = dataclasses.replace(base.learning, poll_seconds=0.02, snapshot_every=100)
    return dataclasses.replace(base, learning=learning)


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
        assert 'driftline_online_examples_total{model="m",outcome="learnt"} 300.0' in metrics
        assert 'driftline_online_guard_alarms_total{model="m",reason="drift_detector"} 0.0' in (
            metrics
        )
        unknown_action = await http.post("/v2/repository/models/m/learning/status", json={})
        assert unknown_action.status_code == 404
        assert "no learning action 'status'" in unknown_action.json()["error"]
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


async def test_a_follower_starts_on_the_published_snapshot_and_hands_admin_to_the_learner(
    tmp_path: Path,
) -> None:
    rows, truth = hyperplane(700, seed=5)
    base = _learning(model_config(river_model(rows[:300], truth[:300]), tmp_path, name="m"))
    store = MemoryStore(len(FEATURES))
    leader = _app(Learner(base, store), base)
    async with running(leader) as learner_http:  # type: ignore[arg-type]
        store.add([f"r{i}" for i in range(300, 500)], rows[300:500], truth[300:500])
        await _until_version(learner_http, "1-s1")
        for _ in range(500):
            if leader.learning.learners["m"].counts["learnt"] == 200:
                break
            await asyncio.sleep(0.02)
        follower = _app(None, copy.deepcopy(base), remote=leader.learning.control)
        async with running(follower) as http:  # type: ignore[arg-type]
            first = await http.post("/v2/models/m/infer", json=_infer_body(rows[:2]))
            assert first.json()["model_version"] == "1-s1"  # the published one, not the base

            status = (await http.get("/v2/repository/models/m/learning")).json()
            assert status == (await learner_http.get("/v2/repository/models/m/learning")).json()
            assert status["counts"]["learnt"] == 200
            frozen = await http.post("/v2/repository/models/m/learning/freeze", json={})
            assert frozen.status_code == 200, frozen.text
            assert frozen.json()["frozen"] is True
            assert leader.learning.learners["m"].frozen
            bad = await http.post(
                "/v2/repository/models/m/learning/rollback", json={"parameters": {"version": 3}}
            )
            assert bad.status_code == 400
            assert "parameters.version: expected a string" in bad.json()["error"]
    assert [e.kind for e in store.events] == ["freeze"]


async def test_a_follower_without_the_learner_says_so(tmp_path: Path) -> None:
    rows, truth = hyperplane(300, seed=6)
    base = _learning(model_config(river_model(rows, truth), tmp_path, name="m"))
    async with running(_app(None, base)) as http:  # type: ignore[arg-type]
        first = await http.post("/v2/models/m/infer", json=_infer_body(rows[:2]))
        assert first.json()["model_version"] == "1"  # nothing published yet: the base file
        answer = await http.get("/v2/repository/models/m/learning")
        assert answer.status_code == 404
        assert "does not learn online in this process" in answer.json()["error"]


async def test_a_learner_that_is_away_is_a_503(tmp_path: Path) -> None:
    rows, truth = hyperplane(300, seed=7)
    base = _learning(model_config(river_model(rows, truth), tmp_path, name="m"))

    async def restarting(name: str, action: str, body: bytes) -> dict[str, Any]:
        raise ModelNotReadyError("worker 0 is not running (it is restarting); try again")

    async with running(_app(None, base, remote=restarting)) as http:  # type: ignore[arg-type]
        answer = await http.post("/v2/repository/models/m/learning/freeze", json={})
        assert answer.status_code == 503
        assert "restarting" in answer.json()["error"]


async def test_a_status_request_during_a_publishing_step_does_not_block_the_loop(
    tmp_path: Path,
) -> None:
    rows, truth = hyperplane(300, seed=8)
    base = _learning(model_config(river_model(rows, truth), tmp_path, name="m"))
    learner = Learner(base, MemoryStore(len(FEATURES)))
    app = _app(learner, base)
    async with running(app) as http:  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        released = asyncio.Event()

        async def on_the_loop() -> None:  # what a publish waits for: the loop to deploy
            await asyncio.sleep(0.2)
            released.set()

        def step_that_publishes() -> None:
            with learner._lock:  # as Learner.step holds it while it publishes
                asyncio.run_coroutine_threadsafe(on_the_loop(), loop).result(timeout=10)

        stepping = asyncio.create_task(asyncio.to_thread(step_that_publishes))
        await asyncio.sleep(0.05)
        status = await asyncio.wait_for(http.get("/v2/repository/models/m/learning"), 10)
        assert status.status_code == 200
        assert released.is_set()  # answered after the step, which the loop let finish
        await stepping
