"""``/api/v1/whoami``: which token a client is using and what it may do (read scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from monitor.api.auth import READ
from monitor.api.context import API_PREFIX
from monitor.api.errors import error_responses
from monitor.api.schemas import WhoAmI
from storage.repositories.tokens import TokenInfo

__all__ = ["whoami_router"]


def whoami(token: Annotated[TokenInfo | None, READ]) -> WhoAmI:
    """The request's token: its name, scopes and expiry."""
    return WhoAmI.of(token)


def whoami_router() -> APIRouter:
    """The whoami route."""
    router = APIRouter(prefix=API_PREFIX, tags=["tokens"])
    router.add_api_route(
        "/whoami",
        whoami,
        methods=["GET"],
        summary="Describe the request's token",
        response_model=WhoAmI,
        responses=error_responses(401, 403, 503),
    )
    return router
