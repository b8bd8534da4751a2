from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes import OnnxRuntime, TensorSpec, load_runtime
from tests.unit.serving.runtimes.conftest import Dataset

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
skl2onnx = pytest.importorskip("skl2onnx")
helper = onnx.helper
FLOAT, INT64, STRING = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64, onnx.TensorProto.STRING


def save(model: Any, path: Path) -> str:
    path.write_bytes(model.SerializeToString())
    return str(path)


def graph_model(nodes: list[Any], inputs: list[Any], outputs: list[Any], **extra: Any) -> Any:
    """A hand-built ONNX model, at an IR version every recent onnxruntime reads."""
    graph = helper.make_graph(nodes, "test", inputs, outputs, **extra)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def classifier(iris: Dataset) -> LogisticRegression:
    return LogisticRegression(max_iter=1000).fit(*iris)


@pytest.fixture
def classifier_file(classifier: LogisticRegression, iris: Dataset, tmp_path: Path) -> str:
    sample = iris[0][:1].astype(np.float32)
    converted = skl2onnx.to_onnx(classifier, sample, options={"zipmap": False})
    return save(converted, tmp_path / "iris.onnx")


def test_skl2onnx_classifier_predicts_as_onnxruntime_and_sklearn(
    classifier: LogisticRegression, classifier_file: str, iris: Dataset
) -> None:
    features, _ = iris
    runtime = load_runtime("onnx", classifier_file)
    native = ort.InferenceSession(classifier_file, providers=["CPUExecutionProvider"])

    answer = runtime.predict(features, ("label", "probabilities"))
    label, probabilities = native.run(None, {"X": features.astype(np.float32)})

    assert runtime.platform == "onnx_onnxv1"
    assert runtime.outputs == (
        TensorSpec("label", "INT64", (-1,)),
        TensorSpec("probabilities", "FP32", (-1, 3)),
    )
    assert dict(runtime.roles) == {"prediction": "label", "probabilities": "probabilities"}
    np.testing.assert_array_equal(answer["label"], label)
    np.testing.assert_array_equal(answer["probabilities"], probabilities)
    np.testing.assert_array_equal(answer["label"], classifier.predict(features))
    np.testing.assert_allclose(
        answer["probabilities"], classifier.predict_proba(features), rtol=0, atol=1e-6
    )


