from __future__ import annotations

from typing import Any

import pytest

from serving.errors import RuntimeLoadError
from serving.runtimes import TensorSpec
from serving.runtimes.options import RuntimeOptions

ALLOWED = ("outputs", "roles", "num_threads", "dtype")


def options(**values: Any) -> RuntimeOptions:
    return RuntimeOptions(values, runtime="test", allowed=ALLOWED)


def test_defaults_when_unset() -> None:
    read = RuntimeOptions(None, runtime="test", allowed=ALLOWED)

    assert read.positive_int("num_threads", 3) == 3
    assert read.choice("dtype", ("a", "b"), "a") == "a"
    assert read.outputs() is None
    assert read.roles() is None


def test_outputs_and_roles_are_read() -> None:
    read = options(
        outputs=[
            {"name": "y", "datatype": "FP32", "shape": [-1, 2]},
            {"name": "z", "datatype": "BYTES"},
        ],
        roles={"prediction": "z", "score": "y"},
    )

    assert read.outputs() == (TensorSpec("y", "FP32", (-1, 2)), TensorSpec("z", "BYTES", (-1,)))
    assert read.roles() == {"prediction": "z", "score": "y"}


def test_unknown_keys_are_listed_with_the_known_ones() -> None:
    with pytest.raises(RuntimeLoadError) as caught:
        RuntimeOptions({"b": 1, "a": 2}, runtime="onnx", allowed=("x", "w"))

    assert str(caught.value) == "the onnx runtime has no option 'a', 'b'; it takes: w, x"


ONE_OUTPUT = {"name": "y", "datatype": "FP64"}
BAD_VALUES = [
    (
        {"num_threads": 0},
        "num_threads",
        "option 'num_threads' of the test runtime must be a positive integer, got 0",
    ),
    ({"num_threads": True}, "num_threads", "must be a positive integer, got True"),
    ({"dtype": "c"}, "dtype", "option 'dtype' of the test runtime must be one of a, b, got 'c'"),
    ({"outputs": []}, "outputs", "option 'outputs' of the test runtime must be a non-empty list"),
    ({"outputs": "y"}, "outputs", "must be a non-empty list of {name, datatype, shape} mappings"),
    (
        {"outputs": [{"name": "y"}]},
        "outputs",
        r"option 'outputs\[0\].datatype' of the test runtime must be one of BOOL, INT8",
    ),
    (
        {"outputs": [{**ONE_OUTPUT, "name": ""}]},
        "outputs",
        r"'outputs\[0\].name' .* must be a non-empty string",
    ),
    (
        {"outputs": [{**ONE_OUTPUT, "dims": [1]}]},
        "outputs",
        r"'outputs\[0\]' .* must be a mapping with keys name, datatype and shape",
    ),
    (
        {"outputs": [{**ONE_OUTPUT, "shape": [-2]}]},
        "outputs",
        r"'outputs\[0\].shape' .* must be a non-empty list of sizes \(-1: any\), got \[-2\]",
    ),
    (
        {"outputs": [ONE_OUTPUT, ONE_OUTPUT]},
        "outputs",
        r"must be outputs with distinct names, got \['y', 'y'\]",
    ),
    (
        {"roles": {"winner": "y"}},
        "roles",
        "option 'roles' of the test runtime must be a mapping of prediction, probabilities, score",
    ),
]


@pytest.mark.parametrize(("values", "read", "message"), BAD_VALUES)
def test_bad_values(values: dict[str, Any], read: str, message: str) -> None:
    reader = options(**values)
    readers = {
        "num_threads": lambda: reader.positive_int("num_threads", 1),
        "dtype": lambda: reader.choice("dtype", ("a", "b"), "a"),
        "outputs": reader.outputs,
        "roles": reader.roles,
    }

    with pytest.raises(RuntimeLoadError, match=message):
        readers[read]()
