from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes import TensorSpec, XGBoostRuntime, load_runtime
from tests.unit.serving.runtimes.conftest import Dataset

xgb = pytest.importorskip("xgboost")

BOTH = ("predict", "predict_proba")


@pytest.mark.parametrize("suffix", ["json", "ubj"])
def test_multiclass_predicts_as_xgbclassifier(iris: Dataset, tmp_path: Path, suffix: str) -> None:
    features, target = iris
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(features, target)
    path = tmp_path / f"iris.{suffix}"
    model.save_model(path)

    runtime = load_runtime("xgboost", str(path))
    answer = runtime.predict(features, BOTH)

    assert runtime.platform == "xgboost_booster"
    assert runtime.outputs == (
        TensorSpec("predict", "INT64", (-1,)),
        TensorSpec("predict_proba", "FP32", (-1, 3)),
    )
    assert dict(runtime.roles) == {"prediction": "predict", "probabilities": "predict_proba"}
    assert answer["predict"].dtype == np.int64
    np.testing.assert_array_equal(answer["predict"], model.predict(features))
    np.testing.assert_array_equal(answer["predict_proba"], model.predict_proba(features))


def test_binary_early_stopped_uses_the_best_iteration(
    breast_cancer: Dataset, tmp_path: Path
) -> None:
    features, target = breast_cancer
    model = xgb.XGBClassifier(n_estimators=60, max_depth=2, n_jobs=1, early_stopping_rounds=3)
    model.fit(
        features[:400], target[:400], eval_set=[(features[400:], target[400:])], verbose=False
    )
    assert model.best_iteration + 1 < model.get_booster().num_boosted_rounds()
    path = tmp_path / "cancer.json"
    model.save_model(path)

    runtime = load_runtime("xgboost", str(path))
    answer = runtime.predict(features, BOTH)

    assert runtime.outputs[1] == TensorSpec("predict_proba", "FP32", (-1, 2))
    np.testing.assert_array_equal(answer["predict"], model.predict(features))
    np.testing.assert_array_equal(answer["predict_proba"], model.predict_proba(features))
    only = runtime.predict(features, ("predict_proba",))
    np.testing.assert_array_equal(only["predict_proba"], model.predict_proba(features))


def test_regressor_from_a_plain_booster(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    booster = xgb.train(
        {"objective": "reg:squarederror", "nthread": 1}, xgb.DMatrix(features, target), 4
    )
    path = tmp_path / "booster.json"
    booster.save_model(path)

    runtime = load_runtime("xgboost", str(path), options={"num_threads": 2})
    answer = runtime.predict(features, ("predict",))

    assert runtime.outputs == (TensorSpec("predict", "FP32", (-1,)),)
    assert dict(runtime.roles) == {"prediction": "predict"}
    np.testing.assert_array_equal(answer["predict"], booster.predict(xgb.DMatrix(features)))


def test_softmax_gives_labels_only(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    model = xgb.XGBClassifier(n_estimators=3, objective="multi:softmax", n_jobs=1)
    model.fit(features, target)
    path = tmp_path / "softmax.json"
    model.save_model(path)

    runtime = load_runtime("xgboost", str(path))

    assert runtime.outputs == (TensorSpec("predict", "INT64", (-1,)),)
    np.testing.assert_array_equal(
        runtime.predict(features, ("predict",))["predict"], model.predict(features)
    )


def test_logitraw_is_a_score(breast_cancer: Dataset, tmp_path: Path) -> None:
    features, target = breast_cancer
    booster = xgb.train(
        {"objective": "binary:logitraw", "nthread": 1}, xgb.DMatrix(features, target), 3
    )
    path = tmp_path / "raw.json"
    booster.save_model(path)

    runtime = load_runtime("xgboost", str(path))

    assert dict(runtime.roles) == {"score": "predict"}
    np.testing.assert_array_equal(
        runtime.predict(features, ("predict",))["predict"],
        booster.predict(xgb.DMatrix(features)),
    )


def test_frame_model_takes_declared_features_by_name(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    frame = pd.DataFrame(features, columns=["a", "b", "c", "d"])
    model = xgb.XGBClassifier(n_estimators=3, n_jobs=1).fit(frame, target)
    path = tmp_path / "frame.json"
    model.save_model(path)
    declared = ["d", "extra", "b", "a", "c"]
    rows = frame.assign(extra=0.0)[declared].to_numpy()

    runtime = load_runtime("xgboost", str(path), feature_names=declared)

    np.testing.assert_array_equal(
        runtime.predict(rows, ("predict_proba",))["predict_proba"], model.predict_proba(frame)
    )
    with pytest.raises(PredictionError, match="takes 5 features, got 4"):
        runtime.predict(features, ("predict",))
    with pytest.raises(RuntimeLoadError, match=r"reads feature\(s\) 'c', which the model's"):
        load_runtime("xgboost", str(path), feature_names=["a", "b", "d"])


def test_input_errors(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    path = tmp_path / "iris.json"
    xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(features, target).save_model(path)
    runtime = load_runtime("xgboost", str(path))

    with pytest.raises(
        PredictionError, match=r"xgboost model .*iris\.json takes 4 features, got 3"
    ):
        runtime.predict(features[:, :3], ("predict",))
    with pytest.raises(PredictionError, match="takes numeric features: could not convert"):
        runtime.predict(np.array([["x", 1.0, 2.0, 3.0]], dtype=object), ("predict",))
    with pytest.raises(RuntimeLoadError, match="takes 4 features, but 2 are declared: a, b"):
        load_runtime("xgboost", str(path), feature_names=["a", "b"])


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")

    with pytest.raises(RuntimeLoadError, match=r"cannot load xgboost model .*bad\.json: "):
        load_runtime("xgboost", str(path))


def test_in_memory_booster(iris: Dataset) -> None:
    features, target = iris
    model = xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(features, target)

    runtime = XGBoostRuntime(model.get_booster())

    np.testing.assert_array_equal(
        runtime.predict(features, ("predict",))["predict"], model.predict(features)
    )
