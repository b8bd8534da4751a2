"""Composite models as plain frozen values: pipelines and ensembles of deployed models.

A composite is deployed like a model (a :class:`~serving.config.ModelConfig` whose
``composite`` is one of these) and served under its own name; its members are other deployed
models, called through their own batchers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from serving.errors import RuntimeLoadError

__all__ = [
    "BUILTIN_COMBINERS",
    "CompositeConfig",
    "CompositeError",
    "EnsembleConfig",
    "PipelineConfig",
    "PipelineStep",
]

BUILTIN_COMBINERS: Final = ("mean", "vote")
"""Combiners an ensemble names without a ``package.module:function`` reference."""

_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


class CompositeError(RuntimeLoadError):
    """A composite that cannot be deployed: unknown or undeployed member, a cycle, a mapping
    to a missing input or output, members whose shapes or datatypes do not fit together."""


@dataclass(frozen=True, slots=True)
class PipelineStep:
    """One model of a pipeline.

    Attributes
    ----------
    model
        The deployed model (or composite) this step calls, at its default version.
    inputs
        Where the step's inputs come from: the pipeline's features for the first step, the
        previous step's outputs for the others. A mapping ``{input: source}`` names them
        (inputs left out are taken from the source of the same name); one source name
        means its ``[rows, m]`` matrix is all of the step's features, in their order; None
        takes every input from the source of the same name.
    """

    model: str
    inputs: str | Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Models called one after the other, each on what the one before it answered.

    Attributes
    ----------
    steps
        The models, in order; at least one.
    outputs
        The pipeline's outputs as ``{output: output of the last step}``; None: every output
        of the last step under its own name.
    """

    steps: tuple[PipelineStep, ...]
    outputs: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise CompositeError("pipeline: steps: expected at least one step")
        if self.outputs is not None and not self.outputs:
            raise CompositeError("pipeline: outputs: expected at least one output, or none")

    @property
    def kind(self) -> str:
        return "pipeline"

    @property
    def members(self) -> tuple[str, ...]:
        """The models the pipeline calls, in order (a model may appear twice)."""
        return tuple(step.model for step in self.steps)


@dataclass(frozen=True, slots=True)
class EnsembleConfig:
    """Models called side by side on the same features, their answers combined.

    Attributes
    ----------
    members
        The models, at least two, each once; vote ties go to the earliest.
    combine
        ``mean`` (element-wise, as FP64), ``vote`` (per row, the label most members
        predicted; a tie goes to the label of the earliest member in ``members`` among the
        tied ones), or ``package.module:function`` called as ``function(values)`` with one
        array per member (in ``members`` order) and returning the combined array.
    outputs
        The member outputs to combine, each one an output of the ensemble under the same
        name; empty: the members' class probabilities for ``mean`` (else their prediction),
        their prediction for ``vote`` and a custom combiner, as the first member names them.
    """

    members: tuple[str, ...]
    combine: str = "mean"
    outputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.members) < 2:
            raise CompositeError("ensemble: members: expected at least two models")
        for i, member in enumerate(self.members):
            if member in self.members[:i]:
                raise CompositeError(f"ensemble: members[{i}]: {member!r} is listed twice")
        if self.combine not in BUILTIN_COMBINERS and not _REFERENCE.fullmatch(self.combine):
            raise CompositeError(
                f"ensemble: combine: expected mean, vote or 'package.module:function', "
                f"got {self.combine!r}"
            )
        if len(set(self.outputs)) != len(self.outputs):
            raise CompositeError("ensemble: outputs: an output is listed twice")

    @property
    def kind(self) -> str:
        return "ensemble"


CompositeConfig = PipelineConfig | EnsembleConfig
"""What a :class:`~serving.config.ModelConfig` of a composite holds."""
