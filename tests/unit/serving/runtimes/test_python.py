from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from serving.errors import ModelOutputError, PredictionError, RuntimeLoadError
from serving.runtimes import PythonRuntime, TensorSpec, load_runtime
from tests.unit.serving.runtimes import sample_models
from tests.unit.serving.runtimes.conftest import Dataset

MODULE = "tests.unit.serving.runtimes.sample_models"
ROWS = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_function_returning_an_array_is_one_fp64_output() -> None:
    runtime = load_runtime("python", f"{MODULE}:row_sums")

    answer = runtime.predict(ROWS, ("predict",))

    assert runtime.platform == "python"
    assert runtime.outputs == (TensorSpec("predict", "FP64", (-1,)),)
    assert dict(runtime.roles) == {"prediction": "predict"}
    np.testing.assert_array_equal(answer["predict"], [6.0, 15.0])


def test_function_returning_a_dict_uses_the_declared_outputs() -> None:
    options = {
        "outputs": [
            {"name": "label", "datatype": "BYTES"},
            {"name": "score", "datatype": "FP64", "shape": [-1]},
        ],
        "roles": {"prediction": "label", "score": "score"},
    }
    runtime = load_runtime("python", f"{MODULE}:label_and_score", options=options)

    answer = runtime.predict(ROWS, ("score", "label"))

    assert runtime.outputs == (
        TensorSpec("label", "BYTES", (-1,)),
        TensorSpec("score", "FP64", (-1,)),
    )
    assert dict(runtime.roles) == {"prediction": "label", "score": "score"}
    assert list(answer) == ["score", "label"]
    np.testing.assert_array_equal(answer["label"], ["low", "high"])
    np.testing.assert_array_equal(answer["score"], [6.0, 15.0])


def test_dotted_attribute_reaches_a_static_method() -> None:
    runtime = load_runtime("python", f"{MODULE}:Scaled.first")

    np.testing.assert_array_equal(runtime.predict(ROWS, ("predict",))["predict"], [1.0, 4.0])


def test_factory_returning_an_estimator_predicts_as_sklearn(iris: Dataset) -> None:
    features, _ = iris
    expected = sample_models.train_classifier()

    runtime = load_runtime("python", f"{MODULE}:train_classifier")
    answer = runtime.predict(features, ("predict", "predict_proba"))

    assert [spec.name for spec in runtime.outputs] == ["predict", "predict_proba"]
    assert dict(runtime.roles) == {"prediction": "predict", "probabilities": "predict_proba"}
    np.testing.assert_array_equal(answer["predict"], expected.predict(features))
    np.testing.assert_array_equal(answer["predict_proba"], expected.predict_proba(features))


def test_class_with_predict_is_instantiated() -> None:
    runtime = load_runtime("python", f"{MODULE}:Doubler")

    assert runtime.outputs == (TensorSpec("predict", "FP64", (-1,)),)
    np.testing.assert_array_equal(runtime.predict(ROWS, ("predict",))["predict"], [2.0, 8.0])


def test_in_memory_object_and_declared_roles() -> None:
    runtime = PythonRuntime(sample_models.Doubler(), roles={"score": "predict"})

    assert dict(runtime.roles) == {"score": "predict"}


def test_model_value_error_is_a_prediction_error() -> None:
    runtime = load_runtime("python", f"{MODULE}:refuses_negatives")

    with pytest.raises(PredictionError, match="negative values are not allowed"):
        runtime.predict(-ROWS, ("predict",))


def test_answer_with_other_rows_is_a_model_output_error() -> None:
    runtime = load_runtime("python", f"{MODULE}:one_row")

    with pytest.raises(ModelOutputError, match=r"output 'predict' has shape \[1\], expected 2"):
        runtime.predict(ROWS, ("predict",))


def test_answer_of_another_datatype_is_a_model_output_error() -> None:
    options = {
        "outputs": [{"name": "label", "datatype": "FP64"}, {"name": "score", "datatype": "FP64"}]
    }
    runtime = load_runtime("python", f"{MODULE}:label_and_score", options=options)

    with pytest.raises(ModelOutputError, match="'label' is declared FP64 but holds <U4 values"):
        runtime.predict(ROWS, ("label",))


def test_dict_answer_needs_declared_names() -> None:
    runtime = load_runtime("python", f"{MODULE}:label_and_score")

    with pytest.raises(
        ModelOutputError, match="returned no 'predict'; it returned 'label', 'score'"
    ):
        runtime.predict(ROWS, ("predict",))


def test_array_answer_with_several_declared_outputs() -> None:
    options = {"outputs": [{"name": "a", "datatype": "FP64"}, {"name": "b", "datatype": "FP64"}]}
    runtime = load_runtime("python", f"{MODULE}:row_sums", options=options)

    with pytest.raises(ModelOutputError, match="returned one array but declares 2 outputs"):
        runtime.predict(ROWS, ("a",))


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon_here", "expected 'package.module:attribute'"),
        (f"{MODULE}:", "expected 'package.module:attribute'"),
        (
            "driftline_no_such_module:model",
            "cannot import module 'driftline_no_such_module' .*put its folder on PYTHONPATH",
        ),
        (f"{MODULE}:missing", f"module '{MODULE}' has no attribute 'missing'"),
        (
            f"{MODULE}:NOT_A_MODEL",
            "is of type int: expected a function f\\(features\\) or an object",
        ),
        (f"{MODULE}:broken_factory", "calling broken_factory\\(\\) to build the model failed: "),
    ],
)
def test_load_errors(reference: str, message: str) -> None:
    with pytest.raises(RuntimeLoadError, match=message):
        load_runtime("python", reference)


def test_module_whose_dependency_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"needs_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("import driftline_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime("python", f"{name}:model")

    assert str(caught.value) == (
        f"python model '{name}:model': cannot import module '{name}' "
        "(No module named 'driftline_missing_dependency'); install the package that provides "
        "it or put its folder on PYTHONPATH"
    )


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("1 / 0", "ZeroDivisionError: division by zero"),
        ("raise ImportError('no libfoo')", "ImportError: no libfoo"),
    ],
)
def test_module_failing_on_import(
    source: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"broken_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(f"{source}\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(RuntimeLoadError, match=f"importing '{name}' failed: {error}$"):
        load_runtime("python", f"{name}:model")


def test_roles_must_name_an_output() -> None:
    with pytest.raises(RuntimeLoadError, match="role 'score' names output 'nope'"):
        load_runtime("python", f"{MODULE}:row_sums", options={"roles": {"score": "nope"}})


def test_unknown_option() -> None:
    with pytest.raises(RuntimeLoadError, match="the python runtime has no option 'threads'"):
        load_runtime("python", f"{MODULE}:row_sums", options={"threads": 2})


def test_object_with_declared_outputs(iris: Dataset) -> None:
    model: Any = sample_models.train_classifier()
    outputs = [TensorSpec("predict_proba", "FP64", (-1, 3))]

    runtime = PythonRuntime(model, outputs=outputs)

    assert runtime.outputs == tuple(outputs)
    assert dict(runtime.roles) == {"probabilities": "predict_proba"}
