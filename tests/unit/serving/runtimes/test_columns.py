from __future__ import annotations

import numpy as np
import pytest

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes.columns import as_numbers, check_declared, check_width, column_order


def test_column_order_picks_the_model_features_by_name() -> None:
    order = column_order(["b", "x", "a"], ["a", "b"], what="m")

    assert order is not None
    np.testing.assert_array_equal(order, [2, 0])


@pytest.mark.parametrize(
    ("declared", "model_names"),
    [([], ["a", "b"]), (["a", "b"], None), (["a", "b"], ["a", "b"])],
)
def test_column_order_is_none_when_nothing_moves(
    declared: list[str], model_names: list[str] | None
) -> None:
    assert column_order(declared, model_names, what="m") is None


def test_column_order_names_the_missing_features() -> None:
    with pytest.raises(RuntimeLoadError) as caught:
        column_order(["a"], ["a", "b", "c"], what="xgboost model m.json")

    assert str(caught.value) == (
        "xgboost model m.json reads feature(s) 'b', 'c', which the model's declared features "
        "(a) do not include"
    )


def test_check_width() -> None:
    check_width(np.zeros((2, 3)), 3, what="m")
    check_width(np.zeros((2, 3)), None, what="m")

    with pytest.raises(PredictionError, match=r"^m takes 4 features, got 3$"):
        check_width(np.zeros((2, 3)), 4, what="m")


def test_check_declared() -> None:
    check_declared([], 4, what="m")
    check_declared(["a"], None, what="m")

    with pytest.raises(RuntimeLoadError, match=r"^m takes 2 features, but 1 are declared: a$"):
        check_declared(["a"], 2, what="m")


def test_as_numbers_casts_and_refuses() -> None:
    mixed = np.array([[1, 2.5]], dtype=object)

    cast = as_numbers(mixed, np.dtype(np.float32), what="m")

    assert cast.dtype == np.float32
    assert cast.flags.c_contiguous
    np.testing.assert_array_equal(cast, [[1.0, 2.5]])
    with pytest.raises(PredictionError, match=r"^m takes numeric features: could not convert"):
        as_numbers(np.array([["a"]], dtype=object), np.dtype(np.float64), what="m")
    # numpy reads None as NaN, which tree models take as a missing value.
    assert np.isnan(as_numbers(np.array([[None]], dtype=object), np.dtype(np.float64), what="m"))


def test_as_numbers_keeps_float64_without_copy() -> None:
    rows = np.ones((2, 2))

    assert as_numbers(rows, np.dtype(np.float64), what="m") is rows


@pytest.mark.parametrize(
    ("values", "dtype", "wanted"),
    [
        (np.array([[1.5]]), np.int64, "whole numbers"),
        (np.array([[np.nan]]), np.int32, "whole numbers"),
        (np.array([[2.0]]), np.bool_, "0 or 1"),
        (np.array([[2.5]], dtype=object), np.int64, "whole numbers"),
    ],
)
def test_as_numbers_refuses_lossy_integer_casts(
    values: np.ndarray, dtype: type[np.generic], wanted: str
) -> None:
    with pytest.raises(PredictionError, match=f"some values are not {wanted}$"):
        as_numbers(values, np.dtype(dtype), what="m")


def test_as_numbers_accepts_whole_floats_as_integers() -> None:
    np.testing.assert_array_equal(
        as_numbers(np.array([[1.0, -3.0]]), np.dtype(np.int64), what="m"), [[1, -3]]
    )
