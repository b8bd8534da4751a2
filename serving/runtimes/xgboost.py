"""XGBoost models from their native files (``.json``, ``.ubj``), the ``xgboost`` extra.

The file may come from ``Booster.save_model`` or from a scikit-learn wrapper's
``save_model`` (``XGBClassifier``, ``XGBRegressor``); either loads as a ``Booster`` and
predicts in place on the feature matrix, using the trees up to the best iteration when early
stopping recorded one, as the wrappers do. Outputs follow the objective:

* ``binary:logistic``, ``multi:softprob``: ``predict`` (class index, INT64) and
  ``predict_proba`` (FP32, ``[-1, n_classes]``), as ``XGBClassifier`` computes them;
* ``binary:hinge``, ``multi:softmax``: ``predict`` (class index, INT64);
* ``binary:logitraw``: ``predict`` (the margin, FP32), a score;
* anything else (regression, ranking, survival, several targets): ``predict`` (FP32).

Class indices are ``0 … n_classes - 1``, as XGBoost trains them. A booster that records
feature names reads the declared features by name. Text features are refused: models with
categorical features need a data frame, which this runtime does not build.

Errors: features that are not numbers, or not as many as the booster's, are a
:class:`~serving.errors.PredictionError`; XGBoost's own errors (``ValueError`` subclasses)
while predicting are too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes.base import OutputRole, Runtime, TensorSpec, import_optional
from serving.runtimes.columns import as_numbers, check_declared, check_width, column_order

__all__ = ["XGBoostRuntime", "load_xgboost"]

_PROBABILITIES = ("binary:logistic", "multi:softprob")
_LABELS = ("binary:hinge", "multi:softmax")
_FLOAT64 = np.dtype(np.float64)


class XGBoostRuntime(Runtime):
    """An ``xgboost.Booster``.

    Parameters
    ----------
    booster
        The loaded booster.
    feature_names
        Declared features, matched to the booster's feature names when it has them.
    name
        What the model is called in messages (its file).

    Raises
    ------
    RuntimeLoadError
        When the booster reads a feature that is not declared.
    """

    platform = "xgboost_booster"

    def __init__(
        self, booster: Any, *, feature_names: Sequence[str] = (), name: str = "model"
    ) -> None:
        self._what = f"xgboost model {name}"
        self._booster = booster
        learner = json.loads(booster.save_config())["learner"]
        self._objective = str(learner["objective"]["name"])
        params = learner["learner_model_param"]
        n_classes, n_targets = int(params.get("num_class", 0)), int(params.get("num_target", 1))
        self._kind = self._objective if n_targets == 1 else "multi-target"
        self._width = int(booster.num_features())
        best = booster.attr("best_iteration")
        self._iterations = (0, int(best) + 1) if best is not None else (0, 0)
        self._order = column_order(feature_names, booster.feature_names, what=self._what)
        if self._order is None:
            check_declared(feature_names, self._width, what=self._what)
        else:
            self._width = len(feature_names)
        if self._kind in _PROBABILITIES:
            classes = max(n_classes, 2)
            self._outputs: tuple[TensorSpec, ...] = (
                TensorSpec("predict", "INT64", (-1,)),
                TensorSpec("predict_proba", "FP32", (-1, classes)),
            )
            self._roles: dict[OutputRole, str] = {
                "prediction": "predict",
                "probabilities": "predict_proba",
            }
        elif self._kind in _LABELS:
            self._outputs = (TensorSpec("predict", "INT64", (-1,)),)
            self._roles = {"prediction": "predict"}
        else:
            shape = (-1, n_targets) if n_targets > 1 else (-1,)
            self._outputs = (TensorSpec("predict", "FP32", shape),)
            role: OutputRole = "score" if self._objective == "binary:logitraw" else "prediction"
            self._roles = {role: "predict"}

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return self._roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        check_width(features, self._width, what=self._what)
        if self._order is not None:
            features = features[:, self._order]
        numbers = as_numbers(features, _FLOAT64, what=self._what)
        try:
            raw = self._booster.inplace_predict(numbers, iteration_range=self._iterations)
        except ValueError as error:  # xgboost.core.XGBoostError is a ValueError
            raise PredictionError(f"{self._what}: {error}") from error
        if self._kind in _LABELS:
            return {"predict": raw.astype(np.int64)}
        if self._kind not in _PROBABILITIES:
            return {"predict": raw}
        if raw.ndim == 1:  # binary:logistic gives P(class 1)
            answer = {"predict": (raw > 0.5).astype(np.int64)}
            if "predict_proba" in outputs:
                answer["predict_proba"] = np.vstack((1.0 - raw, raw)).transpose()
        else:
            answer = {"predict": np.argmax(raw, axis=1).astype(np.int64), "predict_proba": raw}
        return {name: answer[name] for name in outputs}


def load_xgboost(
    path: str | Path, *, feature_names: Sequence[str] = (), num_threads: int = 1
) -> XGBoostRuntime:
    """Load a booster saved with ``save_model`` (JSON or UBJSON).

    Parameters
    ----------
    path
        The model file.
    feature_names
        As for :class:`XGBoostRuntime`.
    num_threads
        Threads one prediction may use (XGBoost's ``nthread``).

    Raises
    ------
    RuntimeLoadError
        Without xgboost, when xgboost cannot read the file, or as :class:`XGBoostRuntime`.
    """
    xgboost = import_optional("xgboost", runtime="xgboost", extra="xgboost")
    booster = xgboost.Booster(params={"nthread": num_threads})
    try:
        booster.load_model(str(path))
    except ValueError as error:  # xgboost.core.XGBoostError
        raise RuntimeLoadError(f"cannot load xgboost model {path}: {error}") from error
    booster.set_param({"nthread": num_threads})
    return XGBoostRuntime(booster, feature_names=feature_names, name=str(path))
