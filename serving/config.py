"""What the server needs to know about one deployed model, as plain frozen values.

The project file (``monitor``) and the admin API both produce a :class:`ModelConfig`; the
server never reads YAML or settings itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from serving.composite.config import CompositeConfig
from serving.errors import InvalidRequestError
from serving.online.config import OnlineConfig

__all__ = ["BatchingConfig", "FeatureInput", "ModelConfig"]

FeatureKind = Literal["numeric", "categorical", "text"]


@dataclass(frozen=True, slots=True)
class BatchingConfig:
    """Dynamic batching of one model.

    Attributes
    ----------
    max_batch_size
        Most rows one call of the model gets (a request larger than this runs alone).
    max_batch_delay_ms
        How long a batch of concurrent requests may wait for more; a request that arrives
        at an idle model never waits.
    max_queue_size
        Most requests waiting for the model; more are refused (503) rather than queued.
    timeout_ms
        Default deadline of a request, from its arrival to its answer (504 when missed).
    """

    max_batch_size: int = 64
    max_batch_delay_ms: float = 2.0
    max_queue_size: int = 2048
    timeout_ms: float = 10_000.0

    def __post_init__(self) -> None:
        _at_least("max_batch_size", self.max_batch_size, 1)
        _at_least("max_batch_delay_ms", self.max_batch_delay_ms, 0)
        _at_least("max_queue_size", self.max_queue_size, 1)
        if self.timeout_ms <= 0:
            raise InvalidRequestError(f"timeout_ms must be > 0, got {self.timeout_ms}")


@dataclass(frozen=True, slots=True)
class FeatureInput:
    """One input feature, in the order the model reads it."""

    name: str
    kind: FeatureKind = "numeric"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """A model to deploy.

    Attributes
    ----------
    name, version
        How clients address it: ``/v2/models/{name}/versions/{version}``.
    runtime
        Runtime kind: ``sklearn``, ``python``, ``onnx``, ``xgboost``, ``lightgbm``,
        ``torchscript``.
    uri
        Model file, or ``package.module:attribute`` for the ``python`` runtime.
    features
        Input features in the model's column order; empty means "one ``[rows, m]`` input
        of any width".
    allow_pickle
        The operator trusts the file: unpickling (joblib, pickle) runs code from it.
    preprocess, postprocess
        ``package.module:function`` hooks: ``preprocess(features) -> features`` on each
        batch before the model, ``postprocess(features, outputs) -> outputs`` after it.
    options
        Runtime-specific options (e.g. ``intra_op_num_threads`` for ONNX).
    learning
        Set when the model learns online from its delayed labels (:mod:`serving.online`).
    composite
        A pipeline or an ensemble of other deployed models, served under ``name`` instead
        of a runtime (``runtime`` then names its kind and ``uri`` is unused).
    """

    name: str
    version: str
    runtime: str
    uri: str
    features: tuple[FeatureInput, ...] = ()
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    allow_pickle: bool = False
    preprocess: str | None = None
    postprocess: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    learning: OnlineConfig | None = None
    composite: CompositeConfig | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the input features, in order."""
        return tuple(feature.name for feature in self.features)


def _at_least(name: str, value: float, low: float) -> None:
    if value < low:
        raise InvalidRequestError(f"{name} must be >= {low}, got {value}")
