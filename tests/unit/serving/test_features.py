from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from serving.config import FeatureInput
from serving.errors import InvalidRequestError
from serving.features import feature_rows, record_rows
from serving.protocol import InputTensor

FEATURES = (FeatureInput("age"), FeatureInput("country", "categorical"), FeatureInput("income"))
NUMERIC = (FeatureInput("a"), FeatureInput("b"))


def tensor(name: str, data: Any, dtype: Any = np.float64) -> InputTensor:
    array = np.asarray(data, dtype=dtype)
    return InputTensor(name=name, datatype="FP64", shape=array.shape, data=array)


def test_one_matrix_input_is_taken_as_the_rows() -> None:
    rows = feature_rows([tensor("input-0", [[1, 2], [3, 4]], np.int32)], NUMERIC)
    assert rows.dtype == np.float64
    np.testing.assert_array_equal(rows, [[1, 2], [3, 4]])


def test_per_feature_inputs_are_put_in_declared_order_whatever_the_request_order() -> None:
    rows = feature_rows(
        [
            tensor("income", [10.0, 20.0]),
            tensor("country", ["fr", "de"], object),
            tensor("age", [[30], [40]]),
        ],
        FEATURES,
    )
    assert rows.dtype == object
    assert rows.tolist() == [[30.0, "fr", 10.0], [40.0, "de", 20.0]]


def test_a_model_without_declared_features_takes_any_width() -> None:
    assert feature_rows([tensor("x", np.zeros((3, 7)))], ()).shape == (3, 7)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([tensor("x", np.zeros((1, 3)))], "has 3 columns, the model takes 2 features: a, b"),
        ([tensor("a", [1.0]), tensor("c", [1.0])], "inputs[1] ('c'): not a feature of this model"),
        ([tensor("a", [1.0])], "missing feature input(s) b"),
        ([tensor("a", [1.0]), tensor("b", [1.0, 2.0])], "has 2 rows, the inputs before it 1"),
        ([tensor("a", np.zeros((2, 2))), tensor("b", [1.0])], "shape [rows] or [rows, 1]"),
        ([tensor("a", ["x"], object), tensor("b", [1.0])], "feature 'a' is numeric, got strings"),
        ([tensor("x", [["0", "1"]], object)], "column 0 ('a') is numeric"),
    ],
)
def test_inputs_that_do_not_fit_the_model_are_explained(
    inputs: list[InputTensor], message: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        feature_rows(inputs, NUMERIC)
    assert message in str(caught.value)


def test_several_inputs_need_declared_features() -> None:
    with pytest.raises(InvalidRequestError, match=r"one input of shape \[rows, columns\]"):
        feature_rows([tensor("a", [1.0]), tensor("b", [1.0])], ())


def test_records_become_rows_with_null_as_missing() -> None:
    rows = record_rows(
        [{"age": 30, "country": "fr", "income": None}, {"income": 2.5, "age": 41, "country": 7}],
        FEATURES,
    )
    assert rows[0, 0] == 30
    assert rows[1, 1] == "7"
    assert np.isnan(rows[0, 2])
    numeric = record_rows([{"a": 1, "b": None}], NUMERIC)
    assert numeric.dtype == np.float64


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], "records: expected a non-empty list"),
        ({"a": 1}, "records: expected a non-empty list"),
        ([{"a": 1, "b": 2}, 3], "records[1]: expected an object"),
        ([{"a": 1}], "records[0]: missing feature(s) b"),
        ([{"a": 1, "b": 2, "bb": 3}], "records[0]: unknown field(s) bb; features: a, b"),
        ([{"a": "1", "b": 2}], "records[0].a: numeric feature, got '1'"),
        ([{"a": True, "b": 2}], "records[0].a: numeric feature, got True"),
    ],
)
def test_bad_records_name_the_record_and_the_field(records: object, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        record_rows(records, NUMERIC)
    assert message in str(caught.value)


def test_categorical_values_must_be_scalars() -> None:
    with pytest.raises(InvalidRequestError, match=r"records\[0\].country: categorical feature"):
        record_rows([{"age": 1, "country": ["x"], "income": 2}], FEATURES)
