"""``/api/v1/silences``: mute matching alerts for a while (read scope to look, admin to change).

Silences follow Alertmanager's: an alert is muted while it matches *all* the matchers of an
active silence. A silence is ``pending`` before it starts, ``active``, then ``expired``;
``DELETE`` expires it at once (and is a no-op on an expired one). Silenced alerts keep
their state; only their notifications are held back.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Path, Query, Response

from monitor.api.auth import ADMIN, READ
from monitor.api.context import API_PREFIX, Context
from monitor.api.errors import created_response, error_responses
from monitor.api.schemas import SilenceIn, SilenceList, SilenceOut
from monitor.api.services.silences import add_silence, expire, silence_of, silences_of
from storage.repositories.tokens import TokenInfo

__all__ = ["silences_router"]

#: Largest id a silence can have: the key is a 32-bit integer.
_MAX_SILENCE_ID: Final = 2**31 - 1
_EXAMPLES: Final[dict[str, Any]] = {
    "text": {
        "summary": "Matchers as text, for two hours",
        "value": {
            "matchers_text": 'model=churn,severity=~"warn.*"',
            "duration": "2h",
            "comment": "retraining churn; drift expected",
        },
    },
    "objects": {
        "summary": "Matchers as objects, until an instant",
        "value": {
            "matchers": [{"name": "model", "op": "=", "value": "credit"}],
            "ends_at": "2030-01-01T06:00:00Z",
            "created_by": "alice",
            "comment": "maintenance window",
        },
    },
}
SilenceId = Annotated[int, Path(ge=1, le=_MAX_SILENCE_ID, description="The silence's id.")]


def list_silences(
    context: Context,
    include_expired: Annotated[bool, Query(description="Include expired silences too.")] = False,
) -> SilenceList:
    """Silences, newest first, each with its state now."""
    found = silences_of(context.engine, include_expired=include_expired)
    return SilenceList(items=[SilenceOut.of(info) for info in found])


def create(
    body: Annotated[SilenceIn, Body(openapi_examples=_EXAMPLES)],
    context: Context,
    token: Annotated[TokenInfo | None, ADMIN],
    response: Response,
) -> SilenceOut:
    """Create a silence; ``created_by`` defaults to the token's name."""
    info = add_silence(
        context.engine, body.to_request(), requester=None if token is None else token.name
    )
    response.headers["Location"] = f"{API_PREFIX}/silences/{info.id}"
    return SilenceOut.of(info)


def get_one(silence_id: SilenceId, context: Context) -> SilenceOut:
    """One silence and its state now."""
    return SilenceOut.of(silence_of(context.engine, silence_id))


def delete(silence_id: SilenceId, context: Context) -> Response:
    """Expire a silence now (an expired one stays as it is)."""
    expire(context.engine, silence_id)
    return Response(status_code=204)


def silences_router() -> APIRouter:
    """The silences routes."""
    router = APIRouter(prefix=f"{API_PREFIX}/silences", tags=["silences"])
    router.add_api_route(
        "",
        list_silences,
        methods=["GET"],
        summary="List silences",
        response_model=SilenceList,
        dependencies=[READ],
        responses=error_responses(401, 403, 422, 503),
    )
    router.add_api_route(
        "",
        create,
        methods=["POST"],
        summary="Create a silence",
        response_model=SilenceOut,
        status_code=201,
        responses={
            **created_response("silence"),
            **error_responses(401, 403, 415, 422, 503),
        },
    )
    router.add_api_route(
        "/{silence_id}",
        get_one,
        methods=["GET"],
        summary="Get a silence",
        response_model=SilenceOut,
        dependencies=[READ],
        responses=error_responses(401, 403, 404, 422, 503),
    )
    router.add_api_route(
        "/{silence_id}",
        delete,
        methods=["DELETE"],
        summary="Expire a silence",
        status_code=204,
        response_class=Response,
        dependencies=[ADMIN],
        responses={
            204: {"description": "Expired (or already expired)."},
            **error_responses(401, 403, 404, 422, 503),
        },
    )
    return router
