"""LightGBM models from their native text files (``Booster.save_model``), the ``lightgbm`` extra.

The file may come from ``lightgbm.train`` or from a scikit-learn wrapper's ``booster_``.
Prediction uses LightGBM's default iterations (the best one when the file records it).
Outputs follow the objective:

* ``binary``, ``multiclass``, ``multiclassova``: ``predict`` (class index, INT64) and
  ``predict_proba`` (FP64, ``[-1, n_classes]``), as ``LGBMClassifier`` computes them;
* anything else (regression, ranking, cross-entropy): ``predict`` (FP64).

Class indices are ``0 … n_classes - 1``: the file does not keep a wrapper's original labels.
A booster fitted on a data frame reads the declared features by name. Text features are
refused: categorical features must arrive as their integer codes.

Errors: features that are not numbers, or not as many as the booster's, are a
:class:`~serving.errors.PredictionError`; other LightGBM errors propagate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.errors import RuntimeLoadError
from serving.runtimes.base import OutputRole, Runtime, TensorSpec, import_optional
from serving.runtimes.columns import as_numbers, check_declared, check_width, column_order

__all__ = ["LightGBMRuntime", "load_lightgbm"]

_CLASSIFIERS = ("binary", "multiclass", "multiclassova")
_FLOAT64 = np.dtype(np.float64)


class LightGBMRuntime(Runtime):
    """A ``lightgbm.Booster``.

    Parameters
    ----------
    booster
        The loaded booster.
    feature_names
        Declared features, matched to the booster's feature names when it was fitted on a
        data frame (LightGBM names array columns ``Column_0``, ``Column_1`` …).
    num_threads
        Threads one prediction may use.
    name
        What the model is called in messages (its file).

    Raises
    ------
    RuntimeLoadError
        When the booster reads a feature that is not declared.
    """

    platform = "lightgbm_booster"

    def __init__(
        self,
        booster: Any,
        *,
        feature_names: Sequence[str] = (),
        num_threads: int = 1,
        name: str = "model",
    ) -> None:
        self._what = f"lightgbm model {name}"
        self._booster = booster
        self._num_threads = num_threads
        self._width: int = booster.num_feature()
        model_names = [str(name) for name in booster.feature_name()]
        if model_names == [f"Column_{index}" for index in range(self._width)]:
            self._order = None  # fitted on an array: columns by position
            check_declared(feature_names, self._width, what=self._what)
        else:
            self._order = column_order(feature_names, model_names, what=self._what)
            self._width = len(feature_names) or self._width
        self._classifier = booster.params.get("objective") in _CLASSIFIERS
        if self._classifier:
            classes = max(int(booster.num_model_per_iteration()), 2)
            self._outputs: tuple[TensorSpec, ...] = (
                TensorSpec("predict", "INT64", (-1,)),
                TensorSpec("predict_proba", "FP64", (-1, classes)),
            )
            self._roles: dict[OutputRole, str] = {
                "prediction": "predict",
                "probabilities": "predict_proba",
            }
        else:
            self._outputs = (TensorSpec("predict", "FP64", (-1,)),)
            self._roles = {"prediction": "predict"}

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
        raw = self._booster.predict(numbers, num_threads=self._num_threads)
        if not self._classifier:
            return {"predict": raw}
        probabilities = np.vstack((1.0 - raw, raw)).transpose() if raw.ndim == 1 else raw
        answer = {"predict": np.argmax(probabilities, axis=1), "predict_proba": probabilities}
        return {name: answer[name] for name in outputs}


def load_lightgbm(
    path: str | Path, *, feature_names: Sequence[str] = (), num_threads: int = 1
) -> LightGBMRuntime:
    """Load a booster saved with ``Booster.save_model`` (a text file).

    Parameters
    ----------
    path
        The model file.
    feature_names, num_threads
        As for :class:`LightGBMRuntime`.

    Raises
    ------
    RuntimeLoadError
        Without lightgbm, when lightgbm cannot read the file, or as :class:`LightGBMRuntime`.
    """
    lightgbm = import_optional("lightgbm", runtime="lightgbm", extra="lightgbm")
    try:
        booster = lightgbm.Booster(model_file=str(path))
    except lightgbm.basic.LightGBMError as error:
        raise RuntimeLoadError(f"cannot load lightgbm model {path}: {error}") from error
    return LightGBMRuntime(
        booster, feature_names=feature_names, num_threads=num_threads, name=str(path)
    )
