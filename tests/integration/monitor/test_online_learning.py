"""Online learning against the real store, on SQLite and PostgreSQL: labels from the
feedback path joined to records by request id, refusals, the guard's stored alarm, and a
restart that resumes from the newest snapshot without learning an example twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.online_store import SqlLearningStore
from serving.online.learner import Learner
from storage import (
    ModelHandle,
    PredictionBatch,
    create_session_factory,
    insert_predictions,
    register_model,
    upsert_labels,
)
from storage.models import OnlineEvent, OnlineExample, OnlineSnapshot, OnlineUpdate
from storage.schema import FeatureSpec
from storage.types import FeatureKind, RecordStatus, Task, utc_now
from tests.unit.serving.online.streams import (
    CLASSES,
    FEATURES,
    Served,
    hyperplane,
    model_config,
    river_model,
)

pytest.importorskip("river")
pytestmark = pytest.mark.integration


def _register(engine: Engine) -> ModelHandle:
    with create_session_factory(engine).begin() as session:
        return register_model(
            session,
            name="m",
            task=Task.BINARY_CLASSIFICATION,
            classes=CLASSES,
            version="1",
            features=[FeatureSpec(name, FeatureKind.NUMERIC) for name in FEATURES],
        )


def _record(engine: Engine, handle: ModelHandle, rows: np.ndarray, first: int) -> list[str]:
    ids = [f"r{first + i}" for i in range(len(rows))]
    now_us = int(utc_now().timestamp() * 1e6)
    batch = PredictionBatch(
        request_ids=ids,
        timestamps_us=np.full(len(ids), now_us),
        features={name: rows[:, i] for i, name in enumerate(FEATURES)},
        predictions=["no"] * len(ids),
    )
    insert_predictions(engine, handle, batch)
    return ids


def _label(engine: Engine, handle: ModelHandle, ids: list[str], classes: np.ndarray) -> None:
    upsert_labels(engine, handle, ids, [CLASSES[c] for c in classes.tolist()])


def _learner(
    engine: Engine, handle: ModelHandle, tmp_path: Path, **kw: object
) -> tuple[Learner, Served]:
    rows, truth = hyperplane(300, seed=99)
    config = model_config(river_model(rows, truth), tmp_path / "online", name="m")
    served = Served()
    learner = Learner(config, SqlLearningStore(engine, handle, **kw), publish=served)  # type: ignore[arg-type]
    served(learner.start())
    return learner, served


def _drain(learner: Learner) -> None:
    for _ in range(1_000):
        result = learner.step()
        if result.learnt + result.refused == 0 or learner.frozen:
            return
    raise AssertionError("the learner never caught up")


def test_labels_are_learnt_once_in_arrival_order_and_poison_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    handle = _register(engine)
    rows, truth = hyperplane(200, seed=1)
    ids = _record(engine, handle, rows, 0)
    _label(engine, handle, ids[100:], truth[100:])  # later labels first: arrival order wins
    _label(engine, handle, ids[:100], truth[:100])
    failed = PredictionBatch(
        request_ids=["failed"],
        timestamps_us=[int(utc_now().timestamp() * 1e6)],
        status=[RecordStatus.ERROR],
        error_types=["boom"],
    )
    insert_predictions(engine, handle, failed)
    nan_rows = rows[:1].copy()
    nan_rows[0, 0] = np.nan
    _record(engine, handle, nan_rows, 10_000)
    upsert_labels(engine, handle, ["failed", "r10000", "ghost", "late"], ["yes"] * 4)
    learner, _ = _learner(engine, handle, tmp_path)

    _drain(learner)
    with engine.connect() as connection:
        outcomes = dict(
            connection.execute(sa.select(OnlineExample.request_id, OnlineExample.outcome)).all()
        )
        updates = connection.execute(sa.select(OnlineUpdate)).all()
    assert "ghost" not in outcomes
    assert "late" not in outcomes
    assert outcomes["failed"] == "failed_request"
    assert outcomes["r10000"] == "non_finite_features"
    assert sum(o == "learnt" for o in outcomes.values()) == 200
    assert all(u.metric == "accuracy" for u in updates)
    assert any(u.prequential_before is not None for u in updates)

    _record(engine, handle, rows[:1], 20_000)  # the record "late" waited for arrives...
    with engine.begin() as connection:
        connection.execute(
            sa.update(sa.table("prediction_records", sa.column("request_id")))
            .where(sa.column("request_id") == "r20000")
            .values(request_id="late")
        )
    later = dt.timedelta(hours=2)
    learner._store = SqlLearningStore(engine, handle, now=lambda: utc_now() + later)  # type: ignore[attr-defined]
    _drain(learner)
    with engine.connect() as connection:
        outcomes = dict(
            connection.execute(sa.select(OnlineExample.request_id, OnlineExample.outcome)).all()
        )
    assert outcomes["late"] == "learnt"
    assert outcomes["ghost"] == "unknown_request"  # no record within label_wait_seconds


def test_poisoned_labels_store_an_alarm_and_serving_keeps_the_last_good_snapshot(
    engine: Engine, tmp_path: Path
) -> None:
    handle = _register(engine)
    rows, truth = hyperplane(2_000, seed=2)
    ids = _record(engine, handle, rows, 0)
    learner, served = _learner(engine, handle, tmp_path)
    _label(engine, handle, ids[:1_200], truth[:1_200])
    _drain(learner)
    _label(engine, handle, ids[1_200:], 1 - truth[1_200:])  # a feedback source gone bad
    _drain(learner)

    assert learner.frozen
    with engine.connect() as connection:
        (event,) = connection.execute(sa.select(OnlineEvent)).all()
        snapshots = {
            row.version: row for row in connection.execute(sa.select(OnlineSnapshot)).all()
        }
    assert (event.kind, event.frozen, event.reason) == ("alarm", True, "prequential_drop")
    restored = snapshots[event.details["restored"]]
    assert restored.version == event.version
    assert restored.status == "good"
    assert restored.examples <= 1_200  # taken before the first poisoned label
    assert served.config is not None
    assert served.config.version == restored.version
    assert served.accuracy(rows[1_200:], truth[1_200:]) > 0.85


def test_a_restart_resumes_from_the_newest_snapshot_and_learns_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    handle = _register(engine)
    rows, truth = hyperplane(1_400, seed=3)
    ids = _record(engine, handle, rows, 0)
    _label(engine, handle, ids[:700], truth[:700])
    learner, _ = _learner(engine, handle, tmp_path)
    _drain(learner)  # snapshot 1-s1 after 512 examples; 188 more learnt into the live model
    del learner  # the process dies: the live model's last 188 examples are lost with it

    _label(engine, handle, ids[700:], truth[700:])
    again, served = _learner(engine, handle, tmp_path)
    assert served.config is not None
    assert served.config.version == "1-s1"
    _drain(again)

    with engine.connect() as connection:
        learnt = (
            connection.execute(
                sa.select(OnlineExample.request_id).where(OnlineExample.outcome == "learnt")
            )
            .scalars()
            .all()
        )
        statuses = connection.execute(
            sa.select(OnlineUpdate.status, sa.func.sum(OnlineUpdate.learnt)).group_by(
                OnlineUpdate.status
            )
        ).all()
    assert sorted(learnt) == sorted(ids)  # each example learnt, once
    assert dict(statuses) == {"applied": 1_400, "replayed": 188}
    assert again.status()["examples_learnt"] == 1_400
