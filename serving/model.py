"""A deployed model version: its runtime wrapped with the declared hooks and metadata."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from numpy.typing import NDArray

from serving.config import ModelConfig
from serving.errors import InvalidRequestError, RuntimeLoadError
from serving.runtimes.base import Runtime
from serving.runtimes.python import import_attribute

__all__ = ["LoadedModel", "resolve_callable"]

logger = logging.getLogger(__name__)

Preprocess = Callable[[NDArray[Any]], NDArray[Any]]
Postprocess = Callable[[NDArray[Any], dict[str, NDArray[Any]]], dict[str, NDArray[Any]]]


class LoadedModel:
    """A runtime plus its pre- and post-processing hooks; predicts one batch at a time."""

    def __init__(self, config: ModelConfig, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime
        self.output_names = tuple(spec.name for spec in runtime.outputs)
        self._preprocess: Preprocess | None = (
            resolve_callable(config.preprocess, what="preprocess") if config.preprocess else None
        )
        self._postprocess: Postprocess | None = (
            resolve_callable(config.postprocess, what="postprocess") if config.postprocess else None
        )

    def check_outputs(self, requested: tuple[str, ...] | None) -> tuple[str, ...]:
        """The outputs to compute for a request: all when none were named."""
        if requested is None:
            return self.output_names
        unknown = [name for name in requested if name not in self.output_names]
        if unknown:
            raise InvalidRequestError(
                f"outputs: unknown output(s) {', '.join(unknown)} of model "
                f"{self.config.name!r}; available: {', '.join(self.output_names)}"
            )
        return requested

    def predict(self, features: NDArray[Any], outputs: tuple[str, ...]) -> dict[str, NDArray[Any]]:
        """Run the hooks and the runtime on one batch (called on the model's worker thread)."""
        model_input = self._preprocess(features) if self._preprocess else features
        result = self.runtime.predict(model_input, outputs)
        if self._postprocess:
            result = self._postprocess(features, result)
        return result

    def metadata(self) -> dict[str, Any]:
        """The OIP model metadata document."""
        features = self.config.features
        if features:
            inputs = [
                {
                    "name": feature.name,
                    "datatype": "FP64" if feature.kind == "numeric" else "BYTES",
                    "shape": [-1],
                }
                for feature in features
            ]
        else:
            inputs = [{"name": "input-0", "datatype": "FP64", "shape": [-1, -1]}]
        return {
            "name": self.config.name,
            "versions": [self.config.version],
            "platform": self.runtime.platform,
            "inputs": inputs,
            "outputs": [spec.to_dict() for spec in self.runtime.outputs],
            "parameters": {"roles": dict(self.runtime.roles)},
        }

    def close(self) -> None:
        """Release the runtime."""
        try:
            self.runtime.close()
        except Exception:  # process boundary: a failing close must not stop an undeploy
            logger.exception("closing model %s version %s", self.config.name, self.config.version)


def resolve_callable(reference: str, *, what: str) -> Any:
    """Import ``package.module:attribute`` and return the attribute, which must be callable."""
    target = import_attribute(reference, what=f"{what} {reference!r}")
    if not callable(target):
        raise RuntimeLoadError(f"{what} {reference!r}: not callable")
    return target
