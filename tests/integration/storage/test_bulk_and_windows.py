"""Tests of the write path (:func:`insert_predictions`, :func:`upsert_labels`) and the read
path (:func:`read_window`) together, on SQLite and PostgreSQL.

Expected values are built by the tests from the data they insert (or read back with plain
SQL), never taken from the code under test.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import warnings
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa
from numpy.typing import NDArray
from scipy import stats
from sqlalchemy.engine import Engine

from storage import (
    InvalidBatchError,
    NotFoundError,
    PredictionBatch,
    Window,
    create_session_factory,
    insert_predictions,
    read_window,
    register_model,
    upsert_labels,
)
from storage.models import FeatureCategory, GroundTruthLabel, PredictionRecord
from storage.repositories.models import ModelHandle
from storage.schema import FeatureSpec
from storage.types import FeatureKind, RecordStatus, Task

pytestmark = pytest.mark.integration

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CLASSES = ("stay", "leave", "unsure")

NUMERIC = FeatureSpec("age", FeatureKind.NUMERIC)
INCOME = FeatureSpec("income", FeatureKind.NUMERIC)
CITY = FeatureSpec("city", FeatureKind.CATEGORICAL)
PLAN = FeatureSpec("plan", FeatureKind.CATEGORICAL)
VEC = FeatureSpec("vec", FeatureKind.EMBEDDING, dims=3)
NOTE = FeatureSpec("note", FeatureKind.TEXT)
#: Declared out of layout order, with every kind of feature.
ALL_KINDS = (CITY, NUMERIC, VEC, NOTE, INCOME, PLAN)


def micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch, computed with timedelta arithmetic only."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def register(
    engine: Engine,
    name: str = "churn",
    *,
    version: str = "v1",
    features: Sequence[FeatureSpec] = ALL_KINDS,
    task: Task = Task.MULTICLASS_CLASSIFICATION,
    classes: Sequence[str] = CLASSES,
) -> ModelHandle:
    with create_session_factory(engine)() as session:
        handle = register_model(
            session, name=name, task=task, version=version, features=features, classes=classes
        )
        session.commit()
    return handle


def read(engine: Engine, name: str = "churn", **options: Any) -> Window:
    """The whole day around ``T0``."""
    return read_window(engine, name, start=T0 - DAY, end=T0 + DAY, **options)


def count(engine: Engine, table: type[Any]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def ids(n: int, prefix: str = "r") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def times(n: int, step_us: int = 1_000_000) -> list[int]:
    return [micros(T0) + i * step_us for i in range(n)]


def decoded(window: Window, name: str) -> list[str | None]:
    """A categorical column as the strings it stands for (None where missing)."""
    column = window.categorical[:, window.categorical_names.index(name)]
    mapping = window.categories[name]
    return [None if np.isnan(code) else mapping[int(code)] for code in column]


def numeric(window: Window, name: str) -> NDArray[np.float64]:
    return window.numeric[:, window.numeric_names.index(name)]


def same_bits(actual: NDArray[Any], expected: NDArray[Any]) -> None:
    """Equal bit for bit (so -0.0 differs from 0.0, and NaN equals NaN)."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    unsigned = np.uint64 if actual.dtype.itemsize == 8 else np.uint32
    np.testing.assert_array_equal(actual.view(unsigned), expected.view(unsigned))


class FixedKeys:
    """Stands in for the generator of sample keys, handing out chosen keys."""

    def __init__(self, keys: NDArray[np.float64]) -> None:
        self.keys = keys

    def random(self, size: int) -> NDArray[np.float64]:
        assert size == len(self.keys)
        return self.keys


def test_batch_reads_back_exactly(engine: Engine, rng: np.random.Generator) -> None:
    model = register(engine)
    n = 200
    special = np.array([-0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, np.nan])
    age = rng.normal(40, 12, n)
    age[: len(special)] = special
    income = rng.lognormal(10, 1, n)
    income[rng.random(n) < 0.1] = np.nan
    cities = np.array(["Oslo", "Zürich", "東京", "São Paulo", "", "a'b\"c", "x" * 1024], object)
    city = list(rng.choice(cities, n))
    plan = [None if rng.random() < 0.2 else str(rng.choice(["free", "pro"])) for _ in range(n)]
    vec = rng.normal(size=(n, 3)).astype(np.float32)
    note = [f"note {i} ✓" if i % 3 else None for i in range(n)]
    predicted = rng.integers(0, 3, n)
    probabilities = rng.dirichlet(np.ones(3), n)
    latency = rng.exponential(0.05, n)
    status = rng.choice([int(s) for s in RecordStatus], n)
    timestamps = micros(T0) + rng.permutation(n) * 997_003  # distinct, not in insert order
    request_ids = ids(n)

    result = insert_predictions(
        engine,
        model,
        PredictionBatch(
            request_ids=request_ids,
            timestamps_us=timestamps,
            features={
                "age": age,
                "income": list(income),
                "city": city,
                "plan": plan,
                "vec": vec,
                "note": note,
            },
            predictions=[CLASSES[k] for k in predicted],
            probabilities=probabilities,
            latency_seconds=latency,
            status=status,
            error_types=[None if s == 0 else f"E{s}" for s in status],
            error_messages=[None if s == 0 else f"failed with {s}" for s in status],
        ),
        rng=rng,
    )
    labelled = rng.choice(n, 50, replace=False)
    label_index = rng.integers(0, 3, 50)
    upsert_labels(
        engine, model, [request_ids[i] for i in labelled], [CLASSES[k] for k in label_index]
    )
    window = read(engine, with_labels=True)

    assert (result.received, result.inserted, result.duplicates) == (n, n, 0)
    order = np.argsort(timestamps)
    assert len(window) == window.total_rows == n
    assert not window.sampled
    assert window.model_name == "churn"
    assert window.classes == CLASSES
    assert window.versions == {model.version_id: "v1"}
    assert window.version_ids.tolist() == [model.version_id] * n
    assert window.timestamps_us.dtype == np.int64
    assert window.timestamps_us.tolist() == timestamps[order].tolist()
    np.testing.assert_array_equal(window.timestamps(), timestamps[order].astype("datetime64[us]"))
    assert set(window.numeric_names) == {"age", "income"}
    same_bits(numeric(window, "age"), age[order])
    same_bits(numeric(window, "income"), income[order])
    assert set(window.categorical_names) == {"city", "plan"}
    assert decoded(window, "city") == [city[i] for i in order]
    assert decoded(window, "plan") == [plan[i] for i in order]
    city_codes = window.categorical[:, window.categorical_names.index("city")]
    assert len(np.unique(city_codes)) == len(set(city)) == len(window.categories["city"])
    assert set(window.embeddings) == {"vec"}
    assert window.embeddings["vec"].dtype == np.float32
    same_bits(window.embeddings["vec"], vec[order])
    np.testing.assert_array_equal(window.predictions, predicted[order].astype(np.float64))
    same_bits(window.probabilities, probabilities[order])
    same_bits(window.latency_seconds, latency[order])
    assert window.status.tolist() == status[order].tolist()
    expected_labels = np.full(n, np.nan)
    expected_labels[labelled] = label_index
    assert window.labels is not None
    np.testing.assert_array_equal(window.labels, expected_labels[order])
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(
                PredictionRecord.request_id,
                PredictionRecord.text_features,
                PredictionRecord.error_type,
                PredictionRecord.error_message,
            )
        ).all()
    by_id = {row.request_id: row for row in stored}
    for i, request_id in enumerate(request_ids):
        assert by_id[request_id].text_features == {"note": note[i]}
        assert by_id[request_id].error_type == (None if status[i] == 0 else f"E{status[i]}")
        assert by_id[request_id].error_message == (
            None if status[i] == 0 else f"failed with {status[i]}"
        )


