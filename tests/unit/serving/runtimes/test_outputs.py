from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from serving.errors import ModelOutputError, RuntimeLoadError
from serving.runtimes import TensorSpec
from serving.runtimes.outputs import DATATYPES, check_roles, conform, datatype_of


@pytest.mark.parametrize(
    ("dtype", "datatype"),
    [
        (np.bool_, "BOOL"),
        (np.int8, "INT8"),
        (np.int64, "INT64"),
        (np.uint16, "UINT16"),
        (np.float16, "FP16"),
        (np.float32, "FP32"),
        (np.float64, "FP64"),
        (np.str_, "BYTES"),
        (np.bytes_, "BYTES"),
        (object, "BYTES"),
    ],
)
def test_datatype_of(dtype: Any, datatype: str) -> None:
    assert datatype_of(np.dtype(dtype)) == datatype


def test_every_numeric_datatype_round_trips() -> None:
    for datatype, dtype in DATATYPES.items():
        if dtype is not None:
            assert datatype_of(dtype) == datatype


def test_datatype_of_complex_is_refused() -> None:
    with pytest.raises(ValueError, match="no Open Inference Protocol datatype for numpy dtype"):
        datatype_of(np.dtype(np.complex128))


@pytest.mark.parametrize(
    ("value", "datatype", "dtype"),
    [
        (np.array([1, 2], dtype=np.int32), "INT64", np.int64),
        (np.array([1.5, 2.5], dtype=np.float32), "FP64", np.float64),
        (np.array([1, 2]), "FP64", np.float64),
        ([True, False], "BOOL", np.bool_),
        (["a", "b"], "BYTES", np.dtype("<U1")),
        (np.array(["a", None], dtype=object), "BYTES", object),
    ],
)
def test_conform_widens_within_kind(value: Any, datatype: str, dtype: Any) -> None:
    answer = conform(value, TensorSpec("y", datatype, (-1,)), 2, what="m")

    assert answer.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(answer, np.asarray(value))


@pytest.mark.parametrize(
    ("value", "datatype", "message"),
    [
        (np.array([1.5, 2.5]), "INT64", "m: output 'y' is declared INT64 but holds float64 values"),
        (np.array([1, 0]), "BOOL", "m: output 'y' is declared BOOL but holds int64 values"),
        (np.array([1, 2]), "BYTES", "m: output 'y' is declared BYTES but holds int64 values"),
        (np.array(["a", "b"]), "FP64", "m: output 'y' is declared FP64 but holds <U1 values"),
        (np.array([1.0]), "FP64", r"m: output 'y' has shape \[1\], expected 2 row\(s\)"),
        (np.float64(3.0), "FP64", r"m: output 'y' has shape \[\], expected 2 row\(s\)"),
    ],
)
def test_conform_refuses(value: Any, datatype: str, message: str) -> None:
    with pytest.raises(ModelOutputError, match=f"^{message}"):
        conform(value, TensorSpec("y", datatype, (-1,)), 2, what="m")


def test_check_roles() -> None:
    outputs = (TensorSpec("label", "INT64", (-1,)), TensorSpec("p", "FP64", (-1, 2)))

    assert check_roles({"prediction": "label"}, outputs, what="m") == {"prediction": "label"}
    with pytest.raises(RuntimeLoadError) as caught:
        check_roles({"probabilities": "proba"}, outputs, what="m")

    assert str(caught.value) == (
        "m: role 'probabilities' names output 'proba', but the model's outputs are label, p"
    )
