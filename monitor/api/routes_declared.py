"""The five routes of a resource declared in the project file or through the API.

Monitors and alert rules are both: listed and read with the ``read`` scope; created,
replaced and deleted with ``admin``; a change to one the project file declares is a 409.
:func:`declared_routes` registers the five routes with the same statuses for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response

from monitor.api.auth import ADMIN, READ
from monitor.api.errors import created_response, error_responses

__all__ = ["DeclaredResource", "declared_routes"]


@dataclass(frozen=True, slots=True)
class DeclaredResource:
    """A resource's handlers, its answer models, and how its summaries name it."""

    #: ``a monitor``, ``an alert rule``: the summaries' wording.
    one: str
    #: ``monitors``, ``alert rules``.
    many: str
    #: The ``Location`` header's noun in the 201 answer's description.
    location_noun: str
    list_items: Callable[..., Any]
    create: Callable[..., Any]
    get_one: Callable[..., Any]
    replace: Callable[..., Any]
    delete: Callable[..., Any]
    listing: type
    item: type


def declared_routes(router: APIRouter, resource: DeclaredResource) -> APIRouter:
    """Add list, create, get, replace and delete of ``resource`` to ``router``."""
    router.add_api_route(
        "",
        resource.list_items,
        methods=["GET"],
        summary=f"List {resource.many}",
        response_model=resource.listing,
        dependencies=[READ],
        responses=error_responses(401, 403, 422, 503),
    )
    router.add_api_route(
        "",
        resource.create,
        methods=["POST"],
        summary=f"Create {resource.one}",
        response_model=resource.item,
        status_code=201,
        dependencies=[ADMIN],
        responses={
            **created_response(resource.location_noun),
            **error_responses(401, 403, 409, 415, 422, 503),
        },
    )
    router.add_api_route(
        "/{name}",
        resource.get_one,
        methods=["GET"],
        summary=f"Get {resource.one}",
        response_model=resource.item,
        dependencies=[READ],
        responses=error_responses(401, 403, 404, 422, 503),
    )
    router.add_api_route(
        "/{name}",
        resource.replace,
        methods=["PUT"],
        summary=f"Replace {resource.one}",
        response_model=resource.item,
        dependencies=[ADMIN],
        responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    )
    router.add_api_route(
        "/{name}",
        resource.delete,
        methods=["DELETE"],
        summary=f"Delete {resource.one}",
        status_code=204,
        response_class=Response,
        dependencies=[ADMIN],
        responses={
            204: {"description": "Deleted."},
            **error_responses(401, 403, 404, 409, 422, 503),
        },
    )
    return router
