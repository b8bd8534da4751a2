"""Serving a learning model: a frozen copy answers, the learner's own copy never does.

Every version the server answers with is a snapshot that does not change while it serves,
so the version a prediction record names is the exact state that made the prediction. The
learner keeps its own copy (:func:`load_model`) and publishes new snapshots as new versions.

Outputs: ``predict`` (the declared class label, BYTES; or the value, FP64) and, for a
classifier that gives them, ``predict_proba`` (``[-1, n_classes]`` in the declared order).
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.config import ModelConfig
from serving.errors import ModelOutputError, PredictionError, RuntimeLoadError
from serving.online.config import OnlineConfig
from serving.online.models import LearningModel, NotLearntError
from serving.online.snapshots import read_snapshot
from serving.runtimes.base import OutputRole, Runtime, TensorSpec, as_float_rows
from serving.runtimes.python import resolve_model

__all__ = ["OnlineRuntime", "load_model", "load_online"]

ONLINE_RUNTIMES = ("sklearn", "python")
"""Runtime kinds whose models can learn online (joblib / pickle files, Python objects)."""


class OnlineRuntime(Runtime):
    """A snapshot of a learning model, answering batches (it never learns).

    Parameters
    ----------
    model
        The snapshot, wrapped.
    name
        What the model is called in messages.
    """

    platform = "driftline_online"

    def __init__(self, model: LearningModel, *, name: str) -> None:
        self._model = model
        self._what = f"online model {name}"
        if model.is_classifier:
            predict = TensorSpec("predict", "BYTES", (-1,))
        else:
            predict = TensorSpec("predict", "FP64", (-1,))
        outputs = [predict]
        if model.has_proba:
            outputs.append(TensorSpec("predict_proba", "FP64", (-1, len(model.classes))))
        self._outputs = tuple(outputs)
        self._roles: dict[OutputRole, str] = {"prediction": "predict"}
        if model.has_proba:
            self._roles["probabilities"] = "predict_proba"

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def roles(self) -> dict[OutputRole, str]:
        return self._roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        try:
            rows = as_float_rows(features)
        except (TypeError, ValueError) as error:
            raise PredictionError(f"{self._what}: features must be numbers ({error})") from None
        if not np.isfinite(rows).all():
            raise PredictionError(f"{self._what}: features must be finite numbers")
        answer: dict[str, NDArray[Any]] = {}
        try:
            for name in outputs:
                if name == "predict":
                    answer[name] = self._model.predict(rows)
                else:
                    answer[name] = self._model.predict_proba(rows)
        except NotLearntError as error:
            raise ModelOutputError(f"{self._what}: {error}") from None
        except (ValueError, TypeError) as error:
            raise PredictionError(f"{self._what}: {error}") from error
        return answer


def load_model(config: ModelConfig) -> LearningModel:
    """A fresh, private copy of the model ``config`` names, ready to predict and learn.

    The base version is read as its runtime reads it (a joblib / pickle file, which needs
    ``allow_pickle``, or ``package.module:attribute``); a snapshot version from its file,
    checked against its digest.

    Raises
    ------
    RuntimeLoadError
        If the model cannot be loaded or cannot learn online.
    """
    learning = _learning(config)
    if learning.snapshot_sha256 is not None:
        state = read_snapshot(config.uri, learning.snapshot_sha256)
    elif config.runtime == "python":
        state = copy.deepcopy(resolve_model(config.uri))
    elif config.runtime == "sklearn":
        if not config.allow_pickle:
            raise RuntimeLoadError(
                f"refusing to load online model {config.uri}: unpickling runs code from the "
                "file. If you trust it, set 'allow_pickle: true' on this model"
            )
        joblib = importlib.import_module("joblib")
        try:
            state = joblib.load(config.uri)
        except Exception as error:  # unpickling raises whatever a class's __setstate__ raises
            raise RuntimeLoadError(f"cannot load online model {config.uri}: {error}") from error
    else:
        raise RuntimeLoadError(
            f"model {config.name!r}: runtime {config.runtime!r} can not learn online; "
            f"use one of {', '.join(ONLINE_RUNTIMES)}"
        )
    try:
        return LearningModel(state, config=learning, feature_names=config.feature_names)
    except ValueError as error:
        raise RuntimeLoadError(f"model {config.name!r}: {error}") from None


def load_online(config: ModelConfig) -> Runtime:
    """The runtime serving one version of a learning model (the server's loader)."""
    return OnlineRuntime(load_model(config), name=f"{config.name} v{config.version}")


def _learning(config: ModelConfig) -> OnlineConfig:
    if config.learning is None:
        raise RuntimeLoadError(f"model {config.name!r} does not learn online")
    if any(feature.kind != "numeric" for feature in config.features) or not config.features:
        raise RuntimeLoadError(
            f"model {config.name!r}: online learning needs declared numeric features"
        )
    return config.learning
