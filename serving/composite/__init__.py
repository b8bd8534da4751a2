"""Composite models: pipelines and ensembles of deployed models, served under their own name.

- :mod:`serving.composite.config`: what is declared (:class:`PipelineConfig`,
  :class:`EnsembleConfig`), held by a :class:`~serving.config.ModelConfig`;
- :mod:`serving.composite.graph`: self-references, cycles and the order to deploy in;
- :mod:`serving.composite.plan`: the declaration checked against the deployed members
  (inputs, outputs, shapes, datatypes) and turned into calls;
- :mod:`serving.composite.combine`: the ensemble combiners (``mean``, ``vote``, custom);
- :mod:`serving.composite.runner`: answering a request by calling the members through
  their batchers, observing the composite as a whole.

Only the declarations are imported here: :mod:`serving.config` needs them, and the other
modules need :mod:`serving.config`.
"""

from __future__ import annotations

from serving.composite.config import (
    BUILTIN_COMBINERS,
    CompositeConfig,
    CompositeError,
    EnsembleConfig,
    PipelineConfig,
    PipelineStep,
)

__all__ = [
    "BUILTIN_COMBINERS",
    "CompositeConfig",
    "CompositeError",
    "EnsembleConfig",
    "PipelineConfig",
    "PipelineStep",
]
