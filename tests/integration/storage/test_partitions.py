"""Partitioned records on PostgreSQL (:mod:`storage.partitions`, migration ``0004``): the
layout, partitions created on demand and ahead, retention dropping whole partitions, window
reads pruning partitions (shown with ``EXPLAIN``), and the migration moving rows both ways.
SQLite keeps one table; the tests that take ``engine`` run on both back ends.

What is stored is read back with plain SQL and the catalog, never through the code under test.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import (
    FeatureSpec,
    PredictionBatch,
    count_prunable,
    create_engine,
    create_session_factory,
    insert_predictions,
    prune_records,
    read_window,
    register_model,
    upsert_labels,
)
from storage.migrations import check, downgrade, schema_differences, upgrade
from storage.models import GroundTruthLabel, PredictionRecord
from storage.partitions import (
    DAY_US,
    Partition,
    create_ahead,
    list_partitions,
    partition_name,
    period,
)
from storage.repositories.models import ModelHandle
from storage.types import FeatureKind, Task
from storage.window_fetch import VersionQuery, postgres_select
from tests.database_pool import PostgresPool

pytestmark = pytest.mark.integration

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
D0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)  # a Monday
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def us(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def day(n: int) -> dt.datetime:
    return D0 + n * DAY


@pytest.fixture
def pg(migrated_postgres: PostgresPool) -> Iterator[Engine]:
    """A PostgreSQL database at the newest revision with no rows and no partitions."""
    url = migrated_postgres.acquire()
    engine = create_engine(url)
    yield engine
    engine.dispose()
    migrated_postgres.release(url)


def register(engine: Engine, name: str = "churn") -> ModelHandle:
    with create_session_factory(engine).begin() as session:
        return register_model(
            session,
            name=name,
            task=Task.REGRESSION,
            version="v1",
            features=[FeatureSpec("age", FeatureKind.NUMERIC)],
        )


def insert(
    engine: Engine, model: ModelHandle, times: Sequence[dt.datetime], prefix: str = "r"
) -> int:
    n = len(times)
    batch = PredictionBatch(
        request_ids=[f"{prefix}{i}" for i in range(n)],
        timestamps_us=[us(t) for t in times],
        features={"age": [float(i) for i in range(n)]},
        predictions=[0.5] * n,
    )
    return insert_predictions(engine, model, batch).inserted


def partitions(engine: Engine) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(name, lower, upper) of each partition, read from the catalog with plain SQL."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'prediction_records'::regclass ORDER BY 2"
            )
        ).all()
    found = []
    for name, bound in rows:
        lower, upper = (int(v) for v in bound.split("'")[1::2])
        found.append(
            (
                name,
                EPOCH + lower * dt.timedelta(microseconds=1),
                EPOCH + upper * dt.timedelta(microseconds=1),
            )
        )
    return sorted(found, key=lambda p: p[1])


def stored(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(PredictionRecord.request_id, PredictionRecord.timestamp_us)
        ).all()
    return sorted((r, t) for r, t in rows)


# --- layout -----------------------------------------------------------------------------


def test_records_are_partitioned_by_time_on_postgresql_only(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    primary = inspector.get_pk_constraint("prediction_records")["constrained_columns"]
    unique = [u["column_names"] for u in inspector.get_unique_constraints("prediction_records")]
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = connection.execute(
                sa.text("SELECT pg_get_partkeydef('prediction_records'::regclass)")
            ).scalar_one()
        assert key == "RANGE (timestamp_us)"
        assert primary == ["id", "timestamp_us"]
        assert unique == [["model_id", "request_id", "timestamp_us"]]
    else:
        assert primary == ["id"]
        assert unique == [["model_id", "request_id"]]


def test_a_replay_is_stored_once_and_the_key_holds_the_time_on_postgresql(
    engine: Engine,
) -> None:
    model = register(engine)
    times = [day(0), day(0) + HOUR, day(3)]

    assert insert(engine, model, times) == 3
    assert insert(engine, model, times) == 0  # a byte-identical replay (spool, stream)
    # The same request id with another time: a new record where the key holds the time.
    again = insert(engine, model, [day(0) + 2 * HOUR])

    assert again == (1 if engine.dialect.name == "postgresql" else 0)


# --- on demand ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_inserts_create_the_day_partitions_they_need(pg: Engine) -> None:
    model = register(pg)
    late, early = dt.datetime(2001, 7, 4, 12, tzinfo=dt.UTC), day(400) + 5 * HOUR

    assert insert(pg, model, [day(0) + HOUR, late, day(0) + 3 * HOUR, early]) == 4

    assert partitions(pg) == [
        (
            partition_name(us(late.replace(hour=0))),
            late.replace(hour=0),
            late.replace(hour=0) + DAY,
        ),
        (partition_name(us(day(0))), day(0), day(1)),
        (partition_name(us(day(400))), day(400), day(401)),
    ]
    window = read_window(pg, "churn", start=late - HOUR, end=early + HOUR)
    assert window.timestamps_us.tolist() == sorted(
        us(t) for t in [day(0) + HOUR, late, day(0) + 3 * HOUR, early]
    )
    # The models-vs-migrations check ignores partitions.
    assert schema_differences(pg) == []
    check(pg)


@pytest.mark.postgres
def test_concurrent_writers_create_a_missing_partition_once(pg: Engine) -> None:
    model = register(pg)
    start = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            start.wait(timeout=10)
            results.append(insert(pg, model, [day(1) + k * HOUR], prefix=f"w{k}-"))
        except BaseException as error:  # reported below, with the thread's failure
            errors.append(error)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert results == [1, 1, 1, 1]
    assert [p[1] for p in partitions(pg)] == [day(1)]


@pytest.mark.postgres
def test_an_insert_into_a_partition_another_process_dropped_succeeds(pg: Engine) -> None:
    model = register(pg)
    assert insert(pg, model, [day(0)], prefix="a") == 1  # this engine now caches day 0
    other = create_engine(pg.url)
    try:
        assert prune_records(other, older_than=day(5)).partitions_dropped == 1
    finally:
        other.dispose()

    assert insert(pg, model, [day(0) + HOUR], prefix="b") == 1  # re-created, not refused

    assert stored(pg) == [("b0", us(day(0) + HOUR))]
    assert [p[1] for p in partitions(pg)] == [day(0)]


# --- ahead ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_create_ahead_covers_the_horizon_and_fills_only_gaps(pg: Engine) -> None:
    model = register(pg)
    insert(pg, model, [day(2) + HOUR])  # an existing one-day partition inside the horizon
    now = day(0) + 10 * HOUR

    created = create_ahead(pg, now=now, ahead=dt.timedelta(days=10), interval="week")
    again = create_ahead(pg, now=now, ahead=dt.timedelta(days=10), interval="week")

    assert again == []
    bounds = [(lower, upper) for _, lower, upper in partitions(pg)]
    # Contiguous from the week of `now` past `now + 10 days`, the day partition kept.
    assert bounds == [
        (day(0), day(2)),
        (day(2), day(3)),
        (day(3), day(7)),
        (day(7), day(14)),
    ]
    assert sorted(created) == [
        Partition(us(day(0)), us(day(2)), partition_name(us(day(0)))),
        Partition(us(day(3)), us(day(7)), partition_name(us(day(3)))),
        Partition(us(day(7)), us(day(14)), partition_name(us(day(7)))),
    ]
    with pg.connect() as connection:
        assert [p.name for p in list_partitions(connection)] == [p[0] for p in partitions(pg)]


@pytest.mark.postgres
def test_monthly_partitions_ahead_follow_the_calendar(pg: Engine) -> None:
    now = dt.datetime(2026, 1, 30, tzinfo=dt.UTC)

    create_ahead(pg, now=now, ahead=dt.timedelta(days=5), interval="month")

    assert [(lower.date(), upper.date()) for _, lower, upper in partitions(pg)] == [
        (dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        (dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    ]


# --- retention ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_retention_drops_whole_partitions_and_keeps_the_straddling_one(pg: Engine) -> None:
    churn, fraud = register(pg), register(pg, "fraud")
    insert(
        pg,
        churn,
        [day(0) + HOUR, day(0) + 2 * HOUR, day(1) + HOUR, day(2) + HOUR, day(2) + 20 * HOUR],
    )
    insert(pg, fraud, [day(1) + 5 * HOUR], prefix="f")
    upsert_labels(pg, churn, ["r0", "r3"], [1.0, 0.0])
    with pg.begin() as connection:
        connection.execute(sa.update(GroundTruthLabel).values(received_at=day(-1)))
    cutoff = day(2) + 12 * HOUR  # inside day 2: r3 is older than it, but its partition is not

    counted = count_prunable(pg, older_than=cutoff)
    result = prune_records(pg, older_than=cutoff)

    assert (counted.records, counted.labels, counted.partitions) == (4, 1, 2)
    assert (result.records_deleted, result.labels_deleted, result.partitions_dropped) == (4, 1, 2)
    assert (result.batches, result.finished) == (3, True)  # 2 partitions, 1 label batch
    assert stored(pg) == [("r3", us(day(2) + HOUR)), ("r4", us(day(2) + 20 * HOUR))]
    assert [p[1] for p in partitions(pg)] == [day(2)]
    with pg.connect() as connection:
        labels = connection.execute(sa.select(GroundTruthLabel.request_id)).scalars().all()
    assert labels == ["r3"]


@pytest.mark.postgres
def test_max_batches_bounds_the_partitions_dropped(pg: Engine) -> None:
    model = register(pg)
    insert(pg, model, [day(0), day(1), day(2)])

    first = prune_records(pg, older_than=day(5), max_batches=2)
    second = prune_records(pg, older_than=day(5), max_batches=2)

    assert (first.partitions_dropped, first.records_deleted, first.finished) == (2, 2, False)
    assert (second.partitions_dropped, second.records_deleted, second.finished) == (1, 1, True)
    assert partitions(pg) == []


@pytest.mark.postgres
def test_pruning_one_model_deletes_its_rows_and_keeps_the_partitions(pg: Engine) -> None:
    churn, fraud = register(pg), register(pg, "fraud")
    insert(pg, churn, [day(0), day(1)])
    insert(pg, fraud, [day(0)], prefix="f")

    result = prune_records(pg, older_than=day(1) + HOUR, model_name="churn")

    assert (result.records_deleted, result.partitions_dropped) == (2, 0)
    assert stored(pg) == [("f0", us(day(0)))]
    assert len(partitions(pg)) == 2


# --- window reads ------------------------------------------------------------------------


def scanned(engine: Engine, sql: str) -> set[str]:
    """The relations the plan of ``sql`` reads."""
    with engine.connect() as connection:
        plan = connection.execute(sa.text(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


@pytest.mark.postgres
def test_a_window_read_touches_only_the_partitions_of_the_window(pg: Engine) -> None:
    model = register(pg)
    times = [day(d) + h * HOUR for d in range(5) for h in (1, 13)]
    insert(pg, model, times)
    start, end = day(1) + 12 * HOUR, day(2) + 12 * HOUR  # half of day 1, half of day 2
    query = VersionQuery(
        model_id=model.model_id,
        version_id=model.version_id,
        start_us=us(start),
        end_us=us(end),
        sample_cut=0.5,
        feature_width=1,
        n_classes=0,
        embedding_width=0,
        with_labels=True,
    )
    count = (
        sa.select(sa.func.count())
        .where(
            PredictionRecord.model_id == model.model_id,
            PredictionRecord.timestamp_us >= us(start),
            PredictionRecord.timestamp_us < us(end),
        )
        .compile(pg, compile_kwargs={"literal_binds": True})
    )

    sql, _ = postgres_select(query)
    expected = {partition_name(us(day(1))), partition_name(us(day(2)))}

    assert scanned(pg, sql) == expected | {"ground_truth_labels"}
    assert scanned(pg, str(count)) == expected
    window = read_window(pg, "churn", start=start, end=end)
    assert window.timestamps_us.tolist() == [us(day(1) + 13 * HOUR), us(day(2) + HOUR)]


# --- the migration ------------------------------------------------------------------------


def test_the_migration_moves_rows_into_day_partitions_and_back(empty_engine: Engine) -> None:
    engine = empty_engine
    upgrade(engine, "0003")
    model = register(engine)
    times = [day(0) + HOUR, day(0) + 2 * HOUR, day(3), dt.datetime(1969, 12, 31, 23, tzinfo=dt.UTC)]
    assert insert(engine, model, times) == 4
    before = rows(engine)

    upgrade(engine)

    assert rows(engine) == before
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        assert [p[1:] for p in partitions(engine)] == [
            (dt.datetime(1969, 12, 31, tzinfo=dt.UTC), EPOCH),
            (day(0), day(1)),
            (day(3), day(4)),
        ]
    assert schema_differences(engine) == []
    # Ids go on from the moved rows; on PostgreSQL the same request id at another time is new.
    assert insert(engine, model, [day(0) + 5 * HOUR, day(5)], prefix="s") == 2
    assert insert(engine, model, [day(1)]) == (1 if postgres else 0)
    ids = [r[0] for r in rows(engine)]
    assert len(set(ids)) == len(ids)
    after = rows(engine)

    downgrade(engine, "0003")

    # Back in one table; of r0 stored twice, the first (lower id) stays.
    expected = [r for r in after if not (r[1] == "r0" and r[2] == us(day(1)))]
    assert rows(engine) == expected
    inspector = sa.inspect(engine)
    assert [u["column_names"] for u in inspector.get_unique_constraints("prediction_records")] == [
        ["model_id", "request_id"]
    ]
    upgrade(engine)
    assert rows(engine) == expected


def rows(engine: Engine) -> list[tuple[int, str, int, bytes]]:
    with engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT id, request_id, timestamp_us, features FROM prediction_records ORDER BY id"
            )
        ).all()
    return [(int(i), str(r), int(t), bytes(f)) for i, r, t, f in found]


def test_period_and_the_migration_agree_on_day_bounds() -> None:
    # The migration computes day partitions on its own (migrations must not change later).
    moment = us(dt.datetime(1969, 12, 31, 23, tzinfo=dt.UTC))
    assert period(moment, "day") == (-DAY_US, 0)
    assert np.floor(moment / DAY_US) == -1
