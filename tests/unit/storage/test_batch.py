"""Tests of :func:`storage.batch.pack_batch` on in-memory model handles (no database).

Every rejected batch must raise :class:`InvalidBatchError` naming the column and, where one
record is at fault, its index; accepted batches must come out in the stored layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from storage.batch import PredictionBatch, pack_batch
from storage.errors import InvalidBatchError
from storage.repositories.models import ModelHandle
from storage.schema import FeatureSchema, FeatureSpec
from storage.types import FeatureKind, RecordStatus, Task

N = 3
IDS = ["r0", "r1", "r2"]
TIMES = [1_700_000_000_000_000, 1_700_000_000_000_001, 1_700_000_000_000_002]


@pytest.fixture
def classifier() -> ModelHandle:
    """A multiclass model with every kind of feature, declared out of layout order."""
    features = (
        FeatureSpec("colour", FeatureKind.CATEGORICAL),
        FeatureSpec("age", FeatureKind.NUMERIC),
        FeatureSpec("vec", FeatureKind.EMBEDDING, dims=2),
        FeatureSpec("note", FeatureKind.TEXT),
        FeatureSpec("income", FeatureKind.NUMERIC),
        FeatureSpec("city", FeatureKind.CATEGORICAL),
    )
    return ModelHandle(
        model_id=7,
        model_name="churn",
        task=Task.MULTICLASS_CLASSIFICATION,
        classes=("stay", "leave", "unsure"),
        version_id=11,
        version="v1",
        schema=FeatureSchema(features),
    )


@pytest.fixture
def regressor() -> ModelHandle:
    return ModelHandle(
        model_id=8,
        model_name="price",
        task=Task.REGRESSION,
        classes=(),
        version_id=12,
        version="v1",
        schema=FeatureSchema((FeatureSpec("area", FeatureKind.NUMERIC),)),
    )


def batch(**overrides: Any) -> PredictionBatch:
    fields: dict[str, Any] = {"request_ids": IDS, "timestamps_us": TIMES}
    fields.update(overrides)
    return PredictionBatch(**fields)


def rejected(model: ModelHandle, **overrides: Any) -> str:
    """The message of the InvalidBatchError that packing the batch raises."""
    with pytest.raises(InvalidBatchError) as caught:
        pack_batch(model, batch(**overrides))
    return str(caught.value)


def test_full_batch_is_packed_in_the_stored_layout(classifier: ModelHandle) -> None:
    probabilities = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [np.nan, np.nan, np.nan]]
    packed = pack_batch(
        classifier,
        batch(
            features={
                "age": [31.0, 45.5, 60.0],
                "income": [1e5, -0.0, 2.5e-310],
                "colour": ["red", None, "blue"],
                "city": ["Oslo", "Lima", "Oslo"],
                "vec": [[0.5, -1.0], [2.0, 3.0], [0.0, 0.25]],
                "note": ["fine", None, "meh"],
            },
            predictions=["leave", "unsure", None],
            probabilities=probabilities,
            latency_seconds=[0.01, 0.02, np.nan],
            status=[RecordStatus.OK, RecordStatus.OK, RecordStatus.ERROR],
            error_types=[None, None, "Timeout"],
            error_messages=[None, None, "took too long"],
        ),
    )

    assert packed.request_ids == IDS
    assert packed.timestamps_us.dtype == np.int64
    assert packed.timestamps_us.tolist() == TIMES
    # Numeric columns first in declaration order; categorical code columns left for the writer.
    assert packed.features.shape == (N, 4)
    np.testing.assert_array_equal(packed.features[:, 0], [31.0, 45.5, 60.0])
    np.testing.assert_array_equal(packed.features[:, 1], [1e5, -0.0, 2.5e-310])
    assert np.signbit(packed.features[1, 1])
    assert np.isnan(packed.features[:, 2:]).all()
    assert packed.categories == {"colour": ["red", None, "blue"], "city": ["Oslo", "Lima", "Oslo"]}
    np.testing.assert_array_equal(packed.predictions, [1.0, 2.0, np.nan])
    np.testing.assert_array_equal(packed.probabilities, np.array(probabilities))
    assert packed.embeddings is not None
    assert packed.embeddings.dtype == np.float32
    np.testing.assert_array_equal(packed.embeddings, [[0.5, -1.0], [2.0, 3.0], [0.0, 0.25]])
    assert packed.text == [{"note": "fine"}, {"note": None}, {"note": "meh"}]
    np.testing.assert_array_equal(packed.latency_seconds, [0.01, 0.02, np.nan])
    assert packed.status.tolist() == [0, 0, 1]
    assert packed.error_types == [None, None, "Timeout"]
    assert packed.error_messages == [None, None, "took too long"]


def test_class_labels_become_indices_in_class_order(classifier: ModelHandle) -> None:
    packed = pack_batch(classifier, batch(predictions=["unsure", "stay", "leave"]))

    assert packed.predictions.tolist() == [2.0, 0.0, 1.0]


def test_regression_predictions_are_kept_as_floats(regressor: ModelHandle) -> None:
    packed = pack_batch(regressor, batch(predictions=[1.5, -2.25, None]))

    np.testing.assert_array_equal(packed.predictions, [1.5, -2.25, np.nan])


def test_missing_features_and_outputs_become_nan(classifier: ModelHandle) -> None:
    packed = pack_batch(classifier, batch(features={"age": [1.0, np.nan, None]}))

    np.testing.assert_array_equal(packed.features[:, 0], [1.0, np.nan, np.nan])
    assert np.isnan(packed.features[:, 1:]).all()
    assert packed.categories == {"colour": [None] * N, "city": [None] * N}
    assert packed.embeddings is not None
    assert np.isnan(packed.embeddings).all()
    assert packed.text == [{"note": None}] * N
    assert np.isnan(packed.predictions).all()
    assert np.isnan(packed.latency_seconds).all()
    assert packed.probabilities is None
    assert packed.status.tolist() == [RecordStatus.OK] * N
    assert packed.error_types == [None] * N


def test_model_without_embeddings_or_text_packs_none(regressor: ModelHandle) -> None:
    packed = pack_batch(regressor, batch(features={"area": [50.0, 75.0, 120.0]}))

    assert packed.embeddings is None
    assert packed.text is None
    assert packed.categories == {}
    assert packed.features.tolist() == [[50.0], [75.0], [120.0]]


def test_empty_batch_is_rejected(classifier: ModelHandle) -> None:
    with pytest.raises(InvalidBatchError, match="at least one record, got 0"):
        pack_batch(classifier, PredictionBatch(request_ids=[], timestamps_us=[]))


def test_unknown_feature_is_rejected_naming_it(classifier: ModelHandle) -> None:
    message = rejected(classifier, features={"age": [1, 2, 3], "height": [1, 2, 3]})

    assert "'height'" in message
    assert "'churn'" in message
    assert "declared: colour, age, vec, note, income, city" in message


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        ({"request_ids": ["r0", "", "r2"]}, ["request_ids", "at record 1", "''"]),
        ({"request_ids": ["r0", "r1", 5]}, ["request_ids", "at record 2"]),
        ({"request_ids": ["r0", "x" * 256, "r2"]}, ["request_ids", "255", "at record 1"]),
        ({"timestamps_us": TIMES[:2]}, ["timestamps_us", "expected 3 values", "(2,)"]),
        ({"timestamps_us": [1.0, 2.0, 3.0]}, ["timestamps_us", "integers", "float64"]),
        ({"features": {"age": [1.0, "old", 3.0]}}, ["feature 'age'", "'old'", "at record 1"]),
        ({"features": {"age": [1.0, 2.0, np.inf]}}, ["feature 'age'", "inf at record 2"]),
        ({"features": {"age": [-np.inf, 2.0, 3.0]}}, ["feature 'age'", "-inf at record 0"]),
        ({"features": {"age": [1.0, 2.0]}}, ["feature 'age'", "expected 3 values"]),
        ({"features": {"age": [[1.0], [2.0], [3.0]]}}, ["feature 'age'", "(3, 1)"]),
        ({"features": {"city": ["Oslo", 3, "Lima"]}}, ["feature 'city'", "int at record 1"]),
        ({"features": {"city": ["Oslo", "x" * 1025, None]}}, ["feature 'city'", "at record 1"]),
        ({"features": {"city": ["Oslo"]}}, ["feature 'city'", "expected 3 values", "got 1"]),
        ({"features": {"note": [None, None, 1.5]}}, ["feature 'note'", "float at record 2"]),
        ({"features": {"vec": [[1.0, 2.0]] * 3 + [[0.0, 0.0]]}}, ["feature 'vec'", "(3, 2)"]),
        ({"features": {"vec": [[1.0, 2.0, 3.0]] * 3}}, ["feature 'vec'", "(3, 3)"]),
        ({"predictions": ["stay", "maybe", "leave"]}, ["predictions", "'maybe'", "at record 1"]),
        ({"predictions": ["stay", "leave", 2]}, ["predictions", "int at record 2"]),
        ({"predictions": ["stay"]}, ["predictions", "expected 3 values"]),
        ({"latency_seconds": [0.1, np.inf, 0.2]}, ["latency_seconds", "inf at record 1"]),
        ({"latency_seconds": [0.1, 0.2]}, ["latency_seconds", "expected 3 values"]),
        ({"status": [0, 1, 9]}, ["status", "0 (ok), 1 (error), 2 (bad_input), 3 (timeout)", "9"]),
        ({"status": [-1, 0, 0]}, ["status", "got -1 at record 0"]),
        ({"status": [0.0, 1.0, 0.0]}, ["status", "integers"]),
        ({"error_types": [None, "E" * 256, None]}, ["error_types", "255", "at record 1"]),
        ({"error_types": [None, None]}, ["error_types", "expected 3 values"]),
        ({"error_messages": [None, None, 404]}, ["error_messages", "int at record 2"]),
    ],
)
def test_invalid_column_names_column_and_record(
    classifier: ModelHandle, overrides: dict[str, Any], fragments: list[str]
) -> None:
    message = rejected(classifier, **overrides)

    for fragment in fragments:
        assert fragment in message


def test_error_messages_have_no_length_limit(classifier: ModelHandle) -> None:
    packed = pack_batch(classifier, batch(error_messages=["x" * 100_000, None, None]))

    assert packed.error_messages[0] == "x" * 100_000


def test_regression_predictions_must_be_finite(regressor: ModelHandle) -> None:
    message = rejected(regressor, predictions=[1.0, 2.0, np.inf])

    assert "predictions" in message
    assert "at record 2" in message


@pytest.mark.parametrize(
    ("probabilities", "fragments"),
    [
        ([[0.5, 0.5, 0.0]] * 2, ["probabilities", "(3, 3)", "(2, 3)"]),
        ([[0.5, 0.5]] * 3, ["probabilities", "(3, 3)", "(3, 2)"]),
        ([0.2, 0.3, 0.5], ["probabilities", "(3,)"]),
        ([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1.1, 0.0, 0.0]], ["[0, 1]", "at record 2"]),
        ([[0.5, 0.5, 0.0], [-0.1, 0.6, 0.5], [1.0, 0.0, 0.0]], ["[0, 1]", "at record 1"]),
        ([[np.inf, 0.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], ["[0, 1]", "at record 0"]),
    ],
)
def test_probabilities_shape_and_range(
    classifier: ModelHandle, probabilities: list[Any], fragments: list[str]
) -> None:
    message = rejected(classifier, probabilities=probabilities)

    for fragment in fragments:
        assert fragment in message


def test_probabilities_accept_bounds_and_nan(classifier: ModelHandle) -> None:
    rows = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [np.nan, np.nan, np.nan]]

    packed = pack_batch(classifier, batch(probabilities=rows))

    np.testing.assert_array_equal(packed.probabilities, np.array(rows))


def test_regression_model_has_no_probabilities(regressor: ModelHandle) -> None:
    message = rejected(regressor, probabilities=[[1.0]] * N)

    assert "probabilities" in message
    assert "only classifiers" in message


@pytest.mark.parametrize("status", list(RecordStatus))
def test_every_known_status_is_accepted(classifier: ModelHandle, status: RecordStatus) -> None:
    packed = pack_batch(classifier, batch(status=np.full(N, int(status))))

    assert packed.status.dtype == np.int16
    assert packed.status.tolist() == [int(status)] * N


def test_duplicate_request_ids_are_left_to_the_writer(classifier: ModelHandle) -> None:
    packed = pack_batch(classifier, batch(request_ids=["a", "a", "b"]))

    assert packed.request_ids == ["a", "a", "b"]


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"features": {"age": [1.0, [2.0, 3.0], 4.0]}}, "feature 'age'"),
        ({"timestamps_us": [1, [2, 3], 4]}, "timestamps_us"),
        ({"probabilities": [[0.5, 0.5, 0.0], [1.0], [0.2, 0.3, 0.5]]}, "probabilities"),
        ({"probabilities": [["a", "b", "c"]] * 3}, "probabilities"),
        ({"features": {"vec": [[1.0, 2.0], [3.0], [4.0, 5.0]]}}, "feature 'vec'"),
        ({"features": {"vec": [["x", "y"]] * 3}}, "feature 'vec'"),
    ],
    ids=[
        "numeric-ragged",
        "timestamps-ragged",
        "probabilities-ragged",
        "probabilities-strings",
        "embedding-ragged",
        "embedding-strings",
    ],
)
def test_malformed_nested_values_raise_invalid_batch_error(
    classifier: ModelHandle, overrides: dict[str, Any], column: str
) -> None:
    # Ragged or non-numeric nested input must not escape as numpy's bare ValueError:
    # callers catch InvalidBatchError to reject a batch and keep running.
    message = rejected(classifier, **overrides)

    assert column in message


@pytest.mark.parametrize(
    "vectors",
    [
        [[0.0, 0.0], [np.inf, 1.0], [0.0, 0.0]],
        [[0.0, 0.0], [0.0, 0.0], [1.0, 1e300]],
    ],
    ids=["inf", "beyond-float32"],
)
def test_embeddings_must_be_finite(classifier: ModelHandle, vectors: list[list[float]]) -> None:
    # Numeric features refuse inf; an embedding holding inf (or a float64 value that
    # overflows float32 on the way in) must be refused the same way, not stored as inf.
    message = rejected(classifier, features={"vec": vectors})

    assert "feature 'vec'" in message


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"request_ids": ["r0", "r\x001", "r2"]}, "request_ids"),
        ({"features": {"city": ["Oslo", "Li\x00ma", None]}}, "feature 'city'"),
        ({"features": {"note": ["a\x00b", None, None]}}, "feature 'note'"),
    ],
    ids=["request-id", "categorical", "text"],
)
def test_nul_characters_are_rejected(
    classifier: ModelHandle, overrides: dict[str, Any], column: str
) -> None:
    # PostgreSQL text cannot hold NUL; a batch SQLite would accept must fail the same way
    # on PostgreSQL, so the batch check (not the driver) has to refuse it.
    message = rejected(classifier, **overrides)

    assert column in message
