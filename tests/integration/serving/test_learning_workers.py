"""A model that learns online, served by ``driftline serve`` with two worker processes.

Worker 0 learns; worker 1 serves the snapshots it publishes and hands the learning admin
routes to it through the supervisor. Predictions are recorded by the workers' taps into the
SQLite store, and labels are written into that store as the feedback API writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from storage import create_session_factory, get_model_version, upsert_labels
from tests.integration.serving.test_serve_workers import eventually, free_port, worker_of
from tests.processes import clean_environment, start_driftline, stop_process

pytest.importorskip("river")
pytestmark = pytest.mark.integration

FEATURES = ("f0", "f1", "f2", "f3")

MODEL = """
import numpy as np
from river import linear_model, optim, preprocessing

FEATURES = ("f0", "f1", "f2", "f3")
model = preprocessing.StandardScaler() | linear_model.LogisticRegression(optimizer=optim.SGD(0.1))
for row in np.random.default_rng(0).uniform(-1, 1, (200, 4)).tolist():
    model.learn_one(dict(zip(FEATURES, row)), row[0] > 0)
"""

PROJECT = """version: 1
serving: {workers: 2, grace_period_seconds: 5}
models:
  - name: m
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: f0, kind: numeric}, {name: f1, kind: numeric},
               {name: f2, kind: numeric}, {name: f3, kind: numeric}]
    serving:
      runtime: python
      uri: "onlinemodel:model"
      learning: online
      online: {labels: boolean, snapshot_every: 60, poll_seconds: 0.2, guard: {action: none}}
"""


@dataclass(frozen=True)
class Served:
    url: str
    directory: Path
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("learning-workers")
    (directory / "onlinemodel.py").write_text(MODEL)
    (directory / "driftline.yaml").write_text(PROJECT)
    port = free_port()
    environment = clean_environment(DRIFTLINE_PORT=str(port), PYTHONPATH=str(directory))
    log = directory / "serve.log"
    process = start_driftline("serve", cwd=directory, log=log, environment=environment)
    try:
        eventually(lambda: "all 2 workers ready" in log.read_text(), "both workers")
        yield Served(f"http://127.0.0.1:{port}", directory, log)
    finally:
        stop_process(process)
    assert "Traceback" not in log.read_text()


def on_every_worker(url: str, method: str, path: str, **kw: object) -> dict[str, httpx.Response]:
    """The answer of each of the two workers (fresh connections until both have answered)."""
    seen: dict[str, httpx.Response] = {}
    for _ in range(400):
        response = httpx.request(method, f"{url}{path}", timeout=30, **kw)  # type: ignore[arg-type]
        seen[worker_of(response).split("/")[0]] = response
        if len(seen) == 2:
            return seen
    pytest.fail(f"only workers {sorted(seen)} answered {method} {path}")


def predict(url: str, request_id: str, rows: np.ndarray) -> httpx.Response:
    body = {
        "id": request_id,
        "inputs": [
            {"name": name, "shape": [len(rows)], "datatype": "FP64", "data": rows[:, i].tolist()}
            for i, name in enumerate(FEATURES)
        ],
    }
    return httpx.post(f"{url}/v2/models/m/infer", content=orjson.dumps(body), timeout=30)


def test_worker_0_learns_and_both_workers_serve_its_snapshots(served: Served) -> None:
    rows = np.random.default_rng(1).uniform(-1, 1, (150, 4))
    answer = predict(served.url, "batch", rows)
    assert answer.status_code == 200, answer.text
    ids = [f"batch:{i}" for i in range(len(rows))]

    engine = sa.create_engine(f"sqlite:///{served.directory / '.driftline' / 'driftline.db'}")
    try:

        def recorded() -> bool:
            with engine.connect() as connection:
                count = connection.execute(
                    sa.text("SELECT count(*) FROM prediction_records WHERE request_id LIKE :ids"),
                    {"ids": "batch:%"},
                ).scalar_one()
            return int(count) == len(rows)

        eventually(recorded, "the tapped records in the store", 60)
        with create_session_factory(engine)() as session:
            handle = get_model_version(session, "m", "1")
        upsert_labels(engine, handle, ids, ["yes" if r[0] > 0 else "no" for r in rows.tolist()])
    finally:
        engine.dispose()

    def learnt_everything() -> bool:
        status = httpx.get(f"{served.url}/v2/repository/models/m/learning", timeout=30).json()
        return bool(status["counts"].get("learnt") == len(rows))

    eventually(learnt_everything, "the learner to learn the labels", 60)
    statuses = on_every_worker(served.url, "GET", "/v2/repository/models/m/learning")
    assert {w: r.status_code for w, r in statuses.items()} == {"0": 200, "1": 200}
    assert statuses["0"].json() == statuses["1"].json()  # worker 1 asked worker 0
    published = statuses["0"].json()["serving"]
    assert published.startswith("1-s")

    def both_serve_it() -> bool:
        answers = on_every_worker(served.url, "POST", "/v2/models/m/infer", content=_one_row())
        return {r.json()["model_version"] for r in answers.values()} == {published}

    eventually(both_serve_it, f"both workers to serve {published}", 30)

    metrics = httpx.get(f"{served.url}/metrics", timeout=30).text
    learnt = [
        sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "driftline_online_examples"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["outcome"] == "learnt"
    ]
    assert learnt == [float(len(rows))]  # counted once, by the learner, on any worker's scrape


def test_a_freeze_through_either_worker_reaches_the_learner(served: Served) -> None:
    for action, frozen in (("freeze", True), ("unfreeze", False)):
        answers = on_every_worker(
            served.url, "POST", f"/v2/repository/models/m/learning/{action}", json={}
        )
        assert {w: r.status_code for w, r in answers.items()} == {"0": 200, "1": 200}
        assert {r.json()["frozen"] for r in answers.values()} == {frozen}
        statuses = on_every_worker(served.url, "GET", "/v2/repository/models/m/learning")
        assert {r.json()["frozen"] for r in statuses.values()} == {frozen}


def _one_row() -> bytes:
    return orjson.dumps(
        {
            "inputs": [
                {"name": name, "shape": [1], "datatype": "FP64", "data": [0.5]} for name in FEATURES
            ]
        }
    )
