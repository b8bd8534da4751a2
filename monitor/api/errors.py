"""The API's single error shape, its OpenAPI documentation, and HTTP-level refusals.

Every error answer is ``{"error": "<one line for people>", "code": "<for programs>"}``, plus
``"details": [{"loc": [...], "message": "..."}]`` on a 422 when the fields at fault are
known. :class:`ApiError` is for refusals that only make sense in HTTP (a missing token, an
unsupported media type, a body over the limit); domain errors stay HTTP-free and are mapped
in :mod:`monitor.api.handlers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

__all__ = [
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "created_response",
    "error_response",
    "error_responses",
]


class ErrorDetail(BaseModel):
    """One field at fault in a request."""

    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then the field path.",
        examples=[["body", "schedule", "every"]],
    )
    message: str = Field(examples=["must be at least 10s, got '5s'"])


class ErrorBody(BaseModel):
    """What every error answer holds."""

    error: str = Field(description="What went wrong, in one line.")
    code: str = Field(
        description="A stable machine-readable code: `missing_token`, `invalid_token`, "
        "`insufficient_scope`, `not_found`, `no_route`, `method_not_allowed`, `conflict`, "
        "`payload_too_large`, `unsupported_media_type`, `validation_error`, "
        "`database_unavailable` or `internal_error`."
    )
    details: list[ErrorDetail] | None = Field(
        default=None, description="The fields at fault (validation errors only)."
    )


class ApiError(Exception):
    """A refusal decided by the HTTP layer, with its status, code and headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {self.message!r})"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: list[ErrorDetail] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error answer in the API's shape."""
    body = ErrorBody(error=message, code=code, details=details)
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
    )


_BEARER_HEADER: Final = {
    "WWW-Authenticate": {
        "description": "`Bearer`, with `error=` and `scope=` as RFC 6750 describes.",
        "schema": {"type": "string"},
    }
}
_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "The request is malformed.",
    401: "No bearer token, or one that is unknown, revoked or expired.",
    403: "The token lacks the scope this operation needs (`read` or `admin`).",
    404: "The object named in the path does not exist.",
    409: "The change conflicts with what exists (a name taken, a project-file monitor).",
    413: "The request body is larger than the API accepts.",
    415: "The request body's media type is not one this operation reads.",
    422: "A parameter or body field is invalid; `details` says which and why.",
    503: "The database is unavailable; retry later.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given error statuses, all :class:`ErrorBody`."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status in (401, 403):
            entry["headers"] = _BEARER_HEADER
        responses[status] = entry
    return responses


def created_response(what: str, description: str = "Created.") -> dict[int | str, dict[str, Any]]:
    """The documented 201 answer whose ``Location`` header is the URL of ``what``."""
    location = {"description": f"The {what}'s URL.", "schema": {"type": "string"}}
    return {201: {"description": description, "headers": {"Location": location}}}
