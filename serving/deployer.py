"""Who carries out the model repository API's load and unload: the seam worker processes use.

In one process the :class:`~serving.repository.ModelRepository` itself deploys and undeploys.
With several worker processes (:mod:`serving.workers`), the worker that took the request
hands it to the supervisor, which has every worker do it, so that all of them serve the
same models.
"""

from __future__ import annotations

from typing import Any, Protocol

from serving.config import ModelConfig

__all__ = ["Deployer"]


class Deployer(Protocol):
    """Deploys and undeploys models for the repository API."""

    async def deploy(self, config: ModelConfig) -> Any:
        """Load ``config`` and make it the default version of its model."""

    async def undeploy(self, name: str, version: str | None = None) -> None:
        """Stop serving a model (every version, or one), finishing what is queued."""
