"""The ``serving`` block of a model: how ``driftline serve`` loads and batches it, or which
served models it composes (a pipeline or an ensemble)."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from monitor.project._base import Spec, Text, spec_error
from monitor.project.composite_specs import EnsembleSpec, PipelineSpec
from monitor.project.learning_specs import OnlineSpec

__all__ = ["BatchingSpec", "RuntimeKind", "ServingSpec"]

RuntimeKind = Literal["sklearn", "python", "onnx", "xgboost", "lightgbm", "torchscript"]

_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def _check_reference(value: str) -> str:
    if _REFERENCE.fullmatch(value) is None:
        raise spec_error("must be 'package.module:function'")
    return value


CallableReference = Annotated[str, AfterValidator(_check_reference)]
OptionValue = str | int | float | bool


class BatchingSpec(Spec):
    """Dynamic batching of one model."""

    max_batch_size: int = Field(default=64, ge=1, le=65536)
    """Most rows per model call."""
    max_batch_delay_ms: float = Field(default=2.0, ge=0, le=10_000)
    """How long concurrent requests may wait for more to join their batch; a request that
    finds the model idle never waits."""
    max_queue_size: int = Field(default=2048, ge=1, le=1_000_000)
    """Most requests waiting for the model; more get 503."""
    timeout_ms: float = Field(default=10_000, gt=0, le=3_600_000)
    """Deadline of a request from arrival to answer; missed deadlines get 504."""


class ServingSpec(Spec):
    """How the co-packaged inference server serves the model."""

    runtime: RuntimeKind | None = None
    """Model format: sklearn (joblib/pickle), python (module:callable), onnx, xgboost,
    lightgbm or torchscript. Required unless the block is a pipeline or an ensemble."""
    uri: Text | None = None
    """Model file, relative to the project file; ``package.module:attribute`` for python."""
    pipeline: PipelineSpec | None = None
    """Serve the model as a pipeline of other served models, instead of a model file."""
    ensemble: EnsembleSpec | None = None
    """Serve the model as an ensemble of other served models, instead of a model file."""
    allow_pickle: bool = False
    """Trust the file: loading joblib / pickle files runs code from them."""
    preprocess: CallableReference | None = None
    """``package.module:function`` applied to each batch of feature rows before the model."""
    postprocess: CallableReference | None = None
    """``package.module:function(features, outputs) -> outputs`` applied after the model."""
    batching: BatchingSpec = BatchingSpec()
    """Dynamic batching settings."""
    options: dict[str, OptionValue] = Field(default_factory=dict)
    """Runtime-specific options (e.g. ``intra_op_num_threads`` for onnx)."""
    learning: Literal["offline", "online"] = "offline"
    """``online``: the model keeps learning from its delayed labels (sklearn models with
    ``partial_fit``, river models; numeric features)."""
    online: OnlineSpec | None = None
    """Settings of online learning (only with ``learning: online``)."""

    @model_validator(mode="after")
    def _check_learning(self) -> Self:
        if self.learning == "offline":
            if self.online is not None:
                raise spec_error("only allowed with 'learning: online'", at=("online",))
            return self
        if self.runtime not in ("sklearn", "python"):
            msg = "online learning needs runtime sklearn or python (a river model or partial_fit)"
            raise spec_error(msg, at=("learning",))
        return self

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        composite = [key for key in ("pipeline", "ensemble") if getattr(self, key) is not None]
        if len(composite) == 2:
            raise spec_error("give a pipeline or an ensemble, not both", at=("ensemble",))
        if not composite:
            for key in ("runtime", "uri"):
                if getattr(self, key) is None:
                    msg = "required (or declare a pipeline or an ensemble)"
                    raise spec_error(msg, at=(key,))
            return self
        for key in ("runtime", "uri", "allow_pickle", "preprocess", "postprocess", "options"):
            if key in self.model_fields_set:
                msg = f"not allowed for a {composite[0]}: its members load and run the models"
                raise spec_error(msg, at=(key,))
        ignored = self.batching.model_fields_set - {"timeout_ms"}
        if ignored:
            msg = f"only timeout_ms applies to a {composite[0]}; its members batch their calls"
            raise spec_error(msg, at=("batching", sorted(ignored)[0]))
        return self
