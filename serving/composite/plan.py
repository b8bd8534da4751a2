"""A composite's declaration checked against its deployed members, and turned into calls.

Planning reads each member's declared features and published outputs (its metadata): every
name a mapping uses must exist, a one-column input must be fed a one-column tensor, a
numeric one a numeric tensor, a matrix as wide as the features it feeds, and an ensemble's
combined outputs must have the same shape in every member. What it cannot know before a
request (a width published as ``-1``) is checked when the rows are built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.composite.combine import Combiner, combiner
from serving.composite.config import CompositeError, EnsembleConfig, PipelineConfig
from serving.config import FeatureInput, ModelConfig
from serving.errors import ModelOutputError
from serving.model import LoadedModel
from serving.runtimes.base import OutputRole, TensorSpec

__all__ = ["Call", "Feed", "Lookup", "Plan", "plan"]

Lookup = Callable[[str], LoadedModel | None]
"""The deployed (default) version of a member; None when it is not deployed."""

_NUMBERS = "biuf"


@dataclass(frozen=True, slots=True)
class Feed:
    """How a member's feature rows are made from what came before it.

    One of: the composite's rows as they are (``whole``); some of its columns
    (``indices``); one output of the step before, whose columns are all of the member's
    features (``matrix``); one one-column output per feature (``columns``).
    """

    whole: bool = False
    indices: tuple[int, ...] = ()
    matrix: str | None = None
    columns: tuple[str, ...] = ()
    numeric: bool = True
    """Every feature of the member is numeric: the rows are float64."""

    @property
    def sources(self) -> tuple[str, ...]:
        """The outputs of the step before that this feed reads."""
        return (self.matrix,) if self.matrix is not None else self.columns

    def rows(self, features: NDArray[Any], outputs: Mapping[str, NDArray[Any]]) -> NDArray[Any]:
        """The member's ``(rows, n_features)`` array.

        Raises
        ------
        ModelOutputError
            When an output of the step before has another width than it published.
        """
        if self.whole:
            return features
        if self.indices:
            return _typed(features[:, list(self.indices)], self.numeric)
        try:
            if self.matrix is not None:
                data = outputs[self.matrix]
                return _typed(data.reshape(len(data), -1), self.numeric)
            columns = [outputs[name].reshape(len(outputs[name])) for name in self.columns]
        except ValueError as error:
            raise ModelOutputError(f"an output does not fit the input it feeds: {error}") from None
        if all(column.dtype.kind in _NUMBERS for column in columns):
            return np.column_stack(columns).astype(np.float64, copy=False)
        rows = np.empty((len(columns[0]), len(columns)), dtype=object)
        for j, column in enumerate(columns):
            rows[:, j] = column
        return rows


@dataclass(frozen=True, slots=True)
class _Before:
    """What a member reads: the composite's features, or the outputs of the step before."""

    label: str
    """``the pipeline``, ``step 1 ('scaler')``."""
    specs: Mapping[str, TensorSpec]
    features: tuple[FeatureInput, ...] | None = None
    """The composite's features, when the member reads them."""

    @property
    def first(self) -> bool:
        return self.features is not None

    @property
    def noun(self) -> str:
        return "feature" if self.first else "output"


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a member: which model, on which rows, for which outputs."""

    model: str
    feed: Feed
    outputs: tuple[str, ...]
    what: str
    """The member as messages name it: ``step 2 ('clf')``, ``member 'b'``."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A composite ready to run.

    Attributes
    ----------
    kind
        ``pipeline`` or ``ensemble``.
    calls
        The members' calls: in order (pipeline) or side by side (ensemble).
    outputs
        ``(composite output, member output)`` pairs: from the last step of a pipeline, or the
        combined outputs of an ensemble (same names).
    specs, roles
        The composite's published outputs and their roles.
    features
        The composite's inputs.
    combine
        The ensemble's combiner (None for a pipeline).
    """

    kind: str
    calls: tuple[Call, ...]
    outputs: tuple[tuple[str, str], ...]
    specs: tuple[TensorSpec, ...]
    roles: dict[OutputRole, str]
    features: tuple[FeatureInput, ...]
    combine: Combiner | None = None


def plan(config: ModelConfig, lookup: Lookup) -> Plan:
    """Check ``config``'s composite against its deployed members and plan its calls.

    Raises
    ------
    CompositeError
        Naming the composite, the step or member, the missing name or the shapes that do
        not fit.
    """
    composite = config.composite
    if isinstance(composite, PipelineConfig):
        return _pipeline(config.name, composite, config.features, lookup)
    if isinstance(composite, EnsembleConfig):
        return _ensemble(config.name, composite, config.features, lookup)
    raise CompositeError(f"model {config.name!r} is not a composite")


def _pipeline(
    name: str, config: PipelineConfig, features: tuple[FeatureInput, ...], lookup: Lookup
) -> Plan:
    models = _members(f"pipeline {name!r}", config.members, lookup)
    features = features or models[0].config.features
    before = _Before("the pipeline", _feature_specs(features), features)
    feeds: list[Feed] = []
    for i, (step, model) in enumerate(zip(config.steps, models, strict=True)):
        what = f"pipeline {name!r}, step {i + 1} ({step.model!r})"
        feeds.append(_feed(what, model, step.inputs, before))
        outputs = {spec.name: spec for spec in model.runtime.outputs}
        before = _Before(f"step {i + 1} ({step.model!r})", outputs)
    sources = before.specs
    last = len(models)
    wanted = config.outputs or {spec: spec for spec in sources}
    for output, source in wanted.items():
        if source not in sources:
            raise CompositeError(
                f"pipeline {name!r}: outputs.{output}: step {last} ({config.steps[-1].model!r}) "
                f"has no output {source!r}; its outputs: {', '.join(sources)}"
            )
    asked = [*(feed.sources for feed in feeds[1:]), tuple(dict.fromkeys(wanted.values()))]
    calls = tuple(
        Call(step.model, feed, outputs, f"step {i + 1} ({step.model!r})")
        for i, (step, feed, outputs) in enumerate(zip(config.steps, feeds, asked, strict=True))
    )
    roles: dict[OutputRole, str] = {}
    for role, source in models[-1].runtime.roles.items():
        renamed = next((out for out, src in wanted.items() if src == source), None)
        if renamed is not None:
            roles[role] = renamed
    return Plan(
        kind="pipeline",
        calls=calls,
        outputs=tuple(wanted.items()),
        specs=tuple(
            TensorSpec(out, sources[src].datatype, sources[src].shape)
            for out, src in wanted.items()
        ),
        roles=roles,
        features=features,
    )


def _ensemble(
    name: str, config: EnsembleConfig, features: tuple[FeatureInput, ...], lookup: Lookup
) -> Plan:
    models = _members(f"ensemble {name!r}", config.members, lookup)
    features = features or models[0].config.features
    before = _Before("the ensemble", _feature_specs(features), features)
    what = f"ensemble {name!r}"
    feeds = [
        _feed(f"{what}, member {member!r}", model, None, before)
        for member, model in zip(config.members, models, strict=True)
    ]
    names = config.outputs or (_default_output(config.combine, models[0], what),)
    specs = tuple(_combined_spec(what, config, models, output) for output in names)
    roles = {role: out for role, out in models[0].runtime.roles.items() if out in names}
    return Plan(
        kind="ensemble",
        calls=tuple(
            Call(member, feed, names, f"member {member!r}")
            for member, feed in zip(config.members, feeds, strict=True)
        ),
        outputs=tuple((output, output) for output in names),
        specs=specs,
        roles=roles,
        features=features,
        combine=combiner(config.combine, what=what),
    )


def _members(what: str, names: tuple[str, ...], lookup: Lookup) -> list[LoadedModel]:
    models = []
    for member in names:
        model = lookup(member)
        if model is None:
            raise CompositeError(f"{what}: member {member!r} is not deployed")
        models.append(model)
    return models


def _feed(
    what: str, model: LoadedModel, inputs: str | Mapping[str, str] | None, before: _Before
) -> Feed:
    """How ``model`` gets its rows from what comes ``before`` it."""
    first, sources = before.first, before.specs
    own = model.config.features
    numeric = all(feature.kind == "numeric" for feature in own)
    if isinstance(inputs, str):
        if first:
            raise CompositeError(
                f"{what}: inputs: the first step reads the pipeline's features; map them by "
                "name ({input: feature})"
            )
        return _matrix_feed(what, model, inputs, before)
    mapping = dict(inputs or {})
    names = tuple(feature.name for feature in own) or ("input-0",)
    for key in mapping:
        if key not in names:
            raise CompositeError(
                f"{what}: inputs: {model.config.name!r} has no input {key!r}; "
                f"its inputs: {', '.join(names)}"
            )
    if not own:
        if "input-0" in mapping:
            return _matrix_feed(what, model, mapping["input-0"], before)
        if first:
            return Feed(whole=True)
        if len(sources) == 1:
            return _matrix_feed(what, model, next(iter(sources)), before)
        raise CompositeError(
            f"{what}: {model.config.name!r} takes one [rows, m] input and {before.label} has "
            f"{len(sources)} outputs ({', '.join(sources)}); name one: inputs: <output>"
        )
    if first and not mapping and own == before.features:
        return Feed(whole=True)
    columns = []
    for feature in own:
        source = mapping.get(feature.name, feature.name)
        spec = sources.get(source)
        if spec is None:
            raise CompositeError(
                f"{what}: input {feature.name!r}: {before.label} has no {before.noun} "
                f"{source!r}; its {before.noun}s: {', '.join(sources) or '(none)'} "
                "(map it with inputs)"
            )
        if len(spec.shape) > 2 or (len(spec.shape) == 2 and spec.shape[1] not in (1, -1)):
            raise CompositeError(
                f"{what}: input {feature.name!r} takes one column, but {source!r} of "
                f"{before.label} has shape {list(spec.shape)}"
            )
        if feature.kind == "numeric" and spec.datatype == "BYTES":
            raise CompositeError(
                f"{what}: input {feature.name!r} is numeric, but {source!r} of {before.label} "
                "is BYTES"
            )
        columns.append(source)
    if before.features is not None:
        position = {feature.name: i for i, feature in enumerate(before.features)}
        return Feed(indices=tuple(position[c] for c in columns), numeric=numeric)
    return Feed(columns=tuple(columns), numeric=numeric)


def _matrix_feed(what: str, model: LoadedModel, source: str, before: _Before) -> Feed:
    """All of ``model``'s features from one ``[rows, m]`` output of the step before."""
    spec = before.specs.get(source)
    if spec is None or before.first:
        raise CompositeError(
            f"{what}: inputs: {before.label} has no output {source!r}; its outputs: "
            f"{', '.join(before.specs) if not before.first else '(none)'}"
        )
    own = model.config.features
    width = spec.shape[1] if len(spec.shape) == 2 else 1 if len(spec.shape) == 1 else None
    if width is None or (own and width not in (-1, len(own))):
        raise CompositeError(
            f"{what}: inputs: {source!r} of {before.label} has shape {list(spec.shape)}, but "
            f"{model.config.name!r} takes {len(own) or 'a [rows, m] matrix of'} feature(s)"
        )
    numeric = all(feature.kind == "numeric" for feature in own)
    if numeric and spec.datatype == "BYTES":
        raise CompositeError(
            f"{what}: inputs: {source!r} of {before.label} is BYTES, but {model.config.name!r} "
            "takes numeric features"
        )
    return Feed(matrix=source, numeric=numeric)


def _default_output(combine: str, first: LoadedModel, what: str) -> str:
    roles = first.runtime.roles
    output = (roles.get("probabilities") if combine == "mean" else None) or roles.get("prediction")
    if output is None:
        raise CompositeError(
            f"{what}: member {first.config.name!r} names no prediction output; list the "
            "outputs to combine (outputs: [...])"
        )
    return output


def _combined_spec(
    what: str, config: EnsembleConfig, models: list[LoadedModel], output: str
) -> TensorSpec:
    specs = []
    for model in models:
        published = {spec.name: spec for spec in model.runtime.outputs}
        if output not in published:
            raise CompositeError(
                f"{what}: outputs: member {model.config.name!r} has no output {output!r}; "
                f"its outputs: {', '.join(published)}"
            )
        specs.append(published[output])
    shape = list(specs[0].shape)
    for model, spec in zip(models[1:], specs[1:], strict=True):
        fits = len(spec.shape) == len(shape) and all(
            a == b or -1 in (a, b) for a, b in zip(spec.shape, shape, strict=True)
        )
        if not fits:
            raise CompositeError(
                f"{what}: output {output!r} has shape {list(specs[0].shape)} in member "
                f"{models[0].config.name!r} but {list(spec.shape)} in {model.config.name!r}"
            )
        shape = [b if a == -1 else a for a, b in zip(shape, spec.shape, strict=True)]
    if config.combine == "mean":
        for model, spec in zip(models, specs, strict=True):
            if spec.datatype == "BYTES":
                raise CompositeError(
                    f"{what}: mean of output {output!r}: member {model.config.name!r} gives "
                    "BYTES; mean combines numbers (vote combines labels)"
                )
        return TensorSpec(output, "FP64", tuple(shape))
    if config.combine == "vote":
        if len(shape) > 2 or (len(shape) == 2 and shape[1] not in (1, -1)):
            raise CompositeError(
                f"{what}: vote on output {output!r}: one label per row is needed, the shape "
                f"is {list(specs[0].shape)}"
            )
        for model, spec in zip(models[1:], specs[1:], strict=True):
            if spec.datatype != specs[0].datatype:
                raise CompositeError(
                    f"{what}: vote on output {output!r}: member {models[0].config.name!r} "
                    f"gives {specs[0].datatype} labels, {model.config.name!r} {spec.datatype}"
                )
    return TensorSpec(output, specs[0].datatype, tuple(shape))


def _feature_specs(features: tuple[FeatureInput, ...]) -> dict[str, TensorSpec]:
    return {
        feature.name: TensorSpec(
            feature.name, "FP64" if feature.kind == "numeric" else "BYTES", (-1,)
        )
        for feature in features
    }


def _typed(rows: NDArray[Any], numeric: bool) -> NDArray[Any]:
    if rows.dtype.kind in _NUMBERS or (numeric and rows.dtype == object):
        try:
            return rows.astype(np.float64, copy=False)
        except (TypeError, ValueError):
            return rows
    return rows
