"""What the API's handlers share, kept in ``app.state`` by the factory (no globals)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.repositories.token_cache import TokenVerifier

__all__ = ["API_PREFIX", "ApiContext", "Context", "api_context"]

#: Where the versioned API lives.
API_PREFIX: Final = "/api/v1"


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The engine and settings one API app serves with."""

    engine: Engine
    sessions: sessionmaker[Session]
    #: Checks bearer tokens; None when the app runs without authentication.
    verifier: TokenVerifier | None
    #: Largest reference upload accepted, in bytes.
    max_upload_bytes: int
    #: Where the API's metrics live; ``GET /metrics`` exposes it.
    registry: CollectorRegistry
    #: Each route's path pattern and methods, for the ``Allow`` header of a 405.
    routes: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = ()

    def allowed_methods(self, path: str) -> list[str]:
        """Every method some route accepts on ``path``, sorted."""
        return sorted(
            {m for pattern, methods in self.routes if pattern.match(path) for m in methods}
        )


def api_context(request: Request) -> ApiContext:
    """The context of the app serving ``request``."""
    context = request.app.state.api
    if not isinstance(context, ApiContext):  # pragma: no cover - set by create_api_app
        msg = "app.state.api is not an ApiContext: build the app with create_api_app"
        raise TypeError(msg)
    return context


#: A handler parameter receiving the :class:`ApiContext`.
Context = Annotated[ApiContext, Depends(api_context)]
