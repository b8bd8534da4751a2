"""``/api/v1/deliveries``: the delivery log, newest first, paged by id (read scope).

The list leaves payloads out; ``GET /deliveries/{id}`` has the payload and every attempt.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from monitor.api.auth import READ
from monitor.api.context import API_PREFIX, Context
from monitor.api.errors import error_responses
from monitor.api.params import MAX_NAME
from monitor.api.schemas import DeliveryDetailOut, DeliveryOut, DeliveryPageOut
from monitor.api.services.alerts import MAX_ID
from monitor.api.services.deliveries import DeliveryStatus, deliveries_page, delivery_detail
from monitor.api.validation import CONTROL_FREE

__all__ = ["deliveries_router"]

_MAX_PAGE = 1000

DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The delivery's id.")]


def list_deliveries(
    context: Context,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only deliveries in this status.")
    ] = None,
    channel: Annotated[
        str | None,
        Query(
            description="Only deliveries to this channel.",
            max_length=MAX_NAME,
            pattern=CONTROL_FREE,
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_PAGE, description="Deliveries per page.")] = 100,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="The `next_cursor` of the previous page."),
    ] = None,
) -> DeliveryPageOut:
    """Deliveries, newest first, filtered; without their payloads."""
    page = deliveries_page(
        context.engine, status=status, channel=channel, limit=limit, before=before
    )
    return DeliveryPageOut(
        items=[DeliveryOut.of(row) for row in page.items], next_cursor=page.next_cursor
    )


def get_delivery(delivery_id: DeliveryId, context: Context) -> DeliveryDetailOut:
    """One delivery, its payload and its attempts."""
    return DeliveryDetailOut.with_history(delivery_detail(context.engine, delivery_id))


def deliveries_router() -> APIRouter:
    """The delivery log routes."""
    router = APIRouter(prefix=f"{API_PREFIX}/deliveries", tags=["deliveries"], dependencies=[READ])
    router.add_api_route(
        "",
        list_deliveries,
        methods=["GET"],
        summary="List deliveries",
        response_model=DeliveryPageOut,
        responses=error_responses(401, 403, 422, 503),
    )
    router.add_api_route(
        "/{delivery_id}",
        get_delivery,
        methods=["GET"],
        summary="Get a delivery, its payload and its attempts",
        response_model=DeliveryDetailOut,
        responses=error_responses(401, 403, 404, 422, 503),
    )
    return router
