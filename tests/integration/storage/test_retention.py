"""Tests of :func:`storage.prune_records` and :func:`storage.count_prunable`, on SQLite and
PostgreSQL.

Records are seeded at known event times through the real write path; what is left is read
back with plain SQL, never through the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import (
    NotFoundError,
    PredictionBatch,
    PruneCounts,
    PruneResult,
    count_prunable,
    create_session_factory,
    insert_predictions,
    prune_records,
    register_model,
    upsert_labels,
)
from storage.models import (
    FeatureCategory,
    GroundTruthLabel,
    Model,
    Monitor,
    MonitorResult,
    PredictionRecord,
    ReferenceDataset,
)
from storage.repositories.models import ModelHandle
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task

pytestmark = pytest.mark.integration

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CUTOFF = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)
DAY = dt.timedelta(days=1)
FEATURES = (FeatureSpec("age", FeatureKind.NUMERIC), FeatureSpec("city", FeatureKind.CATEGORICAL))


def prune_rows(engine: Engine, **options: Any) -> PruneResult:
    """Prune row by row on both back ends (what these tests pin down); dropping whole
    partitions on PostgreSQL is tested in ``test_partitions.py``."""
    return prune_records(engine, whole_partitions=False, **options)


def count_rows(engine: Engine, **options: Any) -> PruneCounts:
    return count_prunable(engine, whole_partitions=False, **options)


def micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch, with timedelta arithmetic only."""
    return (moment - EPOCH) // US


def register(engine: Engine, name: str = "churn") -> ModelHandle:
    with create_session_factory(engine)() as session:
        handle = register_model(
            session, name=name, task=Task.REGRESSION, version="v1", features=FEATURES
        )
        session.commit()
    return handle


def seed(engine: Engine, model: ModelHandle, times: Sequence[dt.datetime], prefix: str) -> None:
    """One record per moment, request ids ``<prefix>0``, ``<prefix>1``, ..."""
    n = len(times)
    batch = PredictionBatch(
        request_ids=[f"{prefix}{i}" for i in range(n)],
        timestamps_us=[micros(t) for t in times],
        features={
            "age": [float(i) for i in range(n)],
            "city": [("Oslo", "Lima")[i % 2] for i in range(n)],
        },
        predictions=[0.5] * n,
    )
    assert insert_predictions(engine, model, batch).inserted == n


def label(
    engine: Engine, model: ModelHandle, request_ids: Sequence[str], received_at: dt.datetime
) -> None:
    """Labels for ``request_ids``, dated ``received_at`` (set with plain SQL afterwards)."""
    upsert_labels(engine, model, request_ids, [1.0] * len(request_ids))
    with engine.begin() as connection:
        connection.execute(
            sa.update(GroundTruthLabel)
            .where(
                GroundTruthLabel.model_id == model.model_id,
                GroundTruthLabel.request_id.in_(request_ids),
            )
            .values(received_at=received_at)
        )


def record_times(engine: Engine, model: ModelHandle) -> list[int]:
    with engine.connect() as connection:
        return sorted(
            connection.execute(
                sa.select(PredictionRecord.timestamp_us).where(
                    PredictionRecord.model_id == model.model_id
                )
            ).scalars()
        )


def label_ids(engine: Engine, model: ModelHandle) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                sa.select(GroundTruthLabel.request_id).where(
                    GroundTruthLabel.model_id == model.model_id
                )
            ).scalars()
        )


