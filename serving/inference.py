"""Serving one inference request: resolve the model, decode, batch, answer, observe.

Transport-free: REST (:mod:`serving.app`) and gRPC (:mod:`serving.grpc`) hand it a decoder
of their own wire format, which it runs inside its error handling so that a malformed request
is counted and tapped the same way whichever transport brought it; each transport encodes the
:class:`~serving.protocol.responses.InferenceResult` and maps the errors to its statuses.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from numpy.typing import NDArray

from serving.batcher import Pending
from serving.errors import InvalidRequestError, RequestCancelledError, ServingError
from serving.features import feature_rows, record_rows
from serving.observer import Observer
from serving.protocol.requests import InferenceRequest
from serving.protocol.responses import InferenceResult, encode_json
from serving.repository import Deployment, ModelRepository

__all__ = ["Decode", "InferenceService"]

Decode = Callable[[], InferenceRequest]
"""Decodes one request from its transport's wire form (raising ``InvalidRequestError``)."""


class InferenceService:
    """Answers inference requests from the repository's models."""

    def __init__(self, repository: ModelRepository, observer: Observer) -> None:
        self._repository = repository
        self._observer = observer
        self._id_prefix = uuid.uuid4().hex[:16]
        self._id_counter = itertools.count(1)

    def _new_id(self) -> str:
        """An id for a request that came without one: a random per-process prefix and a
        counter, unique without the cost of a UUID per request."""
        return f"{self._id_prefix}-{next(self._id_counter)}"

    async def infer(self, name: str, version: str | None, decode: Decode) -> InferenceResult:
        """Answer an OIP v2 inference request that ``decode`` reads from the wire."""
        arrived, received_at = time.perf_counter(), time.time()
        deployment = self._repository.resolve(name, version)
        request_id = ""
        features = None
        pending: Pending | None = None
        try:
            request = decode()
            request_id = request.id or self._new_id()
            model = deployment.model
            outputs = model.check_outputs(request.outputs)
            features = feature_rows(request.inputs, model.config.features)
            pending = self._pending(
                deployment,
                request_id,
                features,
                outputs,
                arrived,
                received_at,
                request.timeout_seconds,
            )
            result = await deployment.batcher.submit(pending)
        except ServingError as error:
            if pending is None or not pending.observed:
                self._refused(deployment, request_id, features, error, received_at, arrived)
            raise
        except asyncio.CancelledError:  # the transport gave up on the call (gRPC deadline)
            if pending is not None and not pending.observed:
                pending.abandoned = True  # the batch, if it still runs, does not report it
                gone = RequestCancelledError(f"request {request_id!r} was cancelled by its caller")
                self._refused(deployment, request_id, features, gone, received_at, arrived)
            raise
        return InferenceResult(
            model_name=name,
            model_version=deployment.version,
            request_id=request_id,
            outputs=result,
        )

    async def infer_records(self, name: str, version: str | None, body: bytes) -> bytes:
        """Answer a records request: ``[{feature: value}, ...]`` or
        ``{"id": ..., "records": [...]}``; one output object per record comes back."""
        arrived, received_at = time.perf_counter(), time.time()
        deployment = self._repository.resolve(name, version)
        request_id = ""
        features = None
        pending: Pending | None = None
        try:
            given_id, records = _records_document(body)
            request_id = given_id or self._new_id()
            model = deployment.model
            features = record_rows(records, model.config.features)
            pending = self._pending(
                deployment, request_id, features, model.output_names, arrived, received_at, None
            )
            result = await deployment.batcher.submit(pending)
        except ServingError as error:
            if pending is None or not pending.observed:
                self._refused(deployment, request_id, features, error, received_at, arrived)
            raise
        names = list(result)
        columns = [result[n].tolist() for n in names]
        predictions = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        return encode_json(
            {
                "model_name": name,
                "model_version": deployment.version,
                "id": request_id,
                "predictions": predictions,
            }
        )

    def _pending(
        self,
        deployment: Deployment,
        request_id: str,
        features: NDArray[Any],
        outputs: tuple[str, ...],
        arrived: float,
        received_at: float,
        timeout_seconds: float | None,
    ) -> Pending:
        batching = deployment.model.config.batching
        timeout = batching.timeout_ms / 1000 if timeout_seconds is None else timeout_seconds
        return Pending(
            request_id=request_id,
            features=features,
            outputs=outputs,
            received_at=received_at,
            arrived=arrived,
            deadline=arrived + timeout,
            future=asyncio.get_running_loop().create_future(),
        )

    def _refused(
        self,
        deployment: Deployment,
        request_id: str,
        features: NDArray[Any] | None,
        error: ServingError,
        received_at: float,
        arrived: float,
    ) -> None:
        self._observer.refused(
            deployment.model,
            request_id=request_id or self._new_id(),
            features=features,
            error=error,
            received_at=received_at,
            arrived=arrived,
        )


def _records_document(body: bytes) -> tuple[str | None, object]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequestError(f"body: not valid JSON ({error})") from None
    if isinstance(document, list):
        return None, document
    if not isinstance(document, dict) or "records" not in document:
        raise InvalidRequestError('body: expected a list of records or {"records": [...]}')
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidRequestError("id: expected a string")
    return request_id, document["records"]
