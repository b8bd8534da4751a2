"""The ``serving`` block of a model: how ``driftline serve`` loads and batches it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from monitor.project._base import Spec, Text, spec_error

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

    runtime: RuntimeKind
    """Model format: sklearn (joblib/pickle), python (module:callable), onnx, xgboost,
    lightgbm or torchscript."""
    uri: Text
    """Model file, relative to the project file; ``package.module:attribute`` for python."""
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
