"""Errors raised by the storage layer.

Messages say what was wrong, where, what was expected and what was got. None carries an
HTTP status: mapping to a transport is the caller's business.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DatabaseConnectionError",
    "DatabaseURLError",
    "InvalidBatchError",
    "InvalidTokenError",
    "MigrationError",
    "NotFoundError",
    "ScopeError",
    "StorageError",
    "TokenError",
    "TokenSpecError",
]


class StorageError(Exception):
    """Root of every error raised by :mod:`storage`."""


class DatabaseURLError(StorageError, ValueError):
    """The database URL is malformed or names a back end Driftline does not support."""


class DatabaseConnectionError(StorageError, ConnectionError):
    """The database named by a well-formed URL cannot be reached or opened."""


class MigrationError(StorageError):
    """The schema cannot be brought to, or checked against, the wanted revision."""


class NotFoundError(StorageError, LookupError):
    """A named object (model, model version, reference dataset, ...) does not exist."""


class ConflictError(StorageError):
    """A named object already exists, or exists in a form that forbids the change asked."""


class InvalidBatchError(StorageError, ValueError):
    """A batch of records does not fit the model version it is written for."""


class TokenSpecError(StorageError, ValueError):
    """An API token cannot be created or revoked as asked.

    A bad name, scope or expiry, a name already taken, or a token already revoked.
    """


class TokenError(StorageError):
    """A bearer token does not grant the request: the root of the two reasons below."""


class InvalidTokenError(TokenError):
    """The token is not a valid one: unknown, revoked, expired or malformed.

    The message is the same whatever the reason, so that a caller learns nothing about
    which tokens exist; :attr:`reason` tells the logs which it was.
    """

    MESSAGE = "invalid API token: unknown, revoked or expired"

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        #: ``"malformed"``, ``"unknown"``, ``"revoked"`` or ``"expired"``; for logs only.
        self.reason = reason

    def __repr__(self) -> str:
        return f"InvalidTokenError(reason={self.reason!r})"

    def __reduce__(self) -> tuple[type[InvalidTokenError], tuple[str]]:
        return type(self), (self.reason,)


class ScopeError(TokenError):
    """A valid token lacks the scope the request needs."""

    def __init__(self, name: str, required: str, granted: tuple[str, ...]) -> None:
        have = ", ".join(granted) or "none"
        super().__init__(f"API token {name!r} lacks the {required!r} scope; it has: {have}")
        self.name = name
        self.required = required
        self.granted = granted

    def __reduce__(self) -> tuple[type[ScopeError], tuple[str, str, tuple[str, ...]]]:
        return type(self), (self.name, self.required, self.granted)
