"""The six RPCs of ``inference.GRPCInferenceService``, over the REST app's parts.

Each handler reads its message, calls the model repository or the
:class:`~serving.inference.InferenceService` shared with REST, and encodes the answer; a
:class:`~serving.errors.ServingError` ends the call with the status of
:func:`~serving.grpc.status.status_code` and the error's message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NoReturn

import grpc
from grpc import aio

from serving.errors import InvalidRequestError, ModelNotReadyError, ServingError
from serving.grpc import grpc_predict_v2_pb2 as pb
from serving.grpc.decode import decode_request
from serving.grpc.encode import encode_metadata, encode_result
from serving.grpc.status import status_code
from serving.inference import InferenceService
from serving.repository import ModelRepository

__all__ = ["EXTENSIONS", "InferenceServicer"]

logger = logging.getLogger(__name__)

Context = aio.ServicerContext[Any, Any]

EXTENSIONS: tuple[str, ...] = ()
"""Protocol extensions served over gRPC: none (the repository and binary tensor extensions
are REST-only; Triton's extra RPCs answer UNIMPLEMENTED)."""


class InferenceServicer:
    """Answers the service's RPCs from the repository and the inference service."""

    def __init__(
        self,
        *,
        repository: ModelRepository,
        service: InferenceService,
        ready: Callable[[], bool],
        version: str,
    ) -> None:
        self._repository = repository
        self._service = service
        self._ready = ready
        self._metadata = pb.ServerMetadataResponse(
            name="driftline", version=version, extensions=EXTENSIONS
        )

    async def server_live(
        self, request: pb.ServerLiveRequest, context: Context
    ) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def server_ready(
        self, request: pb.ServerReadyRequest, context: Context
    ) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=self._ready())

    async def server_metadata(
        self, request: pb.ServerMetadataRequest, context: Context
    ) -> pb.ServerMetadataResponse:
        return self._metadata

    async def model_ready(
        self, request: pb.ModelReadyRequest, context: Context
    ) -> pb.ModelReadyResponse:
        """Ready or not for a known model; NOT_FOUND for an unknown model or version."""
        try:
            self._repository.resolve(_name(request.name), request.version or None)
        except ModelNotReadyError:
            return pb.ModelReadyResponse(ready=False)
        except ServingError as error:
            await _abort(context, error)
        return pb.ModelReadyResponse(ready=True)

    async def model_metadata(
        self, request: pb.ModelMetadataRequest, context: Context
    ) -> pb.ModelMetadataResponse:
        try:
            deployment = self._repository.resolve(_name(request.name), request.version or None)
        except ServingError as error:
            await _abort(context, error)
        return encode_metadata(deployment.model.metadata())

    async def model_infer(
        self, request: pb.ModelInferRequest, context: Context
    ) -> pb.ModelInferResponse:
        """Decode, infer and encode; the call's deadline bounds the request's."""
        remaining = context.time_remaining()
        try:
            result = await self._service.infer(
                _name(request.model_name, field="model_name"),
                request.model_version or None,
                lambda: decode_request(request, deadline_seconds=remaining),
            )
            return encode_result(result, raw=bool(request.raw_input_contents))
        except ServingError as error:
            await _abort(context, error)
        except Exception as error:  # process boundary: a bug answers INTERNAL, the server lives
            logger.exception("unexpected error in a gRPC inference call")
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {error}")


async def _abort(context: Context, error: ServingError) -> NoReturn:
    """End the call with the status ``error`` maps to and its message."""
    code = status_code(error)
    if code is grpc.StatusCode.INTERNAL:
        logger.error("gRPC request failed: %s", error)
    await context.abort(code, str(error))


def _name(value: str, *, field: str = "name") -> str:
    if not value:
        raise InvalidRequestError(f"{field}: expected a model name")
    return value
