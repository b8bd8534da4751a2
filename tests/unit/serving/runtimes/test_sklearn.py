from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes import SklearnRuntime, TensorSpec, load_runtime
from tests.unit.serving.runtimes.conftest import Dataset

BOTH = ("predict", "predict_proba")


@pytest.fixture(scope="module")
def classifier(iris: Dataset) -> LogisticRegression:
    features, target = iris
    return LogisticRegression(max_iter=1000).fit(features, target)


def saved(estimator: Any, path: Path) -> str:
    joblib.dump(estimator, path)
    return str(path)


def test_joblib_classifier_predicts_as_sklearn(
    classifier: LogisticRegression, iris: Dataset, tmp_path: Path
) -> None:
    features, _ = iris
    runtime = load_runtime("sklearn", saved(classifier, tmp_path / "m.joblib"), allow_pickle=True)

    answer = runtime.predict(features, BOTH)

    assert runtime.platform == "sklearn_joblib"
    assert runtime.outputs == (
        TensorSpec("predict", "INT64", (-1,)),
        TensorSpec("predict_proba", "FP64", (-1, 3)),
    )
    assert dict(runtime.roles) == {"prediction": "predict", "probabilities": "predict_proba"}
    assert answer["predict"].dtype == np.int64
    np.testing.assert_array_equal(answer["predict"], classifier.predict(features))
    np.testing.assert_array_equal(answer["predict_proba"], classifier.predict_proba(features))


def test_only_the_requested_outputs_are_computed(
    classifier: LogisticRegression, iris: Dataset
) -> None:
    answer = SklearnRuntime(classifier).predict(iris[0][:5], ("predict_proba",))

    assert list(answer) == ["predict_proba"]
    assert answer["predict_proba"].shape == (5, 3)


def test_plain_pickle_file_loads(
    classifier: LogisticRegression, iris: Dataset, tmp_path: Path
) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(classifier))

    runtime = load_runtime("sklearn", str(path), allow_pickle=True)

    np.testing.assert_array_equal(
        runtime.predict(iris[0], ("predict",))["predict"], classifier.predict(iris[0])
    )


def test_string_classes_are_bytes(iris: Dataset) -> None:
    features, target = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[target]
    model = LogisticRegression(max_iter=1000).fit(features, labels)
    runtime = SklearnRuntime(model)

    answer = runtime.predict(features, ("predict",))

    assert runtime.outputs[0] == TensorSpec("predict", "BYTES", (-1,))
    np.testing.assert_array_equal(answer["predict"], model.predict(features))


def test_regressor_has_one_fp64_output() -> None:
    features, target = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(features, target)
    runtime = SklearnRuntime(model)

    answer = runtime.predict(features, ("predict",))

    assert runtime.outputs == (TensorSpec("predict", "FP64", (-1,)),)
    assert dict(runtime.roles) == {"prediction": "predict"}
    np.testing.assert_array_equal(answer["predict"], model.predict(features))


def test_multi_output_regressor_declares_its_width() -> None:
    features, target = load_diabetes(return_X_y=True)
    targets = np.column_stack((target, -target))
    model = RandomForestRegressor(n_estimators=3, random_state=0).fit(features, targets)

    runtime = SklearnRuntime(model)

    assert runtime.outputs == (TensorSpec("predict", "FP64", (-1, 2)),)
    np.testing.assert_array_equal(
        runtime.predict(features, ("predict",))["predict"], model.predict(features)
    )


def test_pipeline_without_predict_proba_has_no_probabilities(iris: Dataset) -> None:
    features, target = iris
    pipeline = make_pipeline(StandardScaler(), RidgeClassifier()).fit(features, target)

    runtime = SklearnRuntime(pipeline)

    assert [spec.name for spec in runtime.outputs] == ["predict"]
    assert dict(runtime.roles) == {"prediction": "predict"}
    np.testing.assert_array_equal(
        runtime.predict(features, ("predict",))["predict"], pipeline.predict(features)
    )


class _ProbaRaises(LogisticRegression):
    """An estimator whose delegation check misbehaves: reading predict_proba raises."""

    @property
    def predict_proba(self) -> Any:
        raise NotImplementedError("no probabilities here")


def test_a_misbehaving_predict_proba_is_left_out(iris: Dataset) -> None:
    model = _ProbaRaises(max_iter=1000).fit(*iris)

    assert [spec.name for spec in SklearnRuntime(model).outputs] == ["predict"]


def test_search_without_refit_is_not_an_estimator(iris: Dataset) -> None:
    search = GridSearchCV(LogisticRegression(max_iter=1000), {"C": [1.0]}, refit=False, cv=2)
    search.fit(*iris)

    with pytest.raises(RuntimeLoadError, match="is a GridSearchCV, not an estimator with predict"):
        SklearnRuntime(search)


