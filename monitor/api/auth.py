"""Bearer tokens and scopes on the API: ``read`` to look, ``admin`` to change.

A route declares the scope it needs with :data:`READ` or :data:`ADMIN` (FastAPI ``Security``
dependencies, so OpenAPI shows the scheme and the scope per operation). The check mirrors
the ingest API's (:mod:`collectors.auth`): no or a malformed ``Authorization`` header, or a
token the store does not accept, is a 401 with ``WWW-Authenticate: Bearer``; a valid token
without the scope is a 403 naming the scope. ``admin`` covers ``read``; ``ingest`` and
``feedback`` alone grant nothing here. An app built with ``auth=False`` skips the check.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from monitor.api.context import api_context
from monitor.api.errors import ApiError
from storage.errors import InvalidTokenError, ScopeError
from storage.repositories.tokens import Scope, TokenInfo, check_scope

__all__ = ["ADMIN", "READ", "authorize"]

_BEARER: Final = HTTPBearer(
    scheme_name="bearer",
    description="A Driftline API token (`driftline tokens create NAME --scope read`); "
    "`read` for GET operations, `admin` for changes.",
    auto_error=False,
)


def authorize(
    request: Request,
    security: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> TokenInfo | None:
    """The token of the request, checked for the route's scope; None without auth.

    A plain ``def``: FastAPI runs it in a worker thread, as the verifier may read the store.
    """
    context = api_context(request)
    if context.verifier is None:
        return None
    scope: Scope = check_scope(security.scopes[-1]) if security.scopes else "read"
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(
            401,
            "missing_token",
            f"this operation needs 'Authorization: Bearer <token>' with the {scope!r} scope "
            f"(create one with: driftline tokens create NAME --scope {scope})",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return context.verifier.verify(credentials.credentials.strip(), scope=scope)
    except InvalidTokenError as error:
        raise ApiError(
            401,
            "invalid_token",
            str(error),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except ScopeError as error:
        raise ApiError(
            403,
            "insufficient_scope",
            str(error),
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        ) from None


#: The dependency of operations that read.
READ: Final = Security(authorize, scopes=["read"])
#: The dependency of operations that change monitors or references.
ADMIN: Final = Security(authorize, scopes=["admin"])
