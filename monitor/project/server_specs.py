"""The top-level ``serving`` section: how ``driftline serve`` runs, for every model it serves.

Each model's own ``serving`` block says how that model is loaded and batched; this one is
about the server's processes.
"""

from __future__ import annotations

from pydantic import Field

from monitor.project._base import Spec

__all__ = ["ServerSpec"]


class ServerSpec(Spec):
    """The inference server's processes."""

    workers: int = Field(default=1, ge=1, le=64)
    """Worker processes sharing the server's ports (HTTP parsing, JSON and the models'
    Python code then run on that many cores); ``DRIFTLINE_SERVE_WORKERS`` and
    ``--workers`` override it."""
    grace_period_seconds: float = Field(default=30.0, gt=0, le=3600)
    """On SIGTERM or Ctrl-C, how long requests in flight may take to finish before the
    server stops them; ``DRIFTLINE_SERVE_GRACE_SECONDS`` and ``--grace-period`` override
    it."""
