"""Tests of :func:`monitor.partitions.run_partition_upkeep`, the scheduler's job keeping
record partitions created ahead, on SQLite (nothing to do) and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from monitor.monitor_process import build_scheduler
from monitor.partitions import PartitionMetrics, run_partition_upkeep
from monitor.settings import Settings

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
CREATED = "driftline_partitions_created_ahead_total"


def bounds(engine: Engine) -> list[tuple[str, str]]:
    """Each partition's bound, as PostgreSQL prints it."""
    with engine.connect() as connection:
        return [
            tuple(bound.split("'")[1::2])
            for bound in connection.execute(
                sa.text(
                    "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'prediction_records'::regclass ORDER BY 1"
                )
            ).scalars()
        ]


def micros(moment: dt.datetime) -> str:
    return str((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1))


def test_the_job_creates_the_partitions_of_the_horizon_once(engine: Engine) -> None:
    registry = CollectorRegistry()
    metrics = PartitionMetrics(registry)
    settings = Settings(partition_interval="week", partition_ahead_days=10)

    first = run_partition_upkeep(engine, settings, now=NOW, metrics=metrics)
    second = run_partition_upkeep(
        engine, settings, now=NOW + dt.timedelta(hours=1), metrics=metrics
    )

    assert second == []
    if engine.dialect.name != "postgresql":  # one table, nothing to create
        assert first == []
        assert registry.get_sample_value(CREATED) == 0
        return
    monday = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    weeks = [monday + dt.timedelta(weeks=w) for w in range(3)]  # to past NOW + 10 days
    assert bounds(engine) == [(micros(a), micros(b)) for a, b in itertools.pairwise(weeks)]
    assert registry.get_sample_value(CREATED) == 2


def test_the_monitor_schedules_the_job(engine: Engine) -> None:
    scheduler = build_scheduler(engine, Settings(), CollectorRegistry())

    (job,) = [job for job in scheduler.periodic if job.name == "partitions"]
    assert job.every == dt.timedelta(hours=1)


def test_a_bad_interval_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="partition_interval"):
        Settings(partition_interval="hour")
