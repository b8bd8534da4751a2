"""``/api/v1/monitors``: list and read (read scope); create, replace, delete (admin scope).

Monitors declared in the project file are listed with ``"source": "project"`` and cannot be
changed here (409); the API's own monitors have ``"source": "api"``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Query, Response

from monitor.api.context import API_PREFIX, Context
from monitor.api.params import MAX_NAME, MonitorName
from monitor.api.routes_declared import DeclaredResource, declared_routes
from monitor.api.schemas import MonitorList, MonitorOut, MonitorReplacement
from monitor.api.services.monitors import create_monitor, monitors_of, replace_monitor
from monitor.api.validation import CONTROL_FREE
from monitor.project.monitors import MonitorSpec
from storage.repositories.monitors import delete_monitor, get_monitor

__all__ = ["monitors_router"]

_EXAMPLE: Final[dict[str, Any]] = {
    "name": "credit-drift",
    "model": "credit",
    "kind": "data_drift",
    "schedule": {"every": "1h"},
    "window": {"type": "tumbling", "size": "1h"},
    "reference": {"type": "previous_window"},
    "min_samples": 100,
}


def list_monitors(
    context: Context,
    model: Annotated[
        str | None,
        Query(description="Only this model's monitors.", max_length=MAX_NAME, pattern=CONTROL_FREE),
    ] = None,
    enabled: Annotated[bool | None, Query(description="Only enabled (or disabled) ones.")] = None,
) -> MonitorList:
    """Monitors by name, from the project file and the API."""
    found = monitors_of(context.engine, context.sessions, model_name=model, enabled=enabled)
    return MonitorList(items=[MonitorOut.of(info) for info in found])


def get_one(name: MonitorName, context: Context) -> MonitorOut:
    """One monitor."""
    return MonitorOut.of(get_monitor(context.engine, name))


def create(
    spec: Annotated[MonitorSpec, Body(openapi_examples={"drift": {"value": _EXAMPLE}})],
    context: Context,
    response: Response,
) -> MonitorOut:
    """Create a monitor from a spec (the project file's ``monitors`` item schema)."""
    info = create_monitor(context.engine, context.sessions, spec)
    response.headers["Location"] = f"/api/v1/monitors/{info.name}"
    return MonitorOut.of(info)


def replace(name: MonitorName, body: MonitorReplacement, context: Context) -> MonitorOut:
    """Replace a monitor's spec; the body's ``name`` may be left out."""
    return MonitorOut.of(replace_monitor(context.engine, context.sessions, name, body))


def delete(name: MonitorName, context: Context) -> Response:
    """Delete a monitor and its results."""
    delete_monitor(context.engine, name)
    return Response(status_code=204)


def monitors_router() -> APIRouter:
    """The monitors routes."""
    router = APIRouter(prefix=f"{API_PREFIX}/monitors", tags=["monitors"])
    resource = DeclaredResource(
        one="a monitor",
        many="monitors",
        location_noun="monitor",
        list_items=list_monitors,
        create=create,
        get_one=get_one,
        replace=replace,
        delete=delete,
        listing=MonitorList,
        item=MonitorOut,
    )
    return declared_routes(router, resource)
