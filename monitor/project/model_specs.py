"""The ``models`` section: what each monitored model predicts and which features it reads."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from monitor.errors import NotDeclaredError
from monitor.project._base import Slug, Spec, Text, check_unique, spec_error
from monitor.project.collection_specs import CollectionSpec
from monitor.project.serving_specs import ServingSpec

__all__ = ["FeatureKind", "FeatureSpec", "ModelSpec", "Task"]

Task = Literal["binary_classification", "multiclass_classification", "regression"]
FeatureKind = Literal["numeric", "categorical", "text", "embedding"]


def _int_to_str(value: object) -> object:
    """Read ``1`` as ``"1"`` (labels written unquoted); leave ``True`` for the type check."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Label = Annotated[Text, BeforeValidator(_int_to_str)]


class FeatureSpec(Spec):
    """One input feature of a model."""

    name: Text
    """Column name, unique within the model."""
    kind: FeatureKind
    """How values are stored and compared."""
    dims: int | None = Field(default=None, ge=1, le=65536)
    """Vector length; required for ``embedding`` features and forbidden for the others."""

    @model_validator(mode="after")
    def _check_dims(self) -> Self:
        if self.kind == "embedding" and self.dims is None:
            raise spec_error("required for embedding features", at=("dims",))
        if self.kind != "embedding" and self.dims is not None:
            msg = f"only allowed for embedding features, not {self.kind}"
            raise spec_error(msg, at=("dims",), got=self.dims, got_mode="value")
        return self


class ModelSpec(Spec):
    """A monitored model."""

    name: Slug
    """Unique name of the model."""
    task: Task
    """What the model predicts."""
    classes: tuple[Label, ...] | None = None
    """Class labels: exactly 2 for binary, at least 3 for multiclass, none for regression."""
    version: Label = "1"
    """Label of the model version currently served."""
    features: tuple[FeatureSpec, ...] = Field(min_length=1)
    """Input features, with unique names."""
    description: str | None = None
    """Free text shown in dashboards."""
    serving: ServingSpec | None = None
    """How ``driftline serve`` loads and batches the model; absent for models served
    elsewhere (recorded through the sidecar or the ingest API)."""
    collection: CollectionSpec | None = None
    """How the sidecar finds the model in another server's traffic (its reverse proxy and
    CloudEvents), when the defaults miss it."""

    @model_validator(mode="after")
    def _check_classes(self) -> Self:
        classes = self.classes
        if self.task == "regression":
            if classes is not None:
                raise spec_error("not allowed for regression models", at=("classes",))
            return self
        if classes is None:
            raise spec_error(f"required for {self.task} models", at=("classes",))
        binary = self.task == "binary_classification"
        if (binary and len(classes) != 2) or (not binary and len(classes) < 3):
            wanted = "exactly 2" if binary else "at least 3"
            msg = f"must list {wanted} classes for {self.task}, got {len(classes)}"
            raise spec_error(msg, at=("classes",))
        check_unique(classes, ("classes",), "class")
        return self

    @model_validator(mode="after")
    def _check_features(self) -> Self:
        names = [feature.name for feature in self.features]
        check_unique(names, ("features",), "feature name", field="name")
        return self

    @model_validator(mode="after")
    def _check_servable(self) -> Self:
        if self.serving is not None and any(f.kind == "embedding" for f in self.features):
            msg = "models with embedding features cannot be served by driftline serve yet"
            raise spec_error(msg, at=("serving",))
        return self

    @model_validator(mode="after")
    def _check_learning(self) -> Self:
        if self.serving is None or self.serving.learning != "online":
            return self
        kinds = sorted({f.kind for f in self.features} - {"numeric"})
        if kinds:
            msg = f"online learning needs numeric features; this model has {', '.join(kinds)}"
            raise spec_error(msg, at=("serving", "learning"))
        return self

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the features, in declaration order."""
        return tuple(feature.name for feature in self.features)

    def feature(self, name: str) -> FeatureSpec:
        """The feature called ``name``.

        Raises
        ------
        NotDeclaredError
            If the model has no such feature.
        """
        for feature in self.features:
            if feature.name == name:
                return feature
        features = ", ".join(self.feature_names)
        msg = f"model {self.name!r} has no feature {name!r}; features: {features}"
        raise NotDeclaredError(msg)
