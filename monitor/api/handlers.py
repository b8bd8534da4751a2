"""Exception handlers: every error, from any layer, answered in the one error shape.

========================================  ======  ==========================
error                                      status  code
========================================  ======  ==========================
:class:`ApiError`                          its own its own
request validation (pydantic)              422     ``validation_error``
a JSON body sent as another media type     415     ``unsupported_media_type``
:class:`InvalidRequestError`               422     ``validation_error``
:class:`~monitor.errors.ConfigError`,      422     ``validation_error``
``ValueError`` from a service
:class:`~storage.errors.NotFoundError`     404     ``not_found``
:class:`~storage.errors.ConflictError`,    409     ``conflict``
a unique key hit by a concurrent write
no such route / method                     404/405 ``no_route`` / ``method_not_allowed``
database unreachable                       503     ``database_unavailable``
anything else                              500     ``internal_error`` (logged)
========================================  ======  ==========================
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from monitor.api.context import api_context
from monitor.api.errors import ApiError, ErrorDetail, error_response
from monitor.api.services.errors import InvalidRequestError
from monitor.api.validation import describe_errors, summarize
from storage.errors import ConflictError, DatabaseConnectionError, NotFoundError

__all__ = ["exception_handlers"]

logger = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


async def _api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
    if isinstance(exc.body, bytes) and not _is_json(request.headers.get("content-type")):
        got = request.headers.get("content-type")
        message = (
            "send the body as JSON with Content-Type application/json; "
            f"got {repr(got) if got else 'none'}"
        )
        return error_response(415, "unsupported_media_type", message)
    details = describe_errors(exc.errors(), exc.body)
    return error_response(422, "validation_error", summarize(details), details=details)


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").partition(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def _invalid_request(request: Request, exc: InvalidRequestError) -> Response:
    details = [ErrorDetail(loc=list(exc.loc), message=exc.message)]
    return error_response(422, "validation_error", summarize(details), details=details)


async def _value_error(request: Request, exc: ValueError) -> Response:
    if isinstance(exc, ValidationError):
        details = describe_errors(exc.errors(include_url=False))
        return error_response(422, "validation_error", summarize(details), details=details)
    return error_response(422, "validation_error", str(exc))


async def _not_found(request: Request, exc: NotFoundError) -> Response:
    return error_response(404, "not_found", str(exc))


async def _conflict(request: Request, exc: ConflictError) -> Response:
    return error_response(409, "conflict", str(exc))


async def _integrity(request: Request, exc: IntegrityError) -> Response:
    logger.info("%s %s hit a unique key: %s", request.method, request.url.path, exc.orig)
    message = "the change conflicts with a concurrent one (a name was just taken); retry"
    return error_response(409, "conflict", message)


async def _unavailable(request: Request, exc: Exception) -> Response:
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    message = (
        str(exc)
        if isinstance(exc, DatabaseConnectionError)
        else "the database is unavailable; retry later"
    )
    return error_response(503, "database_unavailable", message, headers={"Retry-After": "5"})


async def _http(request: Request, exc: HTTPException) -> Response:
    method, path = request.method, request.url.path
    if exc.status_code == 404:
        message = f"no route {method} {path}; the API lives under /api/v1 (see /docs)"
        return error_response(404, "no_route", message)
    if exc.status_code == 405:
        allowed = ", ".join(api_context(request).allowed_methods(path))
        message = f"method {method} is not allowed on {path}; allowed: {allowed or 'none'}"
        return error_response(405, "method_not_allowed", message, headers={"Allow": allowed})
    if exc.status_code == 400:  # a body FastAPI could not even decode
        details = [ErrorDetail(loc=["body"], message=f"cannot be parsed: {exc.detail}")]
        return error_response(422, "validation_error", summarize(details), details=details)
    code = "http_" + str(exc.status_code)
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _internal(request: Request, exc: Exception) -> Response:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error; the server log has the details")


def exception_handlers() -> dict[int | type[Exception], Handler]:
    """The handlers to give ``FastAPI(exception_handlers=...)``; the most specific class wins."""
    return {
        ApiError: _api_error,
        RequestValidationError: _request_invalid,
        InvalidRequestError: _invalid_request,
        ValueError: _value_error,
        NotFoundError: _not_found,
        ConflictError: _conflict,
        IntegrityError: _integrity,
        DatabaseConnectionError: _unavailable,
        OperationalError: _unavailable,
        HTTPException: _http,
        Exception: _internal,
    }
