"""The REST API's app factory: routers under ``/api/v1``, health and metrics at the root.

=======  ======================================  ======
method   path                                    scope
=======  ======================================  ======
GET      /api/v1/models                          read
GET      /api/v1/models/{model}                  read
GET      /api/v1/models/{model}/versions         read
GET      /api/v1/models/{model}/references       read
POST     /api/v1/models/{model}/references       admin
GET      /api/v1/models/{model}/references/{n}   read
DELETE   /api/v1/models/{model}/references/{n}   admin
GET      /api/v1/monitors                        read
POST     /api/v1/monitors                        admin
GET      /api/v1/monitors/{name}                 read
PUT      /api/v1/monitors/{name}                 admin
DELETE   /api/v1/monitors/{name}                 admin
GET      /api/v1/alert-rules                     read
POST     /api/v1/alert-rules                     admin
GET      /api/v1/alert-rules/{name}              read
PUT      /api/v1/alert-rules/{name}              admin
DELETE   /api/v1/alert-rules/{name}              admin
GET      /api/v1/monitors/{name}/results         read
GET      /api/v1/results                         read
GET      /api/v1/alerts                          read
GET      /api/v1/alerts/{id}                     read
GET      /api/v1/silences                        read
POST     /api/v1/silences                        admin
GET      /api/v1/silences/{id}                   read
DELETE   /api/v1/silences/{id}                   admin
GET      /api/v1/deliveries                      read
GET      /api/v1/deliveries/{id}                 read
GET      /api/v1/whoami                          read
GET      /healthz, /readyz, /metrics             none
=======  ======================================  ======
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

import monitor
from monitor.api.context import API_PREFIX, ApiContext
from monitor.api.handlers import exception_handlers
from monitor.api.metrics import ApiMetrics, MetricsMiddleware
from monitor.api.routes_alert_rules import alert_rules_router
from monitor.api.routes_alerts import alerts_router
from monitor.api.routes_deliveries import deliveries_router
from monitor.api.routes_models import models_router
from monitor.api.routes_monitors import monitors_router
from monitor.api.routes_references import references_router
from monitor.api.routes_results import results_router
from monitor.api.routes_silences import silences_router
from monitor.api.routes_system import system_router
from monitor.api.routes_whoami import whoami_router
from storage.engine import create_session_factory
from storage.repositories.token_cache import TokenVerifier

__all__ = ["API_PREFIX", "DEFAULT_MAX_UPLOAD_BYTES", "create_api_app"]

#: Largest reference file accepted by default: 256 MiB.
DEFAULT_MAX_UPLOAD_BYTES: Final = 256 * 2**20
_DESCRIPTION: Final = """\
Models, reference datasets, monitors and their results; alerts, silences and the delivery
log of notifications.

Authenticate with `Authorization: Bearer <token>` (`driftline tokens create NAME --scope read`):
the `read` scope for GET operations, `admin` for every change. Every error answer is
`{"error": "...", "code": "..."}`, with `details` (field locations) on validation errors.
"""


def create_api_app(
    engine: Engine,
    *,
    auth: bool = True,
    verifier: TokenVerifier | None = None,
    registry: CollectorRegistry | None = None,
    extra_routers: Sequence[APIRouter] = (),
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> FastAPI:
    """Build the API app serving ``engine``.

    Parameters
    ----------
    engine
        The store.
    auth
        Require bearer tokens (``read`` to look, ``admin`` to change). ``False`` opens every
        operation to anyone, for demos on a laptop.
    verifier
        Checks tokens; by default a :class:`TokenVerifier` over ``engine`` (30 s cache).
    registry
        Where the API's metrics go (``GET /metrics`` serves it); by default a new one.
    extra_routers
        Further routers, included as they are (their own prefixes and dependencies).
    max_upload_bytes
        Largest reference upload accepted; larger ones get a 413.
    """
    if max_upload_bytes < 1:
        msg = f"max_upload_bytes must be >= 1, got {max_upload_bytes}"
        raise ValueError(msg)
    sessions = create_session_factory(engine)
    if auth and verifier is None:
        verifier = TokenVerifier(sessions)
    registry = CollectorRegistry() if registry is None else registry
    app = FastAPI(
        title="Driftline API",
        version=monitor.__version__,
        description=_DESCRIPTION,
        exception_handlers=exception_handlers(),
    )
    routers = [
        system_router(),
        models_router(),
        references_router(),
        monitors_router(),
        results_router(),
        alert_rules_router(),
        alerts_router(),
        silences_router(),
        deliveries_router(),
        whoami_router(),
        *extra_routers,
    ]
    for router in routers:
        app.include_router(router)
    app.state.engine = engine
    app.state.api = ApiContext(
        engine=engine,
        sessions=sessions,
        verifier=verifier if auth else None,
        max_upload_bytes=max_upload_bytes,
        registry=registry,
        routes=tuple(
            (route.path_regex, frozenset(route.methods or ()))
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute)
        ),
    )
    app.add_middleware(MetricsMiddleware, metrics=ApiMetrics(registry))
    if not auth:
        app.openapi = lambda: _open_schema(app)  # type: ignore[method-assign]
    return app


def _open_schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of an app without auth: no security, no 401/403 answers."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        schema.get("components", {}).pop("securitySchemes", None)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.pop("security", None)
                for status in ("401", "403"):
                    operation.get("responses", {}).pop(status, None)
        app.openapi_schema = schema
    return app.openapi_schema
