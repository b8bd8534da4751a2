"""The gRPC status code of each serving error (the REST app's :data:`serving.app.STATUS`)."""

from __future__ import annotations

import grpc

from serving.admin import AdminAccessError
from serving.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelNotReadyError,
    PredictionError,
    QueueFullError,
    RuntimeLoadError,
    ServingError,
)

__all__ = ["STATUS_CODES", "status_code"]

STATUS_CODES: tuple[tuple[type[ServingError], grpc.StatusCode], ...] = (
    (AdminAccessError, grpc.StatusCode.PERMISSION_DENIED),
    (ModelNotFoundError, grpc.StatusCode.NOT_FOUND),
    (ModelNotReadyError, grpc.StatusCode.UNAVAILABLE),
    (QueueFullError, grpc.StatusCode.UNAVAILABLE),
    (DeadlineExceededError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (PredictionError, grpc.StatusCode.INVALID_ARGUMENT),
    (RuntimeLoadError, grpc.StatusCode.INVALID_ARGUMENT),
)
"""Status of each error, first match wins; any other :class:`ServingError` is INTERNAL."""


def status_code(error: ServingError) -> grpc.StatusCode:
    """The status a call that failed with ``error`` ends with."""
    for kind, code in STATUS_CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL
