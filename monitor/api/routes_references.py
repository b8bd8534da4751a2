"""``/api/v1/models/{model}/references``: reference datasets (read scope; admin to change).

An upload is the raw file as the request body, CSV (``text/csv``) or Parquet
(``application/vnd.apache.parquet``; ``application/octet-stream`` is sniffed). It is checked
against the model version's features and stored as Parquet.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from monitor.api.auth import ADMIN, READ
from monitor.api.context import API_PREFIX, Context
from monitor.api.errors import ApiError, created_response, error_responses
from monitor.api.params import MAX_NAME, ModelName, ReferenceName
from monitor.api.schemas import ReferenceList, ReferenceOut
from monitor.api.services.references import upload
from monitor.api.validation import CONTROL_FREE
from monitor.references import FileFormat
from storage.repositories.references import (
    REFERENCE_NAME_RULE,
    delete_reference,
    get_reference,
    list_references,
)

__all__ = ["MEDIA_TYPES", "references_router"]

#: Media types an upload may have, and the file format each means (None: sniffed).
MEDIA_TYPES: Final[dict[str, FileFormat | None]] = {
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/octet-stream": None,
}
_BODY_DOC: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "The file: CSV with a header row, or Parquet.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def list_all(model: ModelName, context: Context) -> ReferenceList:
    """A model's reference datasets, by name."""
    found = list_references(context.engine, model)
    return ReferenceList(items=[ReferenceOut.of(info) for info in found])


def get_one(model: ModelName, name: ReferenceName, context: Context) -> ReferenceOut:
    """One reference dataset's description."""
    return ReferenceOut.of(get_reference(context.engine, model, name))


def delete(model: ModelName, name: ReferenceName, context: Context) -> Response:
    """Delete a reference dataset."""
    delete_reference(context.engine, model, name)
    return Response(status_code=204)


async def create(
    model: ModelName,
    request: Request,
    response: Response,
    context: Context,
    name: Annotated[
        str, Query(description=f"The reference's name: {REFERENCE_NAME_RULE}.")
    ] = "training",
    version: Annotated[
        str | None,
        Query(
            description="The model version to check the file against (default: the newest).",
            max_length=MAX_NAME,
            pattern=CONTROL_FREE,
        ),
    ] = None,
    replace: Annotated[bool, Query(description="Overwrite a reference of that name.")] = False,
) -> ReferenceOut:
    """Upload a reference dataset: the file is the request body."""
    file_format = _file_format(request.headers.get("content-type"))
    data = await _body(request, context.max_upload_bytes)
    info = await run_in_threadpool(
        upload,
        context.engine,
        context.sessions,
        model,
        data,
        name=name,
        version=version,
        file_format=file_format,
        replace=replace,
    )
    response.headers["Location"] = f"/api/v1/models/{model}/references/{info.name}"
    return ReferenceOut.of(info)


def _file_format(content_type: str | None) -> FileFormat | None:
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        got = f"got {media_type!r}" if media_type else "got none"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the file with Content-Type {', '.join(MEDIA_TYPES)}; {got}",
        )
    return MEDIA_TYPES[media_type]


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit, f"{int(length)} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, "more")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, got: str) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the file is too large: at most {limit} bytes ({limit / 2**20:.1f} MiB) are "
        f"accepted, got {got}",
    )


def references_router() -> APIRouter:
    """The reference dataset routes."""
    router = APIRouter(prefix=API_PREFIX + "/models/{model}/references", tags=["references"])
    router.add_api_route(
        "",
        list_all,
        methods=["GET"],
        summary="List a model's reference datasets",
        response_model=ReferenceList,
        dependencies=[READ],
        responses=error_responses(401, 403, 404, 422, 503),
    )
    router.add_api_route(
        "",
        create,
        methods=["POST"],
        summary="Upload a reference dataset",
        response_model=ReferenceOut,
        status_code=201,
        dependencies=[ADMIN],
        openapi_extra=_BODY_DOC,
        responses={
            **created_response("reference", "Stored."),
            **error_responses(401, 403, 404, 409, 413, 415, 422, 503),
        },
    )
    router.add_api_route(
        "/{name}",
        get_one,
        methods=["GET"],
        summary="Get a reference dataset",
        response_model=ReferenceOut,
        dependencies=[READ],
        responses=error_responses(401, 403, 404, 422, 503),
    )
    router.add_api_route(
        "/{name}",
        delete,
        methods=["DELETE"],
        summary="Delete a reference dataset",
        status_code=204,
        response_class=Response,
        dependencies=[ADMIN],
        responses={
            204: {"description": "Deleted."},
            **error_responses(401, 403, 404, 409, 422, 503),
        },
    )
    return router
