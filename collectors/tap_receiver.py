"""The sidecar's end of the pushed tap: ``POST /v1/tap`` with tapped batches as frames.

Each frame is one tapped batch (:func:`collectors.tap_push.encode_tapped`); they go to the
collector's queue, which spools them. A full queue drops them there, counted, like the
in-process tap: the inference server must never be slowed by monitoring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collectors.collector import Collector
from collectors.errors import AuthenticationError, PermissionDeniedError
from collectors.tap import TappedRecords
from collectors.tap_push import decode_tapped, split_frames

__all__ = ["receive_tapped", "tap_route"]


def receive_tapped(collector: Collector, body: bytes) -> int:
    """Queue every tapped batch in ``body``; the number of batches.

    Raises
    ------
    ValueError
        If a frame is not a tapped batch (nothing of the body is queued).
    """
    batches = [decode_tapped(frame) for frame in split_frames(body)]
    for batch in batches:
        collector.submit(TappedRecords(batch))
    return len(batches)


def tap_route(
    collector: Collector,
    authorize: Callable[[str | None, str], None],
    *,
    max_body_bytes: int,
) -> Route:
    """``POST /v1/tap`` for a sidecar app (scope ``ingest``)."""

    async def endpoint(request: Request) -> Response:
        try:
            await asyncio.to_thread(authorize, request.headers.get("authorization"), "ingest")
        except AuthenticationError as error:
            return _json(401, {"error": str(error)})
        except PermissionDeniedError as error:
            return _json(403, {"error": str(error)})
        body = await request.body()
        if len(body) > max_body_bytes:
            return _json(413, {"error": f"body of {len(body)} bytes exceeds {max_body_bytes}"})
        try:
            count = await asyncio.to_thread(receive_tapped, collector, body)
        except ValueError as error:
            return _json(400, {"error": f"body: {error}"})
        return _json(200, {"accepted": count})

    handler: Callable[[Request], Awaitable[Response]] = endpoint
    return Route("/v1/tap", handler, methods=["POST"])


def _json(status: int, body: dict[str, object]) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