def test_writing_and_reading_categories_emits_no_warnings(engine: Engine) -> None:
    # pytest turns warnings into errors; the write and read paths must not emit any
    # (e.g. SQLAlchemy deprecations), whatever the warning filters.
    model = register(engine)
    batch = PredictionBatch(["a", "b"], times(2), features={"city": ["Oslo", "Lima"]})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        insert_predictions(engine, model, batch)
        read(engine, limit=1, with_labels=True)

    assert [f"{w.category.__name__}: {w.message} ({w.filename})" for w in caught] == []


def test_window_without_labels_has_none(engine: Engine) -> None:
    model = register(engine)
    insert_predictions(engine, model, PredictionBatch(request_ids=["a"], timestamps_us=times(1)))
    upsert_labels(engine, model, ["a"], ["leave"])

    assert read(engine).labels is None
    labels = read(engine, with_labels=True).labels
    assert labels is not None
    assert labels.tolist() == [1.0]


def test_reinserting_a_batch_stores_nothing_twice(engine: Engine) -> None:
    model = register(engine)
    n = 50
    first = PredictionBatch(ids(n), times(n), features={"age": np.arange(n, dtype=float)})
    replay = PredictionBatch(ids(n), times(n), features={"age": -np.arange(n, dtype=float)})

    inserted = insert_predictions(engine, model, first)
    replayed = insert_predictions(engine, model, replay)

    assert (inserted.inserted, inserted.duplicates) == (n, 0)
    assert (replayed.received, replayed.inserted, replayed.duplicates) == (n, 0, n)
    assert count(engine, PredictionRecord) == n
    assert numeric(read(engine), "age").tolist() == list(range(n))  # the first write stays


def test_overlapping_batch_inserts_only_the_new_half(engine: Engine) -> None:
    model = register(engine)
    old = PredictionBatch(ids(40), times(40), features={"age": np.zeros(40)})
    overlap_ids = ids(40)[20:] + ids(20, prefix="new")
    overlap_times = times(40)[20:] + times(20, step_us=1_000)
    overlap = PredictionBatch(overlap_ids, overlap_times, features={"age": np.ones(40)})

    insert_predictions(engine, model, old)
    result = insert_predictions(engine, model, overlap)

    assert (result.received, result.inserted, result.duplicates) == (40, 20, 20)
    assert count(engine, PredictionRecord) == 60
    window = read(engine)
    by_time = dict(zip(window.timestamps_us.tolist(), numeric(window, "age").tolist(), strict=True))
    assert by_time == dict.fromkeys(times(40), 0.0) | dict.fromkeys(times(20, step_us=1_000), 1.0)


