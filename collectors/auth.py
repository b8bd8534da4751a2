"""Bearer tokens on the ingest and feedback routes, checked against the store's tokens."""

from __future__ import annotations

from collectors.errors import AuthenticationError, PermissionDeniedError
from storage.errors import InvalidTokenError, ScopeError
from storage.repositories.token_cache import TokenVerifier

__all__ = ["TokenAuthorizer"]


class TokenAuthorizer:
    """Checks ``Authorization: Bearer <token>`` for a scope (blocking on a cache miss)."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    def __call__(self, authorization: str | None, scope: str) -> None:
        """Return if the header carries a token with ``scope``; raise otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "this route needs 'Authorization: Bearer <token>' "
                f"(create one with: driftline tokens create NAME --scope {scope})"
            )
        try:
            self._verifier.verify(token.strip(), scope=scope)  # type: ignore[arg-type]
        except InvalidTokenError as error:
            raise AuthenticationError(str(error)) from None
        except ScopeError as error:
            raise PermissionDeniedError(str(error)) from None
