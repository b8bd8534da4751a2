"""Tests of :mod:`monitor.references` on SQLite and PostgreSQL: uploading reference datasets,
their validation, and reading them back as windows.

Expected windows are computed by the tests from the frames they upload, never taken from
the code under test.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from monitor.errors import ConfigError, DataFileError
from monitor.references import (
    ReferenceDataError,
    ReferenceWindowCache,
    prepare_upload,
    reference_window,
    upload_reference,
)
from storage import (
    ConflictError,
    NotFoundError,
    PredictionBatch,
    Window,
    create_session_factory,
    insert_predictions,
    read_window,
    register_model,
)
from storage.repositories.models import ModelHandle
from storage.repositories.references import load_reference_data
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task

pytestmark = pytest.mark.integration

CLASSES = ("stay", "leave", "unsure")
FEATURES = (
    FeatureSpec("city", FeatureKind.CATEGORICAL),
    FeatureSpec("age", FeatureKind.NUMERIC),
    FeatureSpec("vec", FeatureKind.EMBEDDING, dims=2),
    FeatureSpec("note", FeatureKind.TEXT),
)
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def register(
    engine: Engine,
    name: str = "churn",
    *,
    task: Task = Task.MULTICLASS_CLASSIFICATION,
    classes: Sequence[str] = CLASSES,
    version: str = "v1",
    features: Sequence[FeatureSpec] = FEATURES,
) -> ModelHandle:
    with create_session_factory(engine).begin() as session:
        return register_model(
            session, name=name, task=task, version=version, features=features, classes=classes
        )


def reference_frame() -> pd.DataFrame:
    """Five rows with every kind of column, a missing value in most, and an extra column."""
    return pd.DataFrame(
        {
            "id": [101, 102, 103, 104, 105],
            "age": [31.0, 45.5, None, 22.0, 60.0],
            "city": ["Oslo", "Lima", "Oslo", None, "Kyiv"],
            "vec_0": [0.5, 1.5, 2.5, 3.5, 4.5],
            "vec_1": [-1.0, -2.0, -3.0, None, -5.0],
            "note": ["first", "second", None, "fourth", "fifth"],
            "target": ["stay", "leave", "unsure", None, "stay"],
            "prediction": ["stay", "stay", "unsure", "leave", "leave"],
            "proba_stay": [0.7, 0.6, 0.1, 0.2, 0.3],
            "proba_leave": [0.2, 0.3, 0.1, 0.7, 0.6],
            "proba_unsure": [0.1, 0.1, 0.8, 0.1, 0.1],
        }
    )


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def decoded(window: Window, name: str) -> list[str | None]:
    """A categorical column of a window as values, through its ``categories``."""
    column = window.categorical[:, window.categorical_names.index(name)]
    mapping = window.categories[name]
    return [None if np.isnan(code) else mapping[int(code)] for code in column]


def classes_of(values: Sequence[Any]) -> list[float]:
    return [np.nan if value is None else float(CLASSES.index(value)) for value in values]


# --- round trips ----------------------------------------------------------------------------


def test_a_csv_file_uploads_and_reads_back_as_a_window(engine: Engine, tmp_path: Path) -> None:
    handle = register(engine)
    frame = reference_frame()
    path = write_csv(frame, tmp_path / "train.csv")

    info = upload_reference(engine, "churn", path)
    window = reference_window(engine, "churn", "training", cache=ReferenceWindowCache())

    stored_info, stored = load_reference_data(engine, "churn", "training")
    assert info == stored_info
    assert (info.name, info.version, info.row_count) == ("training", "v1", 5)
    assert info.sha256 == hashlib.sha256(stored).hexdigest()
    assert stored.startswith(b"PAR1")
    assert len(window) == window.total_rows == 5
    assert (window.model_name, window.classes) == ("churn", CLASSES)
    assert window.start == window.end == info.created_at
    assert window.numeric_names == ("age",)
    np.testing.assert_array_equal(window.numeric[:, 0], frame["age"].to_numpy())
    assert window.categorical_names == ("city",)
    assert decoded(window, "city") == ["Oslo", "Lima", "Oslo", None, "Kyiv"]
    assert set(window.categories["city"].values()) == {"Oslo", "Lima", "Kyiv"}
    expected_vec = frame[["vec_0", "vec_1"]].to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(window.embeddings["vec"], expected_vec)
    assert window.embeddings["vec"].dtype == np.float32
    assert window.labels is not None
    np.testing.assert_array_equal(window.labels, classes_of(frame["target"].tolist()))
    np.testing.assert_array_equal(window.predictions, classes_of(frame["prediction"].tolist()))
    probabilities = frame[["proba_stay", "proba_leave", "proba_unsure"]].to_numpy()
    np.testing.assert_array_equal(window.probabilities, probabilities)
    np.testing.assert_array_equal(window.timestamps_us, np.zeros(5, dtype=np.int64))
    assert window.status.dtype == np.int16
    assert not window.status.any()
    assert np.isnan(window.latency_seconds).all()
    np.testing.assert_array_equal(window.version_ids, [handle.version_id] * 5)
    assert window.versions == {handle.version_id: "v1"}


def test_a_parquet_list_embedding_equals_the_expanded_columns(
    engine: Engine, tmp_path: Path
) -> None:
    register(engine)
    frame = reference_frame()
    listed = frame.drop(columns=["vec_0", "vec_1"]).assign(
        vec=[np.array([a, b]) for a, b in zip(frame["vec_0"], frame["vec_1"], strict=True)]
    )
    (tmp_path / "train.parquet").write_bytes(parquet_bytes(listed))
    upload_reference(engine, "churn", write_csv(frame, tmp_path / "train.csv"), name="csv")
    upload_reference(engine, "churn", tmp_path / "train.parquet", name="parquet")
    cache = ReferenceWindowCache()

    from_csv = reference_window(engine, "churn", "csv", cache=cache)
    from_parquet = reference_window(engine, "churn", "parquet", cache=cache)

    np.testing.assert_array_equal(from_parquet.embeddings["vec"], from_csv.embeddings["vec"])
    np.testing.assert_array_equal(from_parquet.numeric, from_csv.numeric)
    np.testing.assert_array_equal(from_parquet.categorical, from_csv.categorical)


@pytest.mark.parametrize("encoding", ["csv", "csv.gz", "parquet"])
def test_bytes_are_sniffed(engine: Engine, encoding: str) -> None:
    register(engine)
    frame = reference_frame()
    data = {
        "csv": frame.to_csv(index=False).encode(),
        "csv.gz": gzip.compress(frame.to_csv(index=False).encode()),
        "parquet": parquet_bytes(frame),
    }[encoding]

    info = upload_reference(engine, "churn", data)
    window = reference_window(engine, "churn", "training", cache=ReferenceWindowCache())

    assert info.row_count == 5
    assert decoded(window, "city") == ["Oslo", "Lima", "Oslo", None, "Kyiv"]


def test_an_explicit_format_wins_over_the_file_name(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    path = tmp_path / "train.dat"
    path.write_bytes(parquet_bytes(reference_frame()))

    assert upload_reference(engine, "churn", path, file_format="parquet").row_count == 5


def test_only_features_are_required(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    frame = reference_frame()[["age", "city", "vec_0", "vec_1", "note"]]

    upload_reference(engine, "churn", write_csv(frame, tmp_path / "train.csv"))
    window = reference_window(engine, "churn", "training", cache=ReferenceWindowCache())

    assert window.labels is None
    assert np.isnan(window.predictions).all()
    assert window.probabilities.shape == (5, 3)
    assert np.isnan(window.probabilities).all()


def test_steps_are_reported_and_findings_returned(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    steps: list[str] = []

    prepared = prepare_upload(
        engine, "churn", write_csv(reference_frame(), tmp_path / "t.csv"), on_step=steps.append
    )

    assert steps == ["reading", "validating"]
    assert prepared.has_labels
    assert prepared.label_column == "target"
    assert prepared.has_predictions
    assert prepared.has_probabilities
    assert prepared.ignored_columns == ("id",)
    assert prepared.sha256 == hashlib.sha256(prepared.data).hexdigest()


def test_a_feature_named_label_is_a_feature(engine: Engine, tmp_path: Path) -> None:
    register(engine, features=(FeatureSpec("label", FeatureKind.CATEGORICAL),))
    frame = pd.DataFrame({"label": ["a", "b"], "target": ["stay", "leave"]})

    prepared = prepare_upload(engine, "churn", write_csv(frame, tmp_path / "t.csv"))

    assert (prepared.label_column, prepared.ignored_columns) == ("target", ())


def test_a_regression_model(engine: Engine, tmp_path: Path) -> None:
    register(engine, "price", task=Task.REGRESSION, classes=(), features=FEATURES[:2])
    frame = pd.DataFrame(
        {
            "age": [1.0, 2.0, 3.0],
            "city": ["a", "b", "a"],
            "label": [10.5, None, 7.25],
            "prediction": [9.0, 11.0, 7.0],
            "proba_x": [0.1, 0.2, 0.3],
        }
    )

    prepared = prepare_upload(engine, "price", write_csv(frame, tmp_path / "t.csv"))
    upload_reference(engine, "price", write_csv(frame, tmp_path / "t.csv"))
    window = reference_window(engine, "price", "training", cache=ReferenceWindowCache())

    assert prepared.ignored_columns == ("proba_x",)
    assert window.labels is not None
    np.testing.assert_array_equal(window.labels, [10.5, np.nan, 7.25])
    np.testing.assert_array_equal(window.predictions, [9.0, 11.0, 7.0])
    assert window.probabilities.shape == (3, 0)


def test_a_binary_model_may_give_one_probability(engine: Engine, tmp_path: Path) -> None:
    register(engine, "fraud", task=Task.BINARY_CLASSIFICATION, classes=("no", "yes"))
    frame = reference_frame()[["age", "city", "vec_0", "vec_1", "note"]].assign(
        proba_yes=[0.25, 0.5, 0.75, 1.0, 0.0]
    )

    upload_reference(engine, "fraud", write_csv(frame, tmp_path / "t.csv"))
    window = reference_window(engine, "fraud", "training", cache=ReferenceWindowCache())

    np.testing.assert_array_equal(window.probabilities[:, 1], [0.25, 0.5, 0.75, 1.0, 0.0])
    np.testing.assert_array_equal(window.probabilities[:, 0], [0.75, 0.5, 0.25, 0.0, 1.0])


def test_a_named_version_is_checked_and_recorded(engine: Engine, tmp_path: Path) -> None:
    register(engine, version="v1")
    newer = (*FEATURES, FeatureSpec("income", FeatureKind.NUMERIC))
    v2 = register(engine, version="v2", features=newer)
    path = write_csv(reference_frame(), tmp_path / "t.csv")

    with pytest.raises(ReferenceDataError, match="missing feature column"):
        upload_reference(engine, "churn", path)
    info = upload_reference(engine, "churn", path, version="v1")
    window = reference_window(engine, "churn", "training", cache=ReferenceWindowCache())

    assert info.version == "v1"
    assert v2.version_id not in window.versions
    assert list(window.versions.values()) == ["v1"]


# --- validation -----------------------------------------------------------------------------


def _set(column: str, row: int, value: Any) -> Any:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        pytest.param(
            lambda f: f.drop(columns=["age", "vec_1"]),
            [
                "missing feature column(s) 'age', 'vec' (embedding: a list column or "
                "vec_0..vec_1) of model 'churn' version 'v1'",
                "columns found: 'id', 'city', 'vec_0', 'note', 'target'",
            ],
            id="missing-feature",
        ),
        pytest.param(
            _set("age", 2, "forty"),
            ["column 'age' is not numeric: found 'forty'"],
            id="non-numeric",
        ),
        pytest.param(
            _set("age", 1, float("inf")), ["column 'age' holds inf at row 2"], id="infinite"
        ),
        pytest.param(
            _set("target", 0, "maybe"),
            [
                "column 'target' holds unknown class label(s) 'maybe'",
                "model 'churn' has classes 'stay', 'leave', 'unsure'",
            ],
            id="unknown-label",
        ),
        pytest.param(
            _set("prediction", 4, "gone"),
            ["column 'prediction' holds unknown class label(s) 'gone'"],
            id="unknown-prediction",
        ),
        pytest.param(
            lambda f: f.assign(label=f["target"]),
            ["both 'target', 'label' columns found; keep one as the label"],
            id="two-labels",
        ),
        pytest.param(
            lambda f: f.drop(columns=["proba_leave", "proba_unsure"]),
            ["probability column(s) 'proba_leave', 'proba_unsure' missing; give one per class"],
            id="missing-probability",
        ),
        pytest.param(
            lambda f: f.assign(proba_maybe=0.5),
            ["probability column(s) 'proba_maybe' name no class of model 'churn'"],
            id="unknown-probability",
        ),
        pytest.param(
            _set("proba_stay", 3, 1.5),
            ["column 'proba_stay' holds 1.5 at row 4; expected probabilities in [0, 1]"],
            id="probability-range",
        ),
        pytest.param(
            _set("vec_0", 0, 1e39),
            ["embedding 'vec' holds a value out of float32 range", "at row 1"],
            id="embedding-range",
        ),
        pytest.param(
            lambda f: f.drop(columns=["vec_0", "vec_1"]).assign(vec="[1, 2]"),
            ["embedding column 'vec' holds text (str) at row 1; expected a list of 2 numbers"],
            id="embedding-as-text",
        ),
        pytest.param(
            _set("city", 1, "x" * 1025),
            ["column 'city' holds a value with 1025 bytes of UTF-8 at row 2"],
            id="long-category",
        ),
    ],
)
def test_bad_files_name_the_problem(
    engine: Engine, tmp_path: Path, change: Any, fragments: list[str]
) -> None:
    register(engine)
    path = write_csv(change(reference_frame()), tmp_path / "train.csv")

    with pytest.raises(ConfigError) as caught:
        upload_reference(engine, "churn", path)

    message = str(caught.value)
    assert isinstance(caught.value, ReferenceDataError | DataFileError)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message
    with pytest.raises(NotFoundError):
        load_reference_data(engine, "churn", "training")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ([1.0, 2.0, 3.0], "holds a list of shape (3,) at row 2; expected a list of 2 numbers"),
        (["x", "y"], "holds a list holding something other than numbers at row 2"),
    ],
)
def test_a_bad_embedding_list_names_the_row(engine: Engine, cell: list[Any], expected: str) -> None:
    register(engine)
    frame = reference_frame().drop(columns=["vec_0", "vec_1"])
    text = isinstance(cell[0], str)  # Parquet lists hold one type: make every row text
    rows: list[Any] = [[0.0, 1.0], cell, [2.0, 3.0], None, [4.0, 5.0]]
    frame["vec"] = [[str(v) for v in row] if text and row else row for row in rows]
    data = parquet_bytes(frame)

    with pytest.raises(ReferenceDataError) as caught:
        upload_reference(engine, "churn", data)

    assert str(caught.value).startswith("request body: embedding column 'vec' "), caught.value
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("file", "content", "options", "expected"),
    [
        ("t.csv", b"", {}, "t.csv: empty file, no header and no rows"),
        ("t.csv", b"age,city,vec_0,vec_1,note\n", {}, "t.csv: no data rows"),
        ("t.txt", b"age\n1\n", {}, "t.txt: unsupported file type; supported: .csv"),
        ("t.parquet", b"age\n1\n", {}, "t.parquet: unreadable Parquet:"),
        ("t.csv", b"age\n1\n", {"file_format": "parquet"}, "t.csv: unreadable Parquet:"),
        ("t.csv", b"age\n", {"file_format": "xlsx"}, "file format must be 'csv' or 'parquet'"),
        (None, b"", {}, "request body: empty file, no header and no rows"),
        (None, b"age,city\n", {}, "request body: no data rows"),
        (None, b"age\n1\n", {"file_format": "parquet"}, "request body: unreadable Parquet:"),
        (None, b"PAR1garbage", {}, "request body: unreadable Parquet:"),
    ],
)
def test_unreadable_input(
    engine: Engine,
    tmp_path: Path,
    file: str | None,
    content: bytes,
    options: dict[str, Any],
    expected: str,
) -> None:
    register(engine)
    data: bytes | Path = content
    if file is not None:
        data = tmp_path / file
        data.write_bytes(content)
        expected = f"{tmp_path}/{expected}" if expected.startswith(file) else expected

    with pytest.raises(ConfigError) as caught:
        upload_reference(engine, "churn", data, **options)

    assert str(caught.value).startswith(expected), caught.value


def test_a_missing_file(engine: Engine, tmp_path: Path) -> None:
    register(engine)

    for options in ({}, {"file_format": "csv"}):
        with pytest.raises(DataFileError, match=r"nope\.csv: file not found"):
            upload_reference(engine, "churn", tmp_path / "nope.csv", **options)  # type: ignore[arg-type]


def test_store_errors_pass_through(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    path = write_csv(reference_frame(), tmp_path / "t.csv")

    with pytest.raises(NotFoundError, match="unknown model 'ghost'; registered models: churn"):
        upload_reference(engine, "ghost", path)
    with pytest.raises(NotFoundError, match="model 'churn' has no version 'v7'"):
        upload_reference(engine, "churn", path, version="v7")
    with pytest.raises(NotFoundError, match="has no reference dataset 'training'"):
        reference_window(engine, "churn", "training")
    with pytest.raises(ReferenceDataError, match="reference name must be 1-127 characters"):
        upload_reference(engine, "churn", path, name="my training set")


def test_a_name_taken_is_a_conflict_unless_replaced(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    first = upload_reference(engine, "churn", write_csv(reference_frame(), tmp_path / "a.csv"))
    smaller = write_csv(reference_frame().head(2), tmp_path / "b.csv")

    with pytest.raises(ConflictError, match="already has a reference dataset 'training'"):
        upload_reference(engine, "churn", smaller)
    assert load_reference_data(engine, "churn", "training")[0] == first
    replaced = upload_reference(engine, "churn", smaller, replace=True)

    assert replaced.row_count == 2
    assert replaced.sha256 != first.sha256


# --- categorical codes and production -------------------------------------------------------


def production_codes(engine: Engine, handle: ModelHandle, cities: list[str]) -> dict[str, int]:
    """Insert one record per city and read back the code production stored for each."""
    batch = PredictionBatch(
        request_ids=[f"r{i}-{city}" for i, city in enumerate(cities)],
        timestamps_us=np.arange(len(cities), dtype=np.int64) + int(T0.timestamp() * 1e6),
        features={"city": cities},
    )
    insert_predictions(engine, handle, batch)
    window = read_window(engine, "churn", start=T0, end=T0 + dt.timedelta(hours=1))
    assert decoded(window, "city") == cities
    column = window.categorical[:, 0]
    return {city: int(code) for city, code in zip(cities, column, strict=True)}


def reference_codes(engine: Engine, tmp_path: Path) -> dict[str, int]:
    frame = reference_frame()
    frame["city"] = ["Oslo", "Lima", "Kyiv", "Rome", "Oslo"]
    upload_reference(engine, "churn", write_csv(frame, tmp_path / "t.csv"), replace=True)
    window = reference_window(engine, "churn", "training", cache=ReferenceWindowCache())
    column = window.categorical[:, 0]
    return {city: int(code) for city, code in zip(frame["city"], column, strict=True)}


def test_production_first_then_the_reference_shares_codes(engine: Engine, tmp_path: Path) -> None:
    handle = register(engine)

    production = production_codes(engine, handle, ["Lima", "Oslo", "Paris"])
    reference = reference_codes(engine, tmp_path)

    for city in ("Lima", "Oslo"):
        assert reference[city] == production[city]
    assert len(set(reference.values()) | set(production.values())) == 5  # Kyiv, Rome, Paris new


def test_the_reference_first_then_production_shares_codes(engine: Engine, tmp_path: Path) -> None:
    handle = register(engine)

    reference = reference_codes(engine, tmp_path)
    production = production_codes(engine, handle, ["Rome", "Kyiv", "Paris"])

    assert production["Rome"] == reference["Rome"]
    assert production["Kyiv"] == reference["Kyiv"]
    assert production["Paris"] not in reference.values()


# --- the cache and sampling -----------------------------------------------------------------


def test_the_cache_serves_the_same_window_until_replaced(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    path = write_csv(reference_frame(), tmp_path / "t.csv")
    upload_reference(engine, "churn", path)
    cache = ReferenceWindowCache()

    first = reference_window(engine, "churn", "training", cache=cache)
    again = reference_window(engine, "churn", "training", cache=cache)
    shared = reference_window(engine, "churn", "training")
    shared_again = reference_window(engine, "churn", "training")
    upload_reference(engine, "churn", write_csv(reference_frame().head(3), path), replace=True)
    replaced = reference_window(engine, "churn", "training", cache=cache)

    assert again is first
    assert shared_again is shared
    assert shared is not first
    assert len(first) == 5
    assert replaced is not first
    assert len(replaced) == replaced.total_rows == 3
    assert reference_window(engine, "churn", "training", cache=cache) is replaced
    assert len(cache) == 2  # the old entry stays until evicted; it is never served again


def test_cached_windows_are_read_only(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    upload_reference(engine, "churn", write_csv(reference_frame(), tmp_path / "t.csv"))

    window = reference_window(engine, "churn", "training", cache=ReferenceWindowCache())

    with pytest.raises(ValueError, match="read-only"):
        window.numeric[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        window.embeddings["vec"][0, 0] = 1.0


def test_the_cache_is_bounded(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    upload_reference(engine, "churn", write_csv(reference_frame(), tmp_path / "t.csv"))
    cache = ReferenceWindowCache(max_entries=2)

    windows = [
        reference_window(engine, "churn", "training", sample_limit=limit, cache=cache)
        for limit in (1, 2, 3)
    ]

    assert len(cache) == 2
    assert reference_window(engine, "churn", "training", sample_limit=3, cache=cache) is windows[2]
    assert (
        reference_window(engine, "churn", "training", sample_limit=1, cache=cache)
        is not (windows[0])
    )
    with pytest.raises(ValueError, match="max_entries must be a positive integer, got 0"):
        ReferenceWindowCache(max_entries=0)


def test_sampling_is_uniform_seeded_and_keeps_row_order(engine: Engine, tmp_path: Path) -> None:
    register(engine)
    rows = 200
    frame = pd.DataFrame(
        {
            "age": np.arange(rows, dtype=float),
            "city": [f"c{i % 7}" for i in range(rows)],
            "vec_0": np.arange(rows, dtype=float),
            "vec_1": np.zeros(rows),
            "note": ["n"] * rows,
            "target": [CLASSES[i % 3] for i in range(rows)],
        }
    )
    upload_reference(engine, "churn", write_csv(frame, tmp_path / "t.csv"))

    sample = reference_window(
        engine, "churn", "training", sample_limit=50, cache=ReferenceWindowCache()
    )
    again = reference_window(
        engine, "churn", "training", sample_limit=50, cache=ReferenceWindowCache()
    )
    whole = reference_window(
        engine, "churn", "training", sample_limit=rows, cache=ReferenceWindowCache()
    )

    ages = sample.numeric[:, 0]
    assert (len(sample), sample.total_rows, sample.sampled) == (50, rows, True)
    assert (len(whole), whole.sampled) == (rows, False)
    assert (np.diff(ages) > 0).all()  # a subset, in file order
    assert ages.min() < 40  # spread over the file, not its head
    assert ages.max() > 160
    np.testing.assert_array_equal(again.numeric, sample.numeric)
    rows_taken = ages.astype(int)
    np.testing.assert_array_equal(sample.embeddings["vec"][:, 0], ages.astype(np.float32))
    assert sample.labels is not None
    np.testing.assert_array_equal(sample.labels, rows_taken % 3)
    assert decoded(sample, "city") == [f"c{i % 7}" for i in rows_taken]
    for limit in (0, -3):
        with pytest.raises(ReferenceDataError, match="sample_limit must be a positive number"):
            reference_window(engine, "churn", "training", sample_limit=limit)
