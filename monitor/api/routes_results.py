"""``/api/v1/results`` and ``/api/v1/monitors/{name}/results``: monitor results, paged.

Pages run newest window first; ``next_cursor`` of one page is the ``cursor`` of the next,
and is null on the last. Filters on windows take ISO-8601 instants with a timezone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from monitor.api.auth import READ
from monitor.api.context import API_PREFIX, Context
from monitor.api.errors import error_responses
from monitor.api.params import MAX_NAME, MonitorName, UtcDatetime
from monitor.api.schemas import ResultOut, ResultPageOut
from monitor.api.services.results import ResultQuery, results_page
from monitor.api.validation import CONTROL_FREE
from storage.repositories.monitors import ResultPage, ResultStatus

__all__ = ["results_router"]

_MAX_PAGE = 1000


def page_query(
    start: Annotated[
        UtcDatetime | None,
        Query(description="Only windows starting at or after this instant (with a timezone)."),
    ] = None,
    end: Annotated[
        UtcDatetime | None,
        Query(description="Only windows ending at or before this instant (with a timezone)."),
    ] = None,
    status: Annotated[
        ResultStatus | None, Query(description="Only results of this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_PAGE, description="Results per page.")] = 100,
    cursor: Annotated[
        str | None,
        Query(description="The `next_cursor` of the previous page.", max_length=MAX_NAME),
    ] = None,
    details: Annotated[bool, Query(description="Include per-feature details.")] = False,
) -> ResultQuery:
    """The filters both result routes share."""
    return ResultQuery(
        start=start, end=end, status=status, limit=limit, cursor=cursor, details=details
    )


PageQuery = Annotated[ResultQuery, Depends(page_query)]


def all_results(
    context: Context,
    query: PageQuery,
    model: Annotated[
        str | None,
        Query(description="Only this model's results.", max_length=MAX_NAME, pattern=CONTROL_FREE),
    ] = None,
    monitor: Annotated[
        str | None,
        Query(
            description="Only this monitor's results.", max_length=MAX_NAME, pattern=CONTROL_FREE
        ),
    ] = None,
) -> ResultPageOut:
    """Results of every monitor, filtered."""
    query = replace(query, model=model, monitor=monitor)
    return _page(results_page(context.engine, context.sessions, query))


def monitor_results(name: MonitorName, context: Context, query: PageQuery) -> ResultPageOut:
    """Results of one monitor."""
    query = replace(query, monitor=name)
    return _page(results_page(context.engine, context.sessions, query, monitor_in_path=True))


def _page(page: ResultPage) -> ResultPageOut:
    return ResultPageOut(
        items=[ResultOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )


def results_router() -> APIRouter:
    """The results routes."""
    router = APIRouter(prefix=API_PREFIX, tags=["results"], dependencies=[READ])
    router.add_api_route(
        "/results",
        all_results,
        methods=["GET"],
        summary="List results",
        response_model=ResultPageOut,
        responses=error_responses(401, 403, 422, 503),
    )
    router.add_api_route(
        "/monitors/{name}/results",
        monitor_results,
        methods=["GET"],
        summary="List a monitor's results",
        response_model=ResultPageOut,
        responses=error_responses(401, 403, 404, 422, 503),
    )
    return router
