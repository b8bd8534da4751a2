"""``/api/v1/alerts``: alerts, newest first, paged by id (read scope); one with its history.

A page holds at most ``limit`` alerts; its ``next_cursor`` is the ``before`` of the next
page, and null on the last.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from monitor.api.auth import READ
from monitor.api.context import API_PREFIX, Context
from monitor.api.errors import error_responses
from monitor.api.params import MAX_NAME
from monitor.api.schemas import AlertDetailOut, AlertOut, AlertPageOut
from monitor.api.services.alerts import MAX_ID, AlertState, alert_detail, alerts_page
from monitor.api.validation import CONTROL_FREE

__all__ = ["alerts_router"]

_MAX_PAGE = 1000

AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="The alert's id.")]


def list_alerts(
    context: Context,
    state: Annotated[AlertState | None, Query(description="Only alerts in this state.")] = None,
    rule: Annotated[
        str | None,
        Query(description="Only this rule's alerts.", max_length=MAX_NAME, pattern=CONTROL_FREE),
    ] = None,
    model: Annotated[
        str | None,
        Query(
            description="Only alerts whose `model` label is this.",
            max_length=MAX_NAME,
            pattern=CONTROL_FREE,
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_PAGE, description="Alerts per page.")] = 100,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="The `next_cursor` of the previous page."),
    ] = None,
) -> AlertPageOut:
    """Alerts, newest first, filtered."""
    page = alerts_page(
        context.engine, state=state, rule=rule, model=model, limit=limit, before=before
    )
    return AlertPageOut(
        items=[AlertOut.of(row) for row in page.items], next_cursor=page.next_cursor
    )


def get_alert(alert_id: AlertId, context: Context) -> AlertDetailOut:
    """One alert and its state changes."""
    return AlertDetailOut.with_history(alert_detail(context.engine, alert_id))


def alerts_router() -> APIRouter:
    """The alerts routes."""
    router = APIRouter(prefix=f"{API_PREFIX}/alerts", tags=["alerts"], dependencies=[READ])
    router.add_api_route(
        "",
        list_alerts,
        methods=["GET"],
        summary="List alerts",
        response_model=AlertPageOut,
        responses=error_responses(401, 403, 422, 503),
    )
    router.add_api_route(
        "/{alert_id}",
        get_alert,
        methods=["GET"],
        summary="Get an alert and its history",
        response_model=AlertDetailOut,
        responses=error_responses(401, 403, 404, 422, 503),
    )
    return router
