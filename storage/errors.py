"""Errors raised by the storage layer.

Messages say what was wrong, where, what was expected and what was got. None carries an
HTTP status: mapping to a transport is the caller's business.
"""

from __future__ import annotations

__all__ = [
    "DatabaseConnectionError",
    "DatabaseURLError",
    "InvalidBatchError",
    "MigrationError",
    "NotFoundError",
    "StorageError",
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


class InvalidBatchError(StorageError, ValueError):
    """A batch of records does not fit the model version it is written for."""
