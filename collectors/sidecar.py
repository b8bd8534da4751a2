"""The sidecar's HTTP face: the ingest and feedback APIs, health and metrics.

Routes::

    POST /v1/models/{model}/predictions   records from applications that log themselves (ingest)
    POST /v1/models/{model}/feedback      ground-truth labels by request id (feedback)
    POST /v1/tap                          batches pushed by driftline serve --tap-to (ingest)
    GET  /healthz                         the process is up
    GET  /readyz                          the spool accepts records (503 when over its quota)
    GET  /metrics                         Prometheus
    POST /  and  POST /v1/cloudevents     payload-logger CloudEvents (KServe, Seldon), when a
                                          receiver is given (:mod:`collectors.cloudevents`)

The CloudEvents routes take the ingest scope's bearer token, like the ingest API; KServe's
logger cannot send one, so ``cloudevents_auth=False`` lifts the check on those two routes
only (keep the port then to the cluster network, e.g. with a NetworkPolicy).

Handlers parse, authorise and call :class:`IngestService`; errors map once to
``{"error": ...}``. Accepted records are in the spool (fsynced) before the answer is sent;
labels are upserted in the store before it (so a 200 means stored, a 503 means retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collectors.cloudevents import CloudEventError, CloudEventsReceiver
from collectors.collector import Collector
from collectors.errors import AuthenticationError, PermissionDeniedError, SpoolFullError
from collectors.ingest import (
    IngestError,
    parse_feedback,
    parse_records,
    read_json,
    requested_version,
)
from collectors.tap import TappedRecords
from collectors.tap_push import decode_tapped, split_frames
from storage import InvalidBatchError, NotFoundError, StorageError, upsert_labels

__all__ = ["Authorizer", "IngestService", "create_sidecar_app"]

logger = logging.getLogger(__name__)


class Authorizer(Protocol):
    """Checks an ``Authorization`` header for a scope; raises the two auth errors."""

    def __call__(self, authorization: str | None, scope: str) -> None: ...


class _Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


class IngestService:
    """What the routes do, without HTTP."""

    def __init__(self, collector: Collector, engine: Engine) -> None:
        self._collector = collector
        self._engine = engine

    def predictions(self, model: str, body: bytes) -> dict[str, Any]:
        """Spool the records of ``body``; raises :class:`_Refused` with the 4xx to send."""
        document, records = _read(body, "records")
        handle = self._handle(model, document)
        item, problems = parse_records(records, handle)
        try:
            self._collector.ingest(item)
        except SpoolFullError as error:
            raise _Refused(503, {"error": f"not accepted, retry later: {error}"}) from None
        accepted = len(records) - len(problems)
        if problems:
            raise _Refused(
                422,
                {
                    "error": problems[0].describe()
                    + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                    "accepted": accepted,
                    "rejected": [problem.to_dict() for problem in problems],
                },
            )
        return {"accepted": accepted}

    def feedback(self, model: str, body: bytes) -> dict[str, Any]:
        """Upsert the labels of ``body``; bad labels are reported and not stored."""
        document, labels = _read(body, "labels")
        handle = self._handle(model, document)
        good, problems = parse_feedback(labels, handle)
        stored = 0
        if good.request_ids:
            try:
                stored = upsert_labels(
                    self._engine,
                    handle,
                    good.request_ids,
                    good.values,
                    event_timestamps_us=_event_times(good.timestamps_us),
                )
            except InvalidBatchError as error:
                raise _Refused(422, {"error": f"labels: {error}"}) from None
        if problems:
            raise _Refused(
                422,
                {
                    "error": problems[0].describe().replace("records[", "labels[", 1),
                    "accepted": stored,
                    "rejected": [problem.to_dict() for problem in problems],
                },
            )
        return {"accepted": stored}

    def tapped(self, body: bytes) -> dict[str, Any]:
        """Queue the tapped batches an inference server pushed (``driftline serve --tap-to``).

        Each frame of ``body`` is one batch (:func:`collectors.tap_push.encode_tapped`); a
        body with a malformed frame queues nothing. A full queue drops batches there,
        counted, as the in-process tap does: monitoring never slows the server.
        """
        try:
            batches = [decode_tapped(frame) for frame in split_frames(body)]
        except ValueError as error:
            raise _Refused(400, {"error": f"body: {error}"}) from None
        for batch in batches:
            self._collector.submit(TappedRecords(batch))
        return {"accepted": len(batches)}

    def _handle(self, model: str, document: dict[str, Any]) -> Any:
        try:
            return self._collector.handle(model, requested_version(document))
        except IngestError as error:
            raise _Refused(400, {"error": str(error)}) from None
        except NotFoundError as error:
            raise _Refused(404, {"error": str(error)}) from None


def _event_times(times: list[int | None]) -> list[int] | None:
    """Event times of labels; a label sent without one among others gets the arrival time."""
    if all(t is None for t in times):
        return None
    now = round(time.time() * 1e6)
    return [now if t is None else t for t in times]


def _read(body: bytes, key: str) -> tuple[dict[str, Any], list[Any]]:
    try:
        return read_json(body, key)
    except IngestError as error:
        raise _Refused(400, {"error": str(error)}) from None


def create_sidecar_app(
    service: IngestService,
    *,
    authorize: Authorizer,
    registry: CollectorRegistry,
    ready: Callable[[], bool],
    max_body_bytes: int,
    cloudevents: CloudEventsReceiver | None = None,
    cloudevents_auth: bool = True,
) -> Starlette:
    """The sidecar's ASGI app; with ``cloudevents``, also the payload-logger routes."""

    async def body_of(request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body_bytes:
            raise _Refused(413, {"error": f"body of {length} bytes exceeds {max_body_bytes}"})
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise _Refused(413, {"error": f"body exceeds {max_body_bytes} bytes"})
            chunks.append(chunk)
        return b"".join(chunks)

    async def answer(work: Callable[[], Awaitable[dict[str, Any]]]) -> Response:
        try:
            return _json(200, await work())
        except _Refused as refused:
            return _json(refused.status, refused.body)
        except CloudEventError as error:
            return _json(400, {"error": str(error)})
        except AuthenticationError as error:
            return _json(401, {"error": str(error)}, {"www-authenticate": "Bearer"})
        except PermissionDeniedError as error:
            return _json(403, {"error": str(error)})
        except (DBAPIError, StorageError) as error:
            logger.warning("store unavailable: %s", error)
            return _json(503, {"error": "the store is unavailable; retry later"})

    def route(scope: str, work: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            async def run() -> dict[str, Any]:
                await asyncio.to_thread(authorize, request.headers.get("authorization"), scope)
                body = await body_of(request)
                return await asyncio.to_thread(work, *request.path_params.values(), body)

            return await answer(run)

        return endpoint

    def cloudevent_route(receiver: CloudEventsReceiver) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            async def run() -> dict[str, Any]:
                if cloudevents_auth:
                    header = request.headers.get("authorization")
                    await asyncio.to_thread(authorize, header, "ingest")
                return dict(await receiver.receive(request.headers, await body_of(request)))

            return await answer(run)

        return endpoint

    async def healthz(request: Request) -> Response:
        return _json(200, {"live": True})

    async def readyz(request: Request) -> Response:
        ok = ready()
        return _json(200 if ok else 503, {"ready": ok})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _json(404, {"error": f"no route {request.url.path}"})

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _json(405, {"error": f"method {request.method} not allowed on {request.url.path}"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if cloudevents is not None:  # lone halves are recorded, not lost, at shutdown
            cloudevents.flush()

    events = [
        Route(path, cloudevent_route(cloudevents), methods=["POST"])
        for path in ("/", "/v1/cloudevents")
        if cloudevents is not None
    ]
    return Starlette(
        routes=[
            Route(
                "/v1/models/{model}/predictions",
                route("ingest", service.predictions),
                methods=["POST"],
            ),
            Route(
                "/v1/models/{model}/feedback", route("feedback", service.feedback), methods=["POST"]
            ),
            Route("/v1/tap", route("ingest", service.tapped), methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *events,
        ],
        exception_handlers={404: not_found, 405: not_allowed},
        lifespan=lifespan,
    )


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )
