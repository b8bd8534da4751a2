"""Composite models in the ``serving`` block: pipelines and ensembles of the file's models.

The blocks themselves (:class:`PipelineSpec`, :class:`EnsembleSpec`) and the checks that
need the whole ``models`` section (:func:`check_composites`): members are served models of
the file, a composite does not name itself or call itself back, and the inputs a mapping
names exist. Output names depend on the loaded model files and are checked by
``driftline serve`` when it deploys the composite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, model_validator

from monitor.project._base import Loc, Slug, Spec, Text, spec_error

if TYPE_CHECKING:
    from monitor.project.model_specs import ModelSpec

__all__ = ["EnsembleSpec", "PipelineSpec", "StepSpec", "check_composites"]

_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def _check_combine(value: str) -> str:
    if value not in ("mean", "vote") and _REFERENCE.fullmatch(value) is None:
        raise spec_error("must be mean, vote or 'package.module:function'")
    return value


class StepSpec(Spec):
    """One model of a pipeline."""

    model: Slug
    """A model of the file with a ``serving`` block (or another composite)."""
    inputs: Text | dict[Text, Text] | None = None
    """Where the step's inputs come from: ``{input: source}`` (inputs not named come from
    the source of the same name), or one source name whose ``[rows, m]`` matrix is all of
    the step's features. Sources are the pipeline's features for the first step, the
    previous step's outputs for the others."""


class PipelineSpec(Spec):
    """Models called one after the other, each on the previous one's outputs."""

    steps: tuple[StepSpec, ...] = Field(min_length=1)
    """The models, in order."""
    outputs: dict[Text, Text] | None = Field(default=None, min_length=1)
    """The pipeline's outputs, ``{output: output of the last step}``; by default every
    output of the last step."""


class EnsembleSpec(Spec):
    """Models called side by side on the same features, their answers combined."""

    members: tuple[Slug, ...] = Field(min_length=2)
    """The models, each once."""
    combine: Annotated[str, AfterValidator(_check_combine)] = "mean"
    """``mean``, ``vote`` or ``package.module:function(values) -> array``."""
    outputs: tuple[Text, ...] = ()
    """The member outputs to combine; by default the probabilities for ``mean``, the
    prediction otherwise."""

    @model_validator(mode="after")
    def _check_unique(self) -> EnsembleSpec:
        for i, member in enumerate(self.members):
            if member in self.members[:i]:
                raise spec_error(f"{member!r} is listed twice", at=("members", i))
        return self


def check_composites(models: Sequence[ModelSpec]) -> None:
    """Check the members of every composite against the declared models.

    Raises
    ------
    pydantic_core.PydanticCustomError
        At the offending member or mapping (``models[2].serving.pipeline.steps[1].model``).
    """
    by_name = {model.name: model for model in models}
    for index, model in enumerate(models):
        serving = model.serving
        if serving is None or (serving.pipeline is None and serving.ensemble is None):
            continue
        at: Loc = ("models", index, "serving")
        if serving.pipeline is not None:
            for position, step in enumerate(serving.pipeline.steps):
                where: Loc = (*at, "pipeline", "steps", position)
                member = _member(model, step.model, by_name, (*where, "model"))
                _check_inputs(model, member, step.inputs, first=position == 0, at=where)
        elif serving.ensemble is not None:
            for position, name in enumerate(serving.ensemble.members):
                member = _member(model, name, by_name, (*at, "ensemble", "members", position))
                _check_inputs(model, member, None, first=True, at=at)
        cycle = _cycle(model.name, by_name)
        if cycle:
            raise spec_error(f"its members call it back: {' → '.join(cycle)}", at=at)


def _member(composite: ModelSpec, name: str, models: Mapping[str, ModelSpec], at: Loc) -> ModelSpec:
    if name == composite.name:
        raise spec_error("a composite cannot name itself as a member", at=at)
    member = models.get(name)
    if member is None:
        listing = ", ".join(models) or "(none)"
        raise spec_error(f"unknown model {name!r}; declared models: {listing}", at=at)
    if member.serving is None:
        raise spec_error(
            f"model {name!r} has no serving block; driftline serve cannot call it", at=at
        )
    return member


def _check_inputs(
    composite: ModelSpec,
    member: ModelSpec,
    inputs: str | dict[str, str] | None,
    *,
    first: bool,
    at: Loc,
) -> None:
    """The inputs a mapping names are the member's; a first step's (or an ensemble
    member's) sources are the composite's features, of the same kind."""
    own = {feature.name: feature.kind for feature in member.features}
    if isinstance(inputs, str):
        if first:
            msg = (
                "the first step reads the pipeline's features; map them by name ({input: feature})"
            )
            raise spec_error(msg, at=(*at, "inputs"))
        return
    mapping = inputs or {}
    for key in mapping:
        if key not in own:
            msg = f"model {member.name!r} has no input {key!r}; its features: {', '.join(own)}"
            raise spec_error(msg, at=(*at, "inputs", key))
    if not first:
        return
    features = {feature.name: feature.kind for feature in composite.features}
    for name, kind in own.items():
        source = mapping.get(name, name)
        where = (*at, "inputs", name) if name in mapping else at
        if source not in features:
            msg = (
                f"input {name!r} of model {member.name!r}: {composite.name!r} has no feature "
                f"{source!r}; its features: {', '.join(features)}"
            )
            raise spec_error(msg, at=where)
        if kind == "numeric" and features[source] != "numeric":
            msg = (
                f"input {name!r} of model {member.name!r} is numeric, but feature {source!r} "
                f"of {composite.name!r} is {features[source]}"
            )
            raise spec_error(msg, at=where)


def _members(model: ModelSpec) -> tuple[str, ...]:
    serving = model.serving
    if serving is None:
        return ()
    if serving.pipeline is not None:
        return tuple(step.model for step in serving.pipeline.steps)
    return serving.ensemble.members if serving.ensemble is not None else ()


def _cycle(start: str, models: Mapping[str, ModelSpec]) -> tuple[str, ...]:
    """A path of member calls from ``start`` back to it, or ``()``."""
    stack: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for member in _members(models[name]) if name in models else ():
            if member == start:
                return (*path, member)
            if member not in seen:
                seen.add(member)
                stack.append((member, (*path, member)))
    return ()
