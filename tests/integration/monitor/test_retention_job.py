"""Tests of :func:`monitor.retention.run_retention`, the scheduler's retention job, and its
metrics, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

import monitor.retention
from monitor.retention import RetentionMetrics, run_retention
from monitor.settings import Settings
from storage import PredictionBatch, create_session_factory, insert_predictions, register_model
from storage.models import PredictionRecord
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task

pytestmark = pytest.mark.integration

NOW = dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DELETED = "driftline_retention_deleted_records_total"
LAST_RUN = "driftline_retention_last_run_timestamp_seconds"
DROPPED = "driftline_retention_dropped_partitions_total"


def seed(engine: Engine, ages: list[dt.timedelta]) -> None:
    with create_session_factory(engine)() as session:
        model = register_model(
            session,
            name="churn",
            task=Task.REGRESSION,
            version="v1",
            features=[FeatureSpec("age", FeatureKind.NUMERIC)],
        )
        session.commit()
    n = len(ages)
    batch = PredictionBatch(
        request_ids=[f"r{i}" for i in range(n)],
        timestamps_us=[(NOW - age - EPOCH) // dt.timedelta(microseconds=1) for age in ages],
        features={"age": [1.0] * n},
        predictions=[0.5] * n,
    )
    insert_predictions(engine, model, batch)


def records(engine: Engine) -> int:
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(PredictionRecord)
        return int(connection.execute(query).scalar_one())


def test_one_run_is_bounded_and_the_next_carries_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Three expired days of 100, 100 and 50 records: batches of 100 rows on SQLite and
    # whole daily partitions on PostgreSQL give the same counts.
    monkeypatch.setattr(monitor.retention, "MAX_BATCHES_PER_RUN", 2)
    days = [dt.timedelta(days=d) for d in (33, 32, 31)]
    seed(engine, [days[0]] * 100 + [days[1]] * 100 + [days[2]] * 50 + [dt.timedelta(days=29)])
    settings = Settings(retention_days=30, retention_batch_size=100)
    registry = CollectorRegistry()
    metrics = RetentionMetrics(registry)

    with caplog.at_level(logging.INFO, logger="monitor.retention"):
        first = run_retention(engine, settings, now=NOW, metrics=metrics)

    assert first is not None
    assert (first.records_deleted, first.batches, first.finished) == (200, 2, False)
    assert records(engine) == 51
    assert registry.get_sample_value(DELETED) == 200
    postgres = engine.dialect.name == "postgresql"
    assert registry.get_sample_value(DROPPED) == (2 if postgres else 0)
    assert registry.get_sample_value(LAST_RUN) == NOW.timestamp()
    (message,) = [r.getMessage() for r in caplog.records if r.name == "monitor.retention"]
    assert message.startswith("retention: deleted 200 records and 0 labels older than 2024-05-02")
    assert message.endswith("more remain, the next run continues")

    later = NOW + dt.timedelta(hours=1)
    second = run_retention(engine, settings, now=later, metrics=metrics)

    assert second is not None
    assert (second.records_deleted, second.finished) == (50, True)
    assert records(engine) == 1
    assert registry.get_sample_value(DELETED) == 250
    assert registry.get_sample_value(LAST_RUN) == later.timestamp()


def test_retention_off_does_nothing(engine: Engine) -> None:
    seed(engine, [dt.timedelta(days=400)])
    registry = CollectorRegistry()

    result = run_retention(
        engine, Settings(retention_days=None), now=NOW, metrics=RetentionMetrics(registry)
    )

    assert result is None
    assert records(engine) == 1
    assert registry.get_sample_value(DELETED) == 0
    assert registry.get_sample_value(LAST_RUN) == 0


def test_a_naive_now_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        run_retention(engine, Settings(), now=dt.datetime(2024, 6, 1))