def test_duplicates_inside_one_batch_keep_the_first(engine: Engine) -> None:
    model = register(engine)
    batch = PredictionBatch(
        request_ids=["a", "b", "a", "c", "b", "a"],
        timestamps_us=times(6),
        features={"age": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
    )

    result = insert_predictions(engine, model, batch)

    assert (result.received, result.inserted, result.duplicates) == (6, 3, 3)
    window = read(engine)
    assert window.timestamps_us.tolist() == [times(6)[i] for i in (0, 1, 3)]
    assert numeric(window, "age").tolist() == [1.0, 2.0, 4.0]


def stored_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """(request id, latency, prediction, error type, error message) in id order."""
    query = sa.text(
        "SELECT request_id, latency_seconds, prediction, error_type, error_message "
        "FROM prediction_records ORDER BY id"
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def test_ids_follow_the_batch_order_also_when_some_records_are_stored(engine: Engine) -> None:
    model = register(engine, task=Task.REGRESSION, classes=())
    order = ["zeta", "alpha", "mu", "beta"]
    insert_predictions(engine, model, PredictionBatch(order[:2], times(2)))
    # "alpha" is stored: on PostgreSQL this batch's COPY fails and is staged instead.
    later = ["omega", "alpha", "gamma", "alpha", "delta"]
    at = [times(5)[i] for i in (2, 1, 3, 1, 4)]  # "alpha" at the time it was stored with
    result = insert_predictions(engine, model, PredictionBatch(later, at))

    assert (result.received, result.inserted) == (5, 3)
    assert [row[0] for row in stored_rows(engine)] == ["zeta", "alpha", "omega", "gamma", "delta"]


def test_many_records_with_nulls_and_unicode_read_back_as_written(
    engine: Engine, rng: np.random.Generator
) -> None:
    model = register(engine, task=Task.REGRESSION, classes=())
    n = 20_000  # more than one COPY chunk
    request_ids = [f"ïd-{i}-{'😀' * (i % 3)}" for i in range(n)]
    latency = rng.random(n)
    latency[::3] = np.nan
    predictions = rng.normal(size=n) * 1e300
    predictions[::7] = np.nan
    error_types: list[str | None] = [None if i % 5 else "timeout" for i in range(n)]
    error_messages: list[str | None] = [None if i % 5 else "délai " * (i % 50) for i in range(n)]
    batch = PredictionBatch(
        request_ids,
        times(n, step_us=1),
        predictions=predictions,
        latency_seconds=latency,
        status=[RecordStatus.OK if e is None else RecordStatus.TIMEOUT for e in error_types],
        error_types=error_types,
        error_messages=error_messages,
    )

    assert insert_predictions(engine, model, batch).inserted == n

    def nullable(value: float) -> float | None:
        return None if np.isnan(value) else float(value)

    expected = [
        (request_ids[i], nullable(latency[i]), nullable(predictions[i]), error_types[i])
        for i in range(n)
    ]
    rows = stored_rows(engine)
    assert [row[:4] for row in rows] == expected
    assert [row[4] for row in rows] == error_messages


def test_same_request_id_in_two_models_is_two_records(engine: Engine) -> None:
    churn = register(engine)
    fraud = register(engine, "fraud")
    batch = PredictionBatch(["a", "b"], times(2))

    assert insert_predictions(engine, churn, batch).inserted == 2
    assert insert_predictions(engine, fraud, batch).inserted == 2
    assert count(engine, PredictionRecord) == 4


def test_window_is_start_inclusive_end_exclusive(engine: Engine) -> None:
    model = register(engine)
    other = register(engine, "other")
    start, end = T0, T0 + dt.timedelta(hours=1)
    moments = {
        "before": start - dt.timedelta(microseconds=1),
        "at-start": start,
        "middle": start + dt.timedelta(minutes=30),
        "last": end - dt.timedelta(microseconds=1),
        "at-end": end,
    }
    batch = PredictionBatch(list(moments), [micros(m) for m in moments.values()])
    insert_predictions(engine, model, batch)
    insert_predictions(engine, other, PredictionBatch(["x"], [micros(moments["middle"])]))

    window = read_window(engine, "churn", start=start, end=end)
    oslo = dt.timezone(dt.timedelta(hours=2))
    shifted = read_window(engine, "churn", start=start.astimezone(oslo), end=end.astimezone(oslo))

    expected = [micros(moments[k]) for k in ("at-start", "middle", "last")]
    assert window.timestamps_us.tolist() == expected
    assert window.total_rows == 3
    assert shifted.timestamps_us.tolist() == expected


def test_window_bounds_are_checked(engine: Engine) -> None:
    register(engine)
    naive = dt.datetime(2024, 5, 1, 12, 0)

    with pytest.raises(ValueError, match="timezone-aware"):
        read_window(engine, "churn", start=naive, end=T0 + DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        read_window(engine, "churn", start=T0, end=naive + DAY)
    with pytest.raises(ValueError, match="must be after its start"):
        read_window(engine, "churn", start=T0, end=T0)
    with pytest.raises(ValueError, match="positive number of rows, got 0"):
        read(engine, limit=0)


def test_unknown_model_or_version_is_not_found(engine: Engine) -> None:
    register(engine)

    with pytest.raises(NotFoundError, match="unknown model 'nope'"):
        read(engine, "nope")
    with pytest.raises(NotFoundError, match="model 'churn' has no version 'v9'"):
        read(engine, version="v9")


def test_empty_window_has_empty_columns(engine: Engine) -> None:
    model = register(engine)
    insert_predictions(engine, model, PredictionBatch(["late"], [micros(T0 + 2 * DAY)]))

    window = read(engine, limit=10, with_labels=True)

    assert len(window) == window.total_rows == 0
    assert not window.sampled
    assert window.timestamps_us.shape == window.predictions.shape == (0,)
    assert window.numeric_names == ("age", "income")
    assert window.categorical_names == ("city", "plan")
    assert window.numeric.shape == (0, 2)
    assert window.categorical.shape == (0, 2)
    assert window.probabilities.shape == (0, 3)
    assert {name: v.shape for name, v in window.embeddings.items()} == {"vec": (0, 3)}
    assert window.labels is not None
    assert window.labels.shape == (0,)


def test_window_of_one_version_lists_every_versions_features(engine: Engine) -> None:
    # Consumers compare windows column by column: a window that happens to hold only the
    # old version's records still names the features of every version, NaN where absent.
    old = register(engine, features=(NUMERIC, CITY))
    register(engine, version="v2", features=(NUMERIC, INCOME, CITY, PLAN))
    batch = PredictionBatch(["a"], [micros(T0)], features={"age": [3.0], "city": ["Oslo"]})
    insert_predictions(engine, old, batch)

    window = read(engine)

    assert window.numeric_names == ("age", "income")
    assert window.categorical_names == ("city", "plan")
    assert window.numeric.tolist() == [[3.0, pytest.approx(np.nan, nan_ok=True)]]
    assert decoded(window, "city") == ["Oslo"]
    assert decoded(window, "plan") == [None]


def test_limit_returns_the_records_with_the_smallest_sample_keys(
    engine: Engine, rng: np.random.Generator
) -> None:
    model = register(engine)
    n, limit = 1_000, 100
    inside = micros(T0) + rng.permutation(n) * 1_000
    outside = [micros(T0 - DAY) - 1, micros(T0 + DAY), micros(T0 + 2 * DAY)]
    all_times = [*inside.tolist(), *outside]
    batch = PredictionBatch(ids(n + 3), all_times, features={"age": np.arange(n + 3.0)})
    insert_predictions(engine, model, batch, rng=rng)
    with engine.connect() as connection:
        smallest = connection.execute(
            sa.select(PredictionRecord.timestamp_us)
            .where(PredictionRecord.timestamp_us.between(micros(T0 - DAY), micros(T0 + DAY) - 1))
            .order_by(PredictionRecord.sample_key)
            .limit(limit)
        ).scalars()
        expected = sorted(smallest)

    window = read(engine, limit=limit)
    again = read(engine, limit=limit)

    assert len(window) == limit
    assert window.total_rows == n
    assert window.sampled
    assert window.timestamps_us.tolist() == expected
    assert len(set(window.timestamps_us.tolist())) == limit
    assert np.all(np.diff(window.timestamps_us) > 0)
    assert set(window.timestamps_us.tolist()) <= set(inside.tolist())
    same_bits(again.timestamps_us, window.timestamps_us)
    same_bits(again.numeric, window.numeric)
    # Rows stay whole: each record's feature value comes with its own timestamp.
    assert numeric(window, "age").tolist() == [float(all_times.index(t)) for t in expected]


@pytest.mark.parametrize("limit", [1_000, 5_000])
def test_limit_at_or_above_the_total_is_not_sampled(engine: Engine, limit: int) -> None:
    model = register(engine)
    insert_predictions(engine, model, PredictionBatch(ids(1_000), times(1_000)))

    window = read(engine, limit=limit)

    assert len(window) == window.total_rows == 1_000
    assert not window.sampled


def test_limit_is_met_even_when_few_keys_fall_under_the_cut(engine: Engine) -> None:
    # All keys in [0.5, 1): a first pass keeping only small keys finds none, and the read
    # must still return exactly the `limit` records with the smallest keys.
    model = register(engine)
    n, limit = 100, 10
    keys = np.linspace(0.99, 0.5, n)  # record i has the i-th largest key
    batch = PredictionBatch(ids(n), times(n))
    insert_predictions(engine, model, batch, rng=cast(np.random.Generator, FixedKeys(keys)))

    window = read(engine, limit=limit)

    assert window.timestamps_us.tolist() == times(n)[n - limit :]
    assert window.sampled


def test_sampling_is_uniform_over_the_window(engine: Engine, rng: np.random.Generator) -> None:
    model = register(engine)
    n, limit = 20_000, 2_000
    start, end = T0, T0 + DAY
    span = micros(end) - micros(start)
    timestamps = micros(start) + (np.arange(n) * span) // n
    age = rng.normal(40.0, 12.0, n)
    batch = PredictionBatch(ids(n), timestamps, features={"age": age})
    insert_predictions(engine, model, batch, rng=rng)

    window = read_window(engine, "churn", start=start, end=end, limit=limit)

    assert len(window) == limit
    assert window.total_rows == n
    position = (window.timestamps_us - micros(start)) / span
    assert stats.kstest(position, "uniform").pvalue > 1e-3
    sampled_age = numeric(window, "age")
    standard_error = age.std() / np.sqrt(limit) * np.sqrt((n - limit) / (n - 1))
    assert abs(sampled_age.mean() - age.mean()) < 4 * standard_error
    # Not the first or last `limit` records: the sample spans the window.
    assert position.min() < 0.01
    assert position.max() > 0.99


def test_versions_are_aligned_by_feature_name(engine: Engine) -> None:
    v1 = register(engine, version="v1", features=[NUMERIC, INCOME, CITY])
    v2 = register(
        engine,
        version="v2",
        features=[INCOME, FeatureSpec("tenure", FeatureKind.NUMERIC), PLAN, CITY],
    )
    insert_predictions(
        engine,
        v1,
        PredictionBatch(
            ids(3, "a"),
            times(3),
            features={
                "age": [30.0, 31.0, 32.0],
                "income": [1.0, 2.0, 3.0],
                "city": ["X", "Y", "X"],
            },
        ),
    )
    insert_predictions(
        engine,
        v2,
        PredictionBatch(
            ids(2, "b"),
            [t + 10_000_000 for t in times(2)],
            features={
                "income": [4.0, 5.0],
                "tenure": [7.0, 8.0],
                "plan": ["pro", "free"],
                "city": ["Y", "Z"],
            },
        ),
    )

    window = read(engine)
    only_v1 = read(engine, version="v1")

    nan = float("nan")
    assert set(window.numeric_names) == {"age", "income", "tenure"}
    np.testing.assert_array_equal(numeric(window, "age"), [30.0, 31.0, 32.0, nan, nan])
    np.testing.assert_array_equal(numeric(window, "income"), [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(numeric(window, "tenure"), [nan, nan, nan, 7.0, 8.0])
    assert set(window.categorical_names) == {"city", "plan"}
    assert decoded(window, "city") == ["X", "Y", "X", "Y", "Z"]
    assert decoded(window, "plan") == [None, None, None, "pro", "free"]
    assert window.version_ids.tolist() == [v1.version_id] * 3 + [v2.version_id] * 2
    assert window.versions == {v1.version_id: "v1", v2.version_id: "v2"}
    assert only_v1.total_rows == len(only_v1) == 3
    assert set(only_v1.numeric_names) == {"age", "income"}
    assert only_v1.categorical_names == ("city",)
    assert only_v1.versions == {v1.version_id: "v1"}
    np.testing.assert_array_equal(numeric(only_v1, "age"), [30.0, 31.0, 32.0])


def test_missing_outputs_come_back_as_nan(engine: Engine) -> None:
    model = register(engine)
    regressor = register(engine, "price", task=Task.REGRESSION, classes=(), features=[NUMERIC])
    failed = PredictionBatch(
        request_ids=["ok", "failed", "bad"],
        timestamps_us=times(3),
        features={"age": [1.0, None, np.nan]},
        predictions=["leave", None, None],
        probabilities=[[0.1, 0.8, 0.1], [np.nan] * 3, [np.nan] * 3],
        status=[RecordStatus.OK, RecordStatus.ERROR, RecordStatus.BAD_INPUT],
    )
    insert_predictions(engine, model, failed)
    insert_predictions(
        engine,
        regressor,
        PredictionBatch(
            ["p", "q"], times(2), predictions=[-0.5, None], latency_seconds=[0.2, np.nan]
        ),
    )

    window = read(engine, with_labels=True)
    prices = read(engine, "price")

    assert window.status.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(window.predictions, [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(window.probabilities[0], [0.1, 0.8, 0.1])
    assert np.isnan(window.probabilities[1:]).all()
    assert np.isnan(window.latency_seconds).all()
    assert window.labels is not None
    assert np.isnan(window.labels).all()
    np.testing.assert_array_equal(numeric(window, "age"), [1.0, np.nan, np.nan])
    assert np.isnan(window.categorical).all()
    assert np.isnan(window.embeddings["vec"]).all()
    np.testing.assert_array_equal(prices.predictions, [-0.5, np.nan])
    np.testing.assert_array_equal(prices.latency_seconds, [0.2, np.nan])
    assert prices.probabilities.shape == (2, 0)


def labels_by_id(engine: Engine) -> dict[str, tuple[float, int, int | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                GroundTruthLabel.request_id,
                GroundTruthLabel.value,
                GroundTruthLabel.revision,
                GroundTruthLabel.event_timestamp_us,
            )
        ).all()
    return {r.request_id: (r.value, r.revision, r.event_timestamp_us) for r in rows}


def test_upsert_labels_last_write_wins_and_counts_revisions(engine: Engine) -> None:
    model = register(engine)

    first = upsert_labels(
        engine, model, ["r0", "r1"], ["stay", "leave"], event_timestamps_us=[5, 6]
    )
    second = upsert_labels(engine, model, ["r1", "r2"], ["unsure", "leave"])
    third = upsert_labels(engine, model, ["r0", "r0"], ["leave", "unsure"])

    assert (first, second, third) == (2, 2, 1)
    assert labels_by_id(engine) == {
        "r0": (2.0, 2, None),  # 'unsure', the last value of the third call
        "r1": (2.0, 2, None),
        "r2": (1.0, 1, None),
    }


def test_upsert_labels_for_regression_stores_numbers(engine: Engine) -> None:
    model = register(engine, "price", task=Task.REGRESSION, classes=(), features=[NUMERIC])

    upsert_labels(engine, model, ["a", "b"], [1.25, -3], event_timestamps_us=[100, 200])
    upsert_labels(engine, model, ["b"], [0.5])

    assert labels_by_id(engine) == {"a": (1.25, 1, 100), "b": (0.5, 2, None)}


@pytest.mark.parametrize(
    ("values", "fragments"),
    [
        (["stay", "maybe"], ["unknown class 'maybe' at position 1", "['stay', 'leave', 'unsure']"]),
        (["stay"], ["2 request ids but 1 values"]),
    ],
)
def test_invalid_labels_write_nothing(
    engine: Engine, values: list[str], fragments: list[str]
) -> None:
    model = register(engine)
    upsert_labels(engine, model, ["r0"], ["leave"])

    with pytest.raises(InvalidBatchError) as caught:
        upsert_labels(engine, model, ["r0", "r1"], values)

    for fragment in fragments:
        assert fragment in str(caught.value)
    assert labels_by_id(engine) == {"r0": (1.0, 1, None)}


def test_non_finite_regression_labels_write_nothing(engine: Engine) -> None:
    model = register(engine, "price", task=Task.REGRESSION, classes=(), features=[NUMERIC])

    with pytest.raises(InvalidBatchError, match="finite"):
        upsert_labels(engine, model, ["a", "b"], [1.0, float("inf")])

    assert count(engine, GroundTruthLabel) == 0


def test_invalid_batch_writes_nothing(engine: Engine) -> None:
    model = register(engine)
    bad = PredictionBatch(
        request_ids=["a", "b", "c"],
        timestamps_us=times(3),
        features={"city": ["New", "Newer", "Newest"]},
        predictions=["stay", "leave", "nonsense"],
    )

    with pytest.raises(InvalidBatchError, match="'nonsense' at record 2"):
        insert_predictions(engine, model, bad)

    assert count(engine, PredictionRecord) == 0
    assert count(engine, FeatureCategory) == 0


def test_failed_insert_rolls_back_new_categories(engine: Engine) -> None:
    # A handle naming a version that does not exist passes validation and fails in the
    # database after the new categories were written: the transaction must drop them too.
    model = register(engine)
    insert_predictions(engine, model, PredictionBatch(["a"], times(1), features={"city": ["Old"]}))
    ghost = ModelHandle(
        model_id=model.model_id,
        model_name=model.model_name,
        task=model.task,
        classes=model.classes,
        version_id=model.version_id + 1_000,
        version="ghost",
        schema=model.schema,
    )
    batch = PredictionBatch(["b", "c"], times(2), features={"city": ["Old", "Brand new"]})

    with pytest.raises((sa.exc.IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)):
        insert_predictions(engine, ghost, batch)

    assert count(engine, PredictionRecord) == 1
    with engine.connect() as connection:
        values = connection.execute(sa.select(FeatureCategory.value)).scalars().all()
    assert values == ["Old"]


def test_category_codes_are_shared_across_batches_and_versions(engine: Engine) -> None:
    v1 = register(engine, version="v1", features=[CITY, PLAN])
    v2 = register(engine, version="v2", features=[NUMERIC, CITY])
    other = register(engine, "other", features=[CITY])
    insert_predictions(
        engine, v1, PredictionBatch(["a", "b"], times(2), features={"city": ["Oslo", "Lima"]})
    )
    insert_predictions(
        engine,
        v1,
        PredictionBatch(
            ["c", "d"],
            times(2, step_us=10),
            # The same string in another feature is another category.
            features={"city": ["Lima", "Quito"], "plan": ["Oslo", None]},
        ),
    )
    insert_predictions(
        engine,
        v2,
        PredictionBatch(
            ["e", "f"], [t + 5 for t in times(2)], features={"city": ["Quito", "Oslo"]}
        ),
    )
    insert_predictions(engine, other, PredictionBatch(["a"], times(1), features={"city": ["Oslo"]}))

    window = read(engine)
    others = read(engine, "other")

    city = decoded(window, "city")
    codes = window.categorical[:, window.categorical_names.index("city")]
    assert sorted(city) == sorted(["Oslo", "Lima", "Lima", "Quito", "Quito", "Oslo"])  # type: ignore[type-var]
    for value in ("Oslo", "Lima", "Quito"):
        assert len({codes[i] for i, v in enumerate(city) if v == value}) == 1
    assert len(set(codes.tolist())) == 3
    assert decoded(others, "city") == ["Oslo"]
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(FeatureCategory.model_id, FeatureCategory.feature, FeatureCategory.value)
        ).all()
    assert sorted(map(tuple, stored)) == sorted(
        [
            (v1.model_id, "city", "Oslo"),
            (v1.model_id, "city", "Lima"),
            (v1.model_id, "city", "Quito"),
            (v1.model_id, "plan", "Oslo"),
            (other.model_id, "city", "Oslo"),
        ]
    )


def test_long_non_ascii_categories_within_the_limit_round_trip(
    engine: Engine, rng: np.random.Generator
) -> None:
    # Categorical values are limited to 1024 bytes of UTF-8 (what PostgreSQL's unique index
    # on the dictionary can hold, whatever the characters); at the limit they must round trip
    # on both back ends, one byte over it the batch is refused before anything is written.
    model = register(engine)
    ascii_value = "a" * 1024
    wide_value = "".join(chr(c) for c in rng.integers(0x20000, 0x2A6DF, 256))
    assert len(wide_value.encode()) == 1024
    batch = PredictionBatch(["a", "b"], times(2), features={"city": [ascii_value, wide_value]})

    insert_predictions(engine, model, batch)

    assert decoded(read(engine), "city") == [ascii_value, wide_value]
    too_long = PredictionBatch(["c"], times(1), features={"city": [wide_value + "a"]})
    with pytest.raises(InvalidBatchError, match="feature 'city': values are at most 1024 bytes"):
        insert_predictions(engine, model, too_long)
