"""Errors raised by the collectors.

Messages say what was wrong, where (file and byte offset for the spool), what was expected and
what was got. None carries an HTTP status: mapping to a transport is the caller's business.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "CollectorError",
    "PayloadError",
    "PermissionDeniedError",
    "PushError",
    "SpoolClosedError",
    "SpoolCorruptError",
    "SpoolFailedError",
    "SpoolFullError",
    "SpoolLockedError",
    "TransportError",
]


class CollectorError(Exception):
    """Root of every error raised by :mod:`collectors`."""


class PayloadError(CollectorError, ValueError):
    """A spool payload is not a record batch :func:`collectors.payload.encode` wrote."""


class SpoolFullError(CollectorError):
    """A batch would take the spool past its disk quota; nothing of it was written."""


class SpoolCorruptError(CollectorError):
    """Spool data on disk fails its checks after recovery (a bad ledger, a frame gone bad)."""


class SpoolLockedError(CollectorError):
    """Another open spool (in this or another process) holds the spool's directory."""


class SpoolFailedError(CollectorError, OSError):
    """A write or fsync failed: the spool refuses appends until it is reopened and recovered."""


class SpoolClosedError(CollectorError, ValueError):
    """The spool was used after :meth:`~collectors.spool.Spool.close`."""


class AuthenticationError(CollectorError):
    """No bearer token, or one the store does not accept (401)."""


class PermissionDeniedError(CollectorError):
    """A valid token without the scope the route needs (403)."""


class TransportError(CollectorError):
    """NATS JetStream is unreachable, timed out or refused a message or a stream setting.

    Whoever publishes retries with backoff (the batches wait in the spool); whoever consumes
    leaves the messages to be redelivered.
    """


class PushError(CollectorError):
    """The sidecar did not take a push of tapped batches (unreachable, timed out, non-2xx).

    The push tap keeps the batches and retries with backoff until its queue fills.
    """
