"""Errors of the inference server, without HTTP codes (the app maps them once).

Each class says what went wrong in the caller's or the operator's terms; :mod:`serving.app`
turns them into ``{"error": "..."}`` with the status the Open Inference Protocol peers use.
"""

from __future__ import annotations

__all__ = [
    "DeadlineExceededError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "ModelNotReadyError",
    "ModelOutputError",
    "PredictionError",
    "QueueFullError",
    "RequestCancelledError",
    "RuntimeLoadError",
    "ServingError",
]


class ServingError(Exception):
    """Root of every error raised by :mod:`serving`."""


class InvalidRequestError(ServingError, ValueError):
    """The request is malformed or does not fit the model: the message names the field."""


class ModelNotFoundError(ServingError, LookupError):
    """No model (or no such version of it) is deployed."""


class ModelNotReadyError(ServingError):
    """The model is deployed but loading, unloading or failed to load."""


class QueueFullError(ServingError):
    """The model's request queue is at its bound; the caller should retry later."""


class DeadlineExceededError(ServingError, TimeoutError):
    """The request's deadline passed before its prediction was ready."""


class RequestCancelledError(DeadlineExceededError):
    """The caller stopped waiting before the answer (a gRPC call's deadline passed, or the
    client cancelled it); counted and tapped as a timeout."""


class RuntimeLoadError(ServingError):
    """A model could not be loaded: missing file, unknown runtime, missing optional package."""


class PredictionError(ServingError, ValueError):
    """The model refused the input (e.g. a wrong number of features); the caller's mistake."""


class ModelOutputError(ServingError):
    """The model's answer does not fit its declared outputs: not the caller's mistake.

    Wrong output names, row counts or datatypes come from the model or its configuration.
    """
