from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes import LightGBMRuntime, TensorSpec, load_runtime
from tests.unit.serving.runtimes.conftest import Dataset

lgb = pytest.importorskip("lightgbm")

BOTH = ("predict", "predict_proba")


def classifier(**params: Any) -> Any:
    return lgb.LGBMClassifier(n_estimators=5, num_leaves=4, verbose=-1, n_jobs=1, **params)


def test_multiclass_predicts_as_lgbmclassifier(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    model = classifier().fit(features, target)
    path = tmp_path / "iris.txt"
    model.booster_.save_model(path)

    runtime = load_runtime("lightgbm", str(path))
    answer = runtime.predict(features, BOTH)

    assert runtime.platform == "lightgbm_booster"
    assert runtime.outputs == (
        TensorSpec("predict", "INT64", (-1,)),
        TensorSpec("predict_proba", "FP64", (-1, 3)),
    )
    assert dict(runtime.roles) == {"prediction": "predict", "probabilities": "predict_proba"}
    assert answer["predict"].dtype == np.int64
    np.testing.assert_array_equal(answer["predict"], model.predict(features))
    np.testing.assert_array_equal(answer["predict_proba"], model.predict_proba(features))


def test_binary_predicts_as_lgbmclassifier(breast_cancer: Dataset, tmp_path: Path) -> None:
    features, target = breast_cancer
    model = classifier().fit(features, target)
    path = tmp_path / "cancer.txt"
    model.booster_.save_model(path)

    runtime = load_runtime("lightgbm", str(path), options={"num_threads": 2})
    answer = runtime.predict(features, BOTH)

    assert runtime.outputs[1] == TensorSpec("predict_proba", "FP64", (-1, 2))
    np.testing.assert_array_equal(answer["predict"], model.predict(features))
    np.testing.assert_array_equal(answer["predict_proba"], model.predict_proba(features))


def test_regressor_from_lightgbm_train(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    params = {"objective": "regression", "verbose": -1, "num_threads": 1, "num_leaves": 4}
    booster = lgb.train(params, lgb.Dataset(features, target), num_boost_round=4)
    path = tmp_path / "regression.txt"
    booster.save_model(path)

    runtime = load_runtime("lightgbm", str(path))
    answer = runtime.predict(features, ("predict",))

    assert runtime.outputs == (TensorSpec("predict", "FP64", (-1,)),)
    assert dict(runtime.roles) == {"prediction": "predict"}
    np.testing.assert_array_equal(answer["predict"], booster.predict(features))


def test_frame_model_takes_declared_features_by_name(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    frame = pd.DataFrame(features, columns=["a", "b", "c", "d"])
    model = classifier().fit(frame, target)
    path = tmp_path / "frame.txt"
    model.booster_.save_model(path)
    declared = ["c", "a", "extra", "d", "b"]
    rows = frame.assign(extra=-1.0)[declared].to_numpy()

    runtime = load_runtime("lightgbm", str(path), feature_names=declared)

    np.testing.assert_array_equal(
        runtime.predict(rows, ("predict_proba",))["predict_proba"], model.predict_proba(frame)
    )
    with pytest.raises(PredictionError, match="takes 5 features, got 4"):
        runtime.predict(features, ("predict",))
    with pytest.raises(RuntimeLoadError, match=r"reads feature\(s\) 'a', 'd', which the model's"):
        load_runtime("lightgbm", str(path), feature_names=["b", "c"])


def test_input_errors(iris: Dataset, tmp_path: Path) -> None:
    features, target = iris
    path = tmp_path / "iris.txt"
    classifier().fit(features, target).booster_.save_model(path)
    runtime = load_runtime("lightgbm", str(path))

    with pytest.raises(
        PredictionError, match=r"lightgbm model .*iris\.txt takes 4 features, got 5"
    ):
        runtime.predict(np.hstack((features, features[:, :1])), ("predict",))
    with pytest.raises(PredictionError, match="takes numeric features: could not convert"):
        runtime.predict(np.array([[1.0, 2.0, "y", 3.0]], dtype=object), ("predict",))
    with pytest.raises(RuntimeLoadError, match="takes 4 features, but 3 are declared: a, b, c"):
        load_runtime("lightgbm", str(path), feature_names=["a", "b", "c"])


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("not a model\n")

    with pytest.raises(RuntimeLoadError, match=r"cannot load lightgbm model .*bad\.txt: "):
        load_runtime("lightgbm", str(path))


def test_in_memory_booster(iris: Dataset) -> None:
    features, target = iris
    model = classifier().fit(features, target)

    runtime = LightGBMRuntime(model.booster_)

    np.testing.assert_array_equal(
        runtime.predict(features, ("predict",))["predict"], model.predict(features)
    )
