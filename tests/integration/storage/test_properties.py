"""Property tests of the insert → window round trip (SQLite only, to stay fast).

Arbitrary float64 values (NaN, -0.0, subnormals, the largest finite) and arbitrary unicode
categories must come back unchanged, and a window read to any limit must be a subset of the
full window of exactly ``min(limit, n)`` distinct records.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from storage import (
    PredictionBatch,
    create_engine,
    create_session_factory,
    insert_predictions,
    read_window,
    register_model,
    sqlite_url,
)
from storage.migrations import upgrade
from storage.repositories.models import ModelHandle
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task

pytestmark = pytest.mark.integration

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
START = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)
START_US = (START - EPOCH) // dt.timedelta(microseconds=1)
FEATURES = (
    FeatureSpec("x", FeatureKind.NUMERIC),
    FeatureSpec("colour", FeatureKind.CATEGORICAL),
    FeatureSpec("y", FeatureKind.NUMERIC),
)
PROPERTY_SETTINGS = settings(max_examples=25, deadline=None)

_model_names = itertools.count()

floats64 = st.floats(allow_nan=True, allow_infinity=False, width=64)
categories = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=50
)
records = st.lists(
    st.tuples(floats64, floats64, st.none() | categories, floats64),
    min_size=1,
    max_size=40,
)


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated SQLite database for the module; each example registers its own model."""
    engine = create_engine(sqlite_url(tmp_path_factory.mktemp("properties") / "driftline.db"))
    upgrade(engine)
    yield engine
    engine.dispose()


def new_model(engine: Engine) -> ModelHandle:
    with create_session_factory(engine)() as session:
        handle = register_model(
            session,
            name=f"prop-{next(_model_names)}",
            task=Task.REGRESSION,
            version="v1",
            features=FEATURES,
        )
        session.commit()
    return handle


def assert_same_floats(actual: NDArray[np.float64], expected: NDArray[np.float64]) -> None:
    """NaN where expected is NaN; elsewhere the same bits (so -0.0 stays -0.0)."""
    assert actual.shape == expected.shape
    missing = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), missing)
    np.testing.assert_array_equal(
        actual[~missing].view(np.uint64), expected[~missing].view(np.uint64)
    )


@PROPERTY_SETTINGS
@given(rows=records, seed=st.integers(0, 2**32 - 1))
def test_values_round_trip_unchanged(
    sqlite_engine: Engine, rows: list[tuple[float, float, str | None, float]], seed: int
) -> None:
    model = new_model(sqlite_engine)
    n = len(rows)
    x = np.array([r[0] for r in rows], dtype=np.float64)
    y = np.array([r[1] for r in rows], dtype=np.float64)
    colour = [r[2] for r in rows]
    prediction = np.array([r[3] for r in rows], dtype=np.float64)
    batch = PredictionBatch(
        request_ids=[f"r{i}" for i in range(n)],
        timestamps_us=START_US + np.arange(n, dtype=np.int64),
        features={"x": x, "y": list(y), "colour": colour},
        predictions=prediction,
    )

    result = insert_predictions(sqlite_engine, model, batch, rng=np.random.default_rng(seed))
    window = read_window(sqlite_engine, model.model_name, start=START, end=END)

    assert result.inserted == n
    assert len(window) == window.total_rows == n
    assert window.timestamps_us.tolist() == list(range(START_US, START_US + n))
    assert_same_floats(window.numeric[:, window.numeric_names.index("x")], x)
    assert_same_floats(window.numeric[:, window.numeric_names.index("y")], y)
    codes = window.categorical[:, window.categorical_names.index("colour")]
    mapping = window.categories["colour"]
    assert [None if np.isnan(c) else mapping[int(c)] for c in codes] == colour
    # Scalar columns compare by value: SQLite keeps -0.0 in a REAL column as 0.0.
    np.testing.assert_array_equal(window.predictions, prediction)


@st.composite
def sizes_and_limits(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 60))
    return n, draw(st.integers(1, n + 5))


@PROPERTY_SETTINGS
@given(size_and_limit=sizes_and_limits(), seed=st.integers(0, 2**32 - 1))
def test_limited_window_is_a_subset_of_the_full_window(
    sqlite_engine: Engine, size_and_limit: tuple[int, int], seed: int
) -> None:
    n, limit = size_and_limit
    model = new_model(sqlite_engine)
    rng = np.random.default_rng(seed)
    timestamps = START_US + rng.permutation(n).astype(np.int64) * 1_000
    batch = PredictionBatch(
        request_ids=[f"r{i}" for i in range(n)],
        timestamps_us=timestamps,
        features={"x": np.arange(n, dtype=np.float64)},
    )
    insert_predictions(sqlite_engine, model, batch, rng=rng)
    everything = set(zip(timestamps.tolist(), range(n), strict=True))

    window = read_window(sqlite_engine, model.model_name, start=START, end=END, limit=limit)

    x = window.numeric[:, window.numeric_names.index("x")].astype(int).tolist()
    pairs = list(zip(window.timestamps_us.tolist(), x, strict=True))
    assert len(window) == min(limit, n)
    assert len(set(pairs)) == len(pairs)
    assert set(pairs) <= everything
    assert window.timestamps_us.tolist() == sorted(window.timestamps_us.tolist())
    assert window.total_rows == n
    assert window.sampled == (limit < n)
