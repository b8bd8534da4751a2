"""A composite as the server sees a model: its outputs, roles and metadata."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from numpy.typing import NDArray

from serving.composite.plan import Plan
from serving.config import ModelConfig
from serving.errors import ServingError
from serving.model import LoadedModel
from serving.runtimes.base import OutputRole, Runtime, TensorSpec

__all__ = ["CompositeModel"]


class _Published(Runtime):
    """What a composite publishes as a model; it computes through its members instead."""

    platform = "driftline_composite"

    def __init__(self, plan: Plan) -> None:
        self._plan = plan

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return self._plan.specs

    @property
    def roles(self) -> Mapping[OutputRole, str]:
        return self._plan.roles

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        raise ServingError("a composite answers through its members, not on a worker thread")


class CompositeModel(LoadedModel):
    """A deployed pipeline or ensemble, addressed, described and observed like a model.

    Its features are the declared ones, or its first member's when none are declared.
    """

    def __init__(self, config: ModelConfig, plan: Plan) -> None:
        super().__init__(dataclasses.replace(config, features=plan.features), _Published(plan))
        self.plan = plan

    def metadata(self) -> dict[str, Any]:
        """The OIP model metadata, with the members under ``parameters.composite``."""
        document = super().metadata()
        document["platform"] = f"driftline_{self.plan.kind}"
        document["parameters"]["composite"] = {
            "kind": self.plan.kind,
            "members": [call.model for call in self.plan.calls],
        }
        return document