def count(engine: Engine, table: type[Any]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def minutes_before(n: int) -> list[dt.datetime]:
    """``n`` moments a minute apart, the newest a minute before the cutoff."""
    return [CUTOFF - (i + 1) * dt.timedelta(minutes=1) for i in range(n)]


# --- records -----------------------------------------------------------------------------


def test_a_record_at_exactly_the_cutoff_is_kept(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, [CUTOFF - DAY, CUTOFF - US, CUTOFF, CUTOFF + US], "r")

    result = prune_rows(engine, older_than=CUTOFF)

    assert record_times(engine, model) == [micros(CUTOFF), micros(CUTOFF + US)]
    assert (result.records_deleted, result.labels_deleted) == (2, 0)
    assert result.batches == 1
    assert result.finished
    assert result.seconds >= 0


def test_a_cutoff_in_another_timezone_is_the_same_instant(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, [CUTOFF - US, CUTOFF], "r")
    plus_two = dt.timezone(dt.timedelta(hours=2))

    prune_rows(engine, older_than=CUTOFF.astimezone(plus_two))

    assert record_times(engine, model) == [micros(CUTOFF)]


def test_batches_hold_at_most_batch_size_records(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, [*minutes_before(35), CUTOFF, CUTOFF + DAY], "r")

    result = prune_rows(engine, older_than=CUTOFF, batch_size=10)

    assert result.records_deleted == 35
    assert result.batches == 4  # 10 + 10 + 10 + 5
    assert result.finished
    assert record_times(engine, model) == [micros(CUTOFF), micros(CUTOFF + DAY)]


def test_a_multiple_of_the_batch_size_takes_no_empty_batch(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, minutes_before(30), "r")

    result = prune_rows(engine, older_than=CUTOFF, batch_size=10)

    assert (result.records_deleted, result.batches, result.finished) == (30, 3, True)
    assert record_times(engine, model) == []


def test_max_batches_stops_early_and_the_next_call_finishes(engine: Engine) -> None:
    model = register(engine)
    old = minutes_before(35)
    seed(engine, model, [*old, CUTOFF], "r")

    first = prune_rows(engine, older_than=CUTOFF, batch_size=10, max_batches=2)

    assert (first.records_deleted, first.batches, first.finished) == (20, 2, False)
    # Oldest first: the 15 newest old records are what is left.
    assert record_times(engine, model) == sorted(micros(t) for t in [*old[:15], CUTOFF])

    second = prune_rows(engine, older_than=CUTOFF, batch_size=10)

    assert (second.records_deleted, second.batches, second.finished) == (15, 2, True)
    assert record_times(engine, model) == [micros(CUTOFF)]
    third = prune_rows(engine, older_than=CUTOFF, batch_size=10, max_batches=1)
    assert (third.records_deleted, third.batches, third.finished) == (0, 0, True)


def test_records_sharing_a_timestamp_across_batches_all_go(engine: Engine) -> None:
    model = register(engine)
    moment = CUTOFF - DAY
    seed(engine, model, [moment] * 25 + [CUTOFF], "r")

    result = prune_rows(engine, older_than=CUTOFF, batch_size=10)

    assert (result.records_deleted, result.batches) == (25, 3)
    assert record_times(engine, model) == [micros(CUTOFF)]


def test_model_name_prunes_that_model_only(engine: Engine) -> None:
    churn, fraud = register(engine, "churn"), register(engine, "fraud")
    seed(engine, churn, [CUTOFF - DAY, CUTOFF], "c")
    seed(engine, fraud, [CUTOFF - DAY, CUTOFF], "f")
    label(engine, churn, ["orphan-c"], CUTOFF - DAY)
    label(engine, fraud, ["orphan-f"], CUTOFF - DAY)

    result = prune_rows(engine, older_than=CUTOFF, model_name="churn")

    assert (result.records_deleted, result.labels_deleted) == (1, 1)
    assert record_times(engine, churn) == [micros(CUTOFF)]
    assert record_times(engine, fraud) == [micros(CUTOFF - DAY), micros(CUTOFF)]
    assert label_ids(engine, churn) == set()
    assert label_ids(engine, fraud) == {"orphan-f"}


def test_without_model_name_every_model_is_pruned(engine: Engine) -> None:
    churn, fraud = register(engine, "churn"), register(engine, "fraud")
    seed(engine, churn, [*minutes_before(12), CUTOFF], "c")
    seed(engine, fraud, [*minutes_before(3), CUTOFF], "f")

    result = prune_rows(engine, older_than=CUTOFF, batch_size=10)

    assert (result.records_deleted, result.batches) == (15, 3)  # churn 10 + 2, fraud 3
    assert record_times(engine, churn) == [micros(CUTOFF)]
    assert record_times(engine, fraud) == [micros(CUTOFF)]


def test_results_references_monitors_and_categories_are_untouched(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, minutes_before(10), "r")
    with create_session_factory(engine)() as session:
        monitor = Monitor(name="churn-drift", model_id=model.model_id, kind="drift", config={})
        session.add(monitor)
        session.flush()
        session.add(
            MonitorResult(
                monitor_id=monitor.id,
                window_start=CUTOFF - 2 * DAY,
                window_end=CUTOFF - DAY,
                status="ok",
                summary={"share": 0.0},
            )
        )
        session.add(
            ReferenceDataset(
                model_id=model.model_id, name="train", row_count=0, sha256="0" * 64, data=b""
            )
        )
        session.commit()
    tables = (Model, Monitor, MonitorResult, ReferenceDataset, FeatureCategory)
    before = {table: count(engine, table) for table in tables}

    result = prune_rows(engine, older_than=CUTOFF)

    assert result.records_deleted == 10
    assert count(engine, PredictionRecord) == 0
    assert {table: count(engine, table) for table in tables} == before
    assert before[FeatureCategory] == 2


# --- labels ------------------------------------------------------------------------------


def test_labels_go_when_old_and_joined_by_no_record(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, [CUTOFF - DAY, CUTOFF - DAY, CUTOFF + DAY], "r")  # r0, r1 old; r2 new
    label(engine, model, ["r0", "orphan-old"], CUTOFF - US)  # old: go
    label(engine, model, ["r1", "orphan-new"], CUTOFF)  # not older than the cutoff: stay
    label(engine, model, ["r2"], CUTOFF - DAY)  # old, but its record stays: stays

    result = prune_rows(engine, older_than=CUTOFF)

    assert (result.records_deleted, result.labels_deleted) == (2, 2)
    assert label_ids(engine, model) == {"r1", "orphan-new", "r2"}
    # A later prune takes the label that outlived its record once it is old too.
    later = prune_rows(engine, older_than=CUTOFF + US)
    assert (later.records_deleted, later.labels_deleted) == (0, 2)
    assert label_ids(engine, model) == {"r2"}


def test_label_batches_count_and_respect_max_batches(engine: Engine) -> None:
    model = register(engine)
    label(engine, model, [f"orphan{i}" for i in range(25)], CUTOFF - DAY)

    first = prune_rows(engine, older_than=CUTOFF, batch_size=10, max_batches=2)
    assert (first.labels_deleted, first.batches, first.finished) == (20, 2, False)

    second = prune_rows(engine, older_than=CUTOFF, batch_size=10, max_batches=2)
    assert (second.labels_deleted, second.batches, second.finished) == (5, 1, True)
    assert label_ids(engine, model) == set()


def test_labels_are_left_alone_while_records_remain_to_prune(engine: Engine) -> None:
    model = register(engine)
    seed(engine, model, minutes_before(20), "r")
    label(engine, model, ["orphan"], CUTOFF - DAY)

    result = prune_rows(engine, older_than=CUTOFF, batch_size=10, max_batches=1)

    assert (result.records_deleted, result.labels_deleted, result.finished) == (10, 0, False)
    assert label_ids(engine, model) == {"orphan"}


# --- dry run -----------------------------------------------------------------------------


def test_count_prunable_counts_what_prune_deletes_and_deletes_nothing(engine: Engine) -> None:
    churn, fraud = register(engine, "churn"), register(engine, "fraud")
    seed(engine, churn, [*minutes_before(12), CUTOFF], "c")
    seed(engine, fraud, [*minutes_before(4), CUTOFF], "f")
    label(engine, churn, ["c0", "c1", "c12", "orphan"], CUTOFF - DAY)  # c12 is at the cutoff
    label(engine, churn, ["c2"], CUTOFF + DAY)
    label(engine, fraud, ["f0"], CUTOFF - DAY)

    everything = count_rows(engine, older_than=CUTOFF)
    churn_only = count_rows(engine, older_than=CUTOFF, model_name="churn")

    assert everything == PruneCounts(records=16, labels=4)
    assert churn_only == PruneCounts(records=12, labels=3)
    assert count(engine, PredictionRecord) == 18
    assert count(engine, GroundTruthLabel) == 6
    result = prune_rows(engine, older_than=CUTOFF, model_name="churn", batch_size=5)
    assert (result.records_deleted, result.labels_deleted) == (12, 3)
    assert count_rows(engine, older_than=CUTOFF) == PruneCounts(records=4, labels=1)


# --- arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            {"older_than": dt.datetime(2024, 5, 1)},  # naive on purpose
            r"older_than must be timezone-aware, got naive 2024-05-01T00:00:00",
            id="naive",
        ),
        pytest.param(
            {"older_than": CUTOFF, "batch_size": 0},
            r"batch_size must be at least 1, got 0",
            id="batch-size",
        ),
        pytest.param(
            {"older_than": CUTOFF, "max_batches": 0},
            r"max_batches must be at least 1, got 0",
            id="max-batches",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_deleted(
    engine: Engine, arguments: dict[str, Any], message: str
) -> None:
    model = register(engine)
    seed(engine, model, [CUTOFF - DAY], "r")

    with pytest.raises(ValueError, match=message):
        prune_rows(engine, **arguments)
    assert count(engine, PredictionRecord) == 1


def test_a_naive_cutoff_is_refused_by_the_dry_run_too(engine: Engine) -> None:
    with pytest.raises(ValueError, match="older_than must be timezone-aware"):
        count_rows(engine, older_than=dt.datetime(2024, 5, 1))


def test_an_unknown_model_is_named_with_the_known_ones(engine: Engine) -> None:
    register(engine, "churn")
    expected = r"unknown model 'nope'; registered models: churn"

    with pytest.raises(NotFoundError, match=expected):
        prune_rows(engine, older_than=CUTOFF, model_name="nope")
    with pytest.raises(NotFoundError, match=expected):
        count_rows(engine, older_than=CUTOFF, model_name="nope")


def test_an_empty_store_prunes_nothing(engine: Engine) -> None:
    result = prune_rows(engine, older_than=CUTOFF, max_batches=1)

    assert (result.records_deleted, result.labels_deleted, result.batches) == (0, 0, 0)
    assert result.finished