def test_unfitted_estimator_is_refused() -> None:
    with pytest.raises(RuntimeLoadError, match="scikit-learn model estimator is not fitted"):
        SklearnRuntime(LogisticRegression())


def test_pickle_needs_the_opt_in(classifier: LogisticRegression, tmp_path: Path) -> None:
    path = saved(classifier, tmp_path / "m.joblib")

    with pytest.raises(RuntimeLoadError) as caught:
        load_runtime("sklearn", path)

    message = str(caught.value)
    assert path in message
    assert "runs code" in message
    assert "'allow_pickle: true'" in message


def test_file_of_something_else_is_refused(tmp_path: Path) -> None:
    path = saved({"weights": [1, 2]}, tmp_path / "m.joblib")

    with pytest.raises(RuntimeLoadError, match=r"m\.joblib is a dict, not an estimator"):
        load_runtime("sklearn", path, allow_pickle=True)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    path.write_bytes(b"this is not a pickle")

    with pytest.raises(RuntimeLoadError, match=r"cannot load scikit-learn model .*m\.joblib: "):
        load_runtime("sklearn", str(path), allow_pickle=True)


def test_wrong_number_of_features_is_a_prediction_error(
    classifier: LogisticRegression, iris: Dataset
) -> None:
    with pytest.raises(
        PredictionError, match="X has 3 features, but LogisticRegression is expecting 4"
    ):
        SklearnRuntime(classifier).predict(iris[0][:, :3], ("predict",))


def test_text_in_a_numeric_model_is_a_prediction_error(classifier: LogisticRegression) -> None:
    rows = np.array([[1.0, "a", 2.0, 3.0]], dtype=object)

    with pytest.raises(PredictionError, match="could not convert string to float: 'a'"):
        SklearnRuntime(classifier).predict(rows, ("predict",))


def test_declared_outputs_must_name_methods(classifier: LogisticRegression) -> None:
    outputs = [TensorSpec("decision_function", "FP64", (-1, 3))]

    with pytest.raises(RuntimeLoadError, match="output 'decision_function' is not a method"):
        SklearnRuntime(classifier, outputs=outputs)


def test_declared_features_must_match_an_array_model_width(classifier: LogisticRegression) -> None:
    with pytest.raises(RuntimeLoadError, match="takes 4 features, but 3 are declared: a, b, c"):
        SklearnRuntime(classifier, feature_names=["a", "b", "c"])


@pytest.fixture(scope="module")
def frame_pipeline() -> tuple[Any, pd.DataFrame]:
    """A pipeline fitted on a data frame that selects columns by name: one text column."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=200),
            "color": rng.choice(["red", "green", "blue"], size=200),
            "weight": rng.normal(size=200),
        }
    )
    target = (frame["size"] + (frame["color"] == "red") > 0.5).astype(int)
    encode = ColumnTransformer(
        [("color", OneHotEncoder(), ["color"]), ("numbers", StandardScaler(), ["size", "weight"])]
    )
    return make_pipeline(encode, LogisticRegression()).fit(frame, target), frame


def test_frame_model_gets_a_frame_in_its_order(frame_pipeline: tuple[Any, pd.DataFrame]) -> None:
    pipeline, frame = frame_pipeline
    rows = frame.to_numpy(dtype=object)

    answer = SklearnRuntime(pipeline).predict(rows, BOTH)

    np.testing.assert_array_equal(answer["predict"], pipeline.predict(frame))
    np.testing.assert_array_equal(answer["predict_proba"], pipeline.predict_proba(frame))


def test_frame_model_takes_declared_features_by_name(
    frame_pipeline: tuple[Any, pd.DataFrame],
) -> None:
    pipeline, frame = frame_pipeline
    declared = ["weight", "unused", "color", "size"]
    rows = frame.assign(unused="x")[declared].to_numpy(dtype=object)

    runtime = SklearnRuntime(pipeline, feature_names=declared)

    np.testing.assert_array_equal(
        runtime.predict(rows, ("predict_proba",))["predict_proba"], pipeline.predict_proba(frame)
    )
    with pytest.raises(PredictionError, match="takes 4 features, got 3"):
        runtime.predict(rows[:, :3], ("predict",))


def test_frame_model_needs_its_features_declared(frame_pipeline: tuple[Any, pd.DataFrame]) -> None:
    with pytest.raises(RuntimeLoadError, match=r"reads feature\(s\) 'color', which the model's"):
        SklearnRuntime(frame_pipeline[0], feature_names=["size", "weight"])
