"""Unversioned operations for orchestrators and Prometheus: liveness, readiness, metrics.

None needs a token: probes and scrapers do not carry one, and nothing here tells more
than whether the process and its database are up.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.api.context import Context
from monitor.api.errors import error_responses
from monitor.api.schemas import Health
from storage.engine import check_connection
from storage.errors import DatabaseConnectionError

__all__ = ["system_router"]

logger = logging.getLogger(__name__)


async def healthz() -> Health:
    """The process is up and serving."""
    return Health(status="ok")


def readyz(context: Context) -> Health:
    """The database is reachable (503 when it is not; the reason goes to the log only,
    since this route answers without a token)."""
    try:
        check_connection(context.engine)
    except DatabaseConnectionError as error:
        logger.warning("not ready: %s", error)
        raise DatabaseConnectionError("the database is unreachable") from None
    return Health(status="ready")


def metrics(context: Context) -> PlainTextResponse:
    """Prometheus metrics in the text exposition format."""
    return PlainTextResponse(generate_latest(context.registry), media_type=CONTENT_TYPE_LATEST)


def system_router() -> APIRouter:
    """Health and metrics routes, mounted at the root."""
    router = APIRouter(tags=["system"])
    router.add_api_route(
        "/healthz", healthz, methods=["GET"], summary="Liveness", response_model=Health
    )
    router.add_api_route(
        "/readyz",
        readyz,
        methods=["GET"],
        summary="Readiness",
        response_model=Health,
        responses=error_responses(503),
    )
    router.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    return router
