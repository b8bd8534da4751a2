"""Why a server with worker processes could not start, or stopped on its own."""

from __future__ import annotations

from serving.errors import ServingError

__all__ = ["PortTakenError", "WorkerStartupError", "WorkersFailedError"]


class PortTakenError(ServingError, OSError):
    """A port the workers should share is taken, or not an address of this machine."""


class WorkerStartupError(ServingError):
    """A worker failed while starting (a model did not load, the tap could not start)."""


class WorkersFailedError(ServingError):
    """Workers kept dying faster than the restart policy allows; the server stopped."""