def test_double_regressor_matches_sklearn(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    model = LinearRegression().fit(features, target)
    converted = skl2onnx.to_onnx(model, features[:1])
    runtime = load_runtime("onnx", save(converted, tmp_path / "r.onnx"))

    answer = runtime.predict(features, ("variable",))

    assert runtime.outputs == (TensorSpec("variable", "FP64", (-1, 1)),)
    assert dict(runtime.roles) == {"prediction": "variable"}
    np.testing.assert_allclose(answer["variable"][:, 0], model.predict(features), atol=1e-12)


def test_zipmap_output_is_refused_with_the_fix(
    classifier: LogisticRegression, iris: Dataset, tmp_path: Path
) -> None:
    converted = skl2onnx.to_onnx(classifier, iris[0][:1].astype(np.float32))
    path = save(converted, tmp_path / "zip.onnx")

    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime("onnx", path)

    message = str(caught.value)
    assert "output 'output_probability' is a seq(map(int64,tensor(float)))" in message
    assert "options={'zipmap': False}" in message


def test_wrong_width_and_text_are_prediction_errors(classifier_file: str) -> None:
    runtime = load_runtime("onnx", classifier_file)

    with pytest.raises(PredictionError, match=r"iris\.onnx takes 4 features, got 3"):
        runtime.predict(np.zeros((2, 3)), ("label",))
    with pytest.raises(PredictionError, match="takes numeric features: could not convert"):
        runtime.predict(np.array([["a", 1.0, 2.0, 3.0]], dtype=object), ("label",))


def test_invalid_argument_from_onnxruntime_is_a_prediction_error(tmp_path: Path) -> None:
    """A batch the graph refuses (here: 3 rows for a fixed batch of 2) is the caller's error."""
    fixed = graph_model(
        [helper.make_node("Identity", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", FLOAT, [2, 2])],
    )
    runtime = load_runtime("onnx", save(fixed, tmp_path / "fixed.onnx"))

    with pytest.raises(PredictionError, match="INVALID_ARGUMENT"):
        runtime.predict(np.zeros((3, 2)), ("y",))


@pytest.fixture
def per_feature_file(tmp_path: Path) -> str:
    """Inputs a, b, c of shape [rows, 1]; y = a + 10 b + 100 c."""
    weights = helper.make_tensor("w", FLOAT, [3, 1], [1.0, 10.0, 100.0])
    model = graph_model(
        [
            helper.make_node("Concat", ["a", "b", "c"], ["x"], axis=1),
            helper.make_node("MatMul", ["x", "w"], ["y"]),
        ],
        [helper.make_tensor_value_info(name, FLOAT, [None, 1]) for name in "abc"],
        [helper.make_tensor_value_info("y", FLOAT, [None, 1])],
        initializer=[weights],
    )
    return save(model, tmp_path / "abc.onnx")


def test_one_input_per_feature_in_graph_order(per_feature_file: str) -> None:
    runtime = load_runtime("onnx", per_feature_file)

    answer = runtime.predict(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), ("y",))

    np.testing.assert_array_equal(answer["y"], [[321.0], [654.0]])
    assert dict(runtime.roles) == {"prediction": "y"}


def test_one_input_per_feature_by_declared_name(per_feature_file: str) -> None:
    runtime = load_runtime("onnx", per_feature_file, feature_names=["c", "unused", "a", "b"])

    answer = runtime.predict(np.array([[3.0, 9.0, 1.0, 2.0]]), ("y",))

    np.testing.assert_array_equal(answer["y"], [[321.0]])
    with pytest.raises(PredictionError, match="takes 4 features, got 3"):
        runtime.predict(np.zeros((1, 3)), ("y",))


def test_per_feature_inputs_must_be_declared(per_feature_file: str) -> None:
    with pytest.raises(RuntimeLoadError, match=r"has input\(s\) 'c', which the declared features"):
        load_runtime("onnx", per_feature_file, feature_names=["a", "b"])


def test_text_and_integer_inputs(tmp_path: Path) -> None:
    model = graph_model(
        [
            helper.make_node("Identity", ["color"], ["color_out"]),
            helper.make_node("Identity", ["count"], ["count_out"]),
        ],
        [
            helper.make_tensor_value_info("color", STRING, [None, 1]),
            helper.make_tensor_value_info("count", INT64, [None]),
        ],
        [
            helper.make_tensor_value_info("color_out", STRING, [None, 1]),
            helper.make_tensor_value_info("count_out", INT64, [None]),
        ],
    )
    runtime = load_runtime(
        "onnx", save(model, tmp_path / "mixed.onnx"), feature_names=["count", "color"]
    )
    rows = np.array([[3.0, "red"], [4.0, "blue"]], dtype=object)

    answer = runtime.predict(rows, ("count_out", "color_out"))

    assert runtime.outputs == (
        TensorSpec("color_out", "BYTES", (-1, 1)),
        TensorSpec("count_out", "INT64", (-1,)),
    )
    assert dict(runtime.roles) == {}
    np.testing.assert_array_equal(answer["color_out"], [["red"], ["blue"]])
    np.testing.assert_array_equal(answer["count_out"], [3, 4])
    with pytest.raises(PredictionError, match="takes int64 features; some values are not whole"):
        runtime.predict(np.array([[2.5, "red"]], dtype=object), ("count_out",))


def test_fractional_values_for_an_integer_matrix(tmp_path: Path) -> None:
    model = graph_model(
        [helper.make_node("Identity", ["n"], ["m"])],
        [helper.make_tensor_value_info("n", INT64, [None, 2])],
        [helper.make_tensor_value_info("m", INT64, [None, 2])],
    )
    runtime = load_runtime("onnx", save(model, tmp_path / "int.onnx"))

    np.testing.assert_array_equal(runtime.predict(np.array([[1.0, 2.0]]), ("m",))["m"], [[1, 2]])
    for bad in (2.5, np.nan):
        with pytest.raises(PredictionError, match="takes int64 features; some values are not"):
            runtime.predict(np.array([[1.0, bad]]), ("m",))


def test_several_columns_per_input_are_refused(tmp_path: Path) -> None:
    model = graph_model(
        [helper.make_node("Concat", ["a", "b"], ["y"], axis=1)],
        [helper.make_tensor_value_info(name, FLOAT, [None, 2]) for name in "ab"],
        [helper.make_tensor_value_info("y", FLOAT, [None, 4])],
    )

    with pytest.raises(RuntimeLoadError, match="input 'a' has shape \\[None, 2\\]; a graph with"):
        load_runtime("onnx", save(model, tmp_path / "wide.onnx"))


def test_declared_roles_replace_the_guess(classifier_file: str) -> None:
    runtime = load_runtime("onnx", classifier_file, options={"roles": {"score": "probabilities"}})

    assert dict(runtime.roles) == {"score": "probabilities"}


def test_declared_width_must_match_the_matrix(classifier_file: str) -> None:
    with pytest.raises(RuntimeLoadError, match="takes 4 features, but 2 are declared: a, b"):
        load_runtime("onnx", classifier_file, feature_names=["a", "b"])


def test_thread_options_reach_the_session(classifier_file: str) -> None:
    runtime = load_runtime("onnx", classifier_file, options={"intra_op_num_threads": 2})
    default = load_runtime("onnx", classifier_file)

    assert isinstance(runtime, OnnxRuntime)
    assert isinstance(default, OnnxRuntime)
    assert runtime._session.get_session_options().intra_op_num_threads == 2
    assert default._session.get_session_options().intra_op_num_threads == 1
    assert default._session.get_session_options().inter_op_num_threads == 1


@pytest.mark.parametrize("value", [0, -1, "2", 1.5, True])
def test_bad_thread_option(classifier_file: str, value: Any) -> None:
    with pytest.raises(
        RuntimeLoadError,
        match="option 'intra_op_num_threads' of the onnx runtime must be a positive integer",
    ):
        load_runtime("onnx", classifier_file, options={"intra_op_num_threads": value})


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"not a protobuf")

    with pytest.raises(RuntimeLoadError, match=r"cannot load onnx model .*bad\.onnx: "):
        load_runtime("onnx", str(path))


def test_close_releases_the_session(classifier_file: str) -> None:
    runtime = load_runtime("onnx", classifier_file)

    runtime.close()

    assert isinstance(runtime, OnnxRuntime)
    assert runtime._session is None
