from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from serving.config import ModelConfig
from serving.errors import RuntimeLoadError
from serving.model import LoadedModel
from serving.runtimes.base import Runtime, TensorSpec

HERE = __name__


def double_rows(features: NDArray[Any]) -> NDArray[Any]:
    return features * 2


def add_total(features: NDArray[Any], outputs: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    return {**outputs, "total": features.sum(axis=1)}


NOT_CALLABLE = 3


class Echo(Runtime):
    platform = "test"

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec("y", "FP64", (-1, -1)),)

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        return {"y": features}


def config(**hooks: str) -> ModelConfig:
    return ModelConfig(name="m", version="1", runtime="t", uri="t", **hooks)  # type: ignore[arg-type]


def test_hooks_run_around_the_model() -> None:
    model = LoadedModel(
        config(preprocess=f"{HERE}:double_rows", postprocess=f"{HERE}:add_total"), Echo()
    )
    result = model.predict(np.array([[1.0, 2.0]]), ("y",))
    np.testing.assert_array_equal(result["y"], [[2.0, 4.0]])  # the model saw preprocessed rows
    np.testing.assert_array_equal(result["total"], [3.0])  # postprocess sees the raw rows


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"preprocess": "nocolon"}, "preprocess 'nocolon': expected 'package.module:attribute'"),
        ({"preprocess": "driftline_nope:f"}, "cannot import module 'driftline_nope'"),
        ({"postprocess": f"{HERE}:missing"}, f"module '{HERE}' has no attribute 'missing'"),
        (
            {"postprocess": f"{HERE}:NOT_CALLABLE"},
            f"postprocess '{HERE}:NOT_CALLABLE': not callable",
        ),
    ],
)
def test_bad_hooks_fail_the_load_with_a_clear_message(hooks: dict[str, str], message: str) -> None:
    with pytest.raises(RuntimeLoadError) as caught:
        LoadedModel(config(**hooks), Echo())
    assert message in str(caught.value)
