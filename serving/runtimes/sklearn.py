"""scikit-learn estimators and pipelines, from joblib or pickle files or in memory.

Outputs: ``predict`` and, when the estimator has it, ``predict_proba`` (``[-1, n_classes]``,
FP64). ``predict`` of a classifier has the datatype of its classes (text → BYTES, integers →
INT64, floats → FP64, booleans → BOOL); of a regressor FP64. An estimator fitted on a data
frame (it has ``feature_names_in_``) gets a data frame with those columns, taken by name from
the declared features when they are given, so column transformers that select by name work.

Errors: a ``ValueError`` or ``TypeError`` raised by the estimator while predicting means it
refused the input (scikit-learn's input checks raise these for a wrong number of features,
NaN, text in a numeric column) and becomes a :class:`~serving.errors.PredictionError` with the
estimator's message; any other exception propagates unchanged as a server-side failure.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.errors import PredictionError, RuntimeLoadError
from serving.runtimes.base import OutputRole, Runtime, TensorSpec
from serving.runtimes.columns import check_declared, check_width, column_order
from serving.runtimes.outputs import conform

__all__ = ["SklearnRuntime", "load_sklearn"]

METHODS = ("predict", "predict_proba")
"""The estimator methods a runtime can expose, each as the output of the same name."""


class SklearnRuntime(Runtime):
    """A fitted estimator (anything with ``predict``; optionally ``predict_proba``).

    Parameters
    ----------
    estimator
        The fitted estimator or pipeline.
    feature_names
        The declared features, in the order :meth:`predict` gets them; used to pick the
        estimator's ``feature_names_in_`` by name. Empty: columns arrive in its order.
    outputs
        Declared outputs overriding the ones read from the estimator; each named after a
        method of it (``predict``, ``predict_proba``).
    name
        What the estimator is called in messages (its file, say).

    Raises
    ------
    RuntimeLoadError
        If the estimator has no ``predict``, is not fitted, reads a feature that is not
        declared, or a declared output names no method of it.
    """

    platform = "sklearn_joblib"

    def __init__(
        self,
        estimator: Any,
        *,
        feature_names: Sequence[str] = (),
        outputs: Sequence[TensorSpec] | None = None,
        name: str = "estimator",
    ) -> None:
        self._what = f"scikit-learn model {name}"
        if not _has_method(estimator, "predict"):
            raise RuntimeLoadError(
                f"{self._what} is a {type(estimator).__name__}, not an estimator with predict"
            )
        _check_fitted(estimator, self._what)
        self._estimator = estimator
        self._outputs = tuple(outputs) if outputs is not None else _read_outputs(estimator)
        for spec in self._outputs:
            if spec.name not in METHODS or not _has_method(estimator, spec.name):
                raise RuntimeLoadError(
                    f"{self._what}: output {spec.name!r} is not a method of "
                    f"{type(estimator).__name__} (one of {', '.join(METHODS)})"
                )
        self._specs = {spec.name: spec for spec in self._outputs}
        self._roles = {role: output for role, output in _ROLES.items() if output in self._specs}
        self._columns = _names_in(estimator)
        self._order = column_order(feature_names, self._columns, what=self._what)
        if self._columns is None:  # sklearn checks the width itself, with a clear message
            width = getattr(estimator, "n_features_in_", None)
            width = width if isinstance(width, int) else None
            check_declared(feature_names, width, what=self._what)
        self._width = len(feature_names) if self._order is not None else len(self._columns or ())

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return self._roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        rows = features.shape[0]
        model_input = self._model_input(features)
        answer = {}
        for name in outputs:
            try:
                value = getattr(self._estimator, name)(model_input)
            except (ValueError, TypeError) as error:
                raise PredictionError(f"{self._what}: {error}") from error
            answer[name] = conform(value, self._specs[name], rows, what=self._what)
        return answer

    def _model_input(self, features: NDArray[Any]) -> Any:
        if self._columns is None:
            return features
        check_width(features, self._width, what=self._what)
        if self._order is not None:
            features = features[:, self._order]
        import pandas as pd

        frame = pd.DataFrame(features, columns=self._columns, copy=False)
        # Object rows come from requests with text features: give numeric columns their type.
        return frame.infer_objects() if features.dtype.kind == "O" else frame


def load_sklearn(
    path: str | Path, *, allow_pickle: bool = False, feature_names: Sequence[str] = ()
) -> SklearnRuntime:
    """Load an estimator saved with ``joblib.dump`` or ``pickle`` (``.joblib``, ``.pkl``).

    Parameters
    ----------
    path
        The model file.
    allow_pickle
        Unpickling runs code chosen by whoever wrote the file: loading needs this explicit
        opt-in (``allow_pickle: true`` on the model in the project file).
    feature_names
        As for :class:`SklearnRuntime`.

    Raises
    ------
    RuntimeLoadError
        Without ``allow_pickle``, when the file cannot be unpickled, or as
        :class:`SklearnRuntime` does.
    """
    if not allow_pickle:
        raise RuntimeLoadError(
            f"refusing to load scikit-learn model {path}: unpickling a joblib/pickle file runs "
            "code from it. If you trust the file, set 'allow_pickle: true' on this model "
            "(load_runtime(..., allow_pickle=True))"
        )
    joblib = importlib.import_module("joblib")
    try:
        estimator = joblib.load(path)
    except Exception as error:  # unpickling raises anything a class's __setstate__ may raise
        raise RuntimeLoadError(
            f"cannot load scikit-learn model {path}: {type(error).__name__}: {error}"
        ) from error
    return SklearnRuntime(estimator, feature_names=feature_names, name=str(path))


_ROLES: dict[OutputRole, str] = {"prediction": "predict", "probabilities": "predict_proba"}


def _has_method(estimator: Any, name: str) -> bool:
    """Whether ``estimator.name`` is callable; ``available_if`` hides missing methods."""
    try:
        return callable(getattr(estimator, name, None))
    except (ValueError, TypeError, NotImplementedError):  # a delegation check that misbehaves
        return False


def _check_fitted(estimator: Any, what: str) -> None:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if isinstance(estimator, BaseEstimator):
        try:
            check_is_fitted(estimator)
        except NotFittedError as error:
            raise RuntimeLoadError(f"{what} is not fitted: {error}") from error


def _read_outputs(estimator: Any) -> tuple[TensorSpec, ...]:
    classes = getattr(estimator, "classes_", None)
    if isinstance(classes, np.ndarray) and classes.ndim == 1:
        predict = TensorSpec("predict", _label_datatype({classes.dtype.kind}), (-1,))
        if _has_method(estimator, "predict_proba"):
            return predict, TensorSpec("predict_proba", "FP64", (-1, len(classes)))
        return (predict,)
    if isinstance(classes, list) and classes:  # multi-output classifier: one column per target
        kinds: set[str] = {np.asarray(target).dtype.kind for target in classes}
        return (TensorSpec("predict", _label_datatype(kinds), (-1, len(classes))),)
    n_outputs = getattr(estimator, "n_outputs_", 1)
    shape = (-1, n_outputs) if isinstance(n_outputs, int) and n_outputs > 1 else (-1,)
    return (TensorSpec("predict", "FP64", shape),)


def _label_datatype(kinds: set[str]) -> str:
    """The datatype of predicted labels from the numpy kinds of the classes."""
    if kinds <= {"i", "u"}:
        return "INT64"
    if kinds == {"b"}:
        return "BOOL"
    return "FP64" if kinds <= {"b", "i", "u", "f"} else "BYTES"


def _names_in(estimator: Any) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]
