"""Monitor results through the API: filters checked, pages walked by cursor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.api.services.catalog import model_names
from monitor.api.services.errors import InvalidRequestError
from storage.errors import NotFoundError
from storage.repositories.monitors import ResultPage, ResultStatus, get_monitor, list_results

__all__ = ["ResultQuery", "results_page"]

SessionFactory = Callable[[], Session]


@dataclass(frozen=True, slots=True)
class ResultQuery:
    """Which results to list: every filter optional, ``[start, end)`` on the windows."""

    model: str | None = None
    monitor: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    status: ResultStatus | None = None
    limit: int = 100
    cursor: str | None = None
    details: bool = False


def results_page(
    engine: Engine, sessions: SessionFactory, query: ResultQuery, *, monitor_in_path: bool = False
) -> ResultPage:
    """One page of results, newest window first.

    Raises
    ------
    NotFoundError
        If ``monitor_in_path`` and the monitor does not exist.
    InvalidRequestError
        If a filter names an unknown model or monitor, ``end`` is not after ``start``, or
        the cursor is malformed.
    """
    if query.model is not None:
        known = model_names(sessions)
        if query.model not in known:
            msg = f"unknown model {query.model!r}; registered models: {', '.join(known) or 'none'}"
            raise InvalidRequestError(("query", "model"), msg)
    if query.monitor is not None:
        try:
            get_monitor(engine, query.monitor)
        except NotFoundError as error:
            if monitor_in_path:
                raise
            raise InvalidRequestError(("query", "monitor"), str(error)) from None
    if query.start is not None and query.end is not None and query.end <= query.start:
        msg = f"must be after start ({query.start.isoformat()}), got {query.end.isoformat()}"
        raise InvalidRequestError(("query", "end"), msg)
    try:
        return list_results(
            engine,
            model_name=query.model,
            monitor_name=query.monitor,
            start=query.start,
            end=query.end,
            status=query.status,
            limit=query.limit,
            cursor=query.cursor,
            with_details=query.details,
        )
    except ValueError as error:  # a malformed cursor; the rest is checked above
        if query.cursor is None:
            raise
        raise InvalidRequestError(("query", "cursor"), str(error)) from None
