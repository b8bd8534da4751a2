"""Registering models and versions, and looking them up as :class:`ModelHandle` values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.errors import InvalidBatchError, NotFoundError
from storage.models import Model, ModelVersion
from storage.schema import FeatureSchema, FeatureSpec
from storage.types import Task

__all__ = ["ModelHandle", "get_model_version", "list_models", "register_model"]

#: Length of ``models.name`` and ``model_versions.version``.
_MAX_NAME = 63


@dataclass(frozen=True, slots=True)
class ModelHandle:
    """What the write and read paths need to know of one model version."""

    model_id: int
    model_name: str
    task: Task
    classes: tuple[str, ...]
    version_id: int
    version: str
    schema: FeatureSchema

    def class_index(self) -> dict[str, int]:
        """Class label to the index stored in records and labels."""
        return {label: i for i, label in enumerate(self.classes)}


def register_model(
    session: Session,
    *,
    name: str,
    task: Task | str,
    version: str,
    features: Sequence[FeatureSpec],
    classes: Sequence[str] = (),
    description: str | None = None,
) -> ModelHandle:
    """Create the model and version if absent; check they agree if present.

    Registration is idempotent, so every process can register what its project file
    declares on start. The caller commits.

    Raises
    ------
    InvalidBatchError
        If the task and classes do not fit, or the model or version exists with another
        task, classes or feature schema.
    """
    task = _task(task)
    for what, value in (("model name", name), ("model version", version)):
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_NAME:
            msg = f"{what} must be 1-{_MAX_NAME} characters, got {value!r}"
            raise InvalidBatchError(msg)
    schema = FeatureSchema(tuple(features))
    _check_classes(name, task, classes)
    model = session.scalars(sa.select(Model).where(Model.name == name)).one_or_none()
    if model is None:
        model = Model(name=name, task=task, classes=list(classes), description=description)
        session.add(model)
        session.flush()
    elif model.task != task or list(model.classes) != list(classes):
        msg = (
            f"model {name!r} is registered as {model.task.value} with classes "
            f"{model.classes}, not {task.value} with classes {list(classes)}"
        )
        raise InvalidBatchError(msg)
    row = session.scalars(
        sa.select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == version
        )
    ).one_or_none()
    if row is None:
        row = ModelVersion(model_id=model.id, version=version, feature_schema=schema.to_json())
        session.add(row)
        session.flush()
    elif FeatureSchema.from_json(row.feature_schema) != schema:
        msg = (
            f"model {name!r} version {version!r} is registered with another feature schema; "
            "register the new schema as a new version"
        )
        raise InvalidBatchError(msg)
    return _handle(model, row)


def get_model_version(session: Session, name: str, version: str | None = None) -> ModelHandle:
    """The named version of a model, or its newest version when ``version`` is None."""
    model = session.scalars(sa.select(Model).where(Model.name == name)).one_or_none()
    if model is None:
        known = ", ".join(session.scalars(sa.select(Model.name).order_by(Model.name))) or "none"
        msg = f"unknown model {name!r}; registered models: {known}"
        raise NotFoundError(msg)
    query = sa.select(ModelVersion).where(ModelVersion.model_id == model.id)
    if version is not None:
        query = query.where(ModelVersion.version == version)
    row = session.scalars(query.order_by(ModelVersion.id.desc()).limit(1)).one_or_none()
    if row is None:
        msg = (
            f"model {name!r} has no version {version!r}" if version else f"{name!r} has no version"
        )
        raise NotFoundError(msg)
    return _handle(model, row)


def list_models(session: Session) -> list[Model]:
    """Every registered model, by name."""
    return list(session.scalars(sa.select(Model).order_by(Model.name)))


def _handle(model: Model, row: ModelVersion) -> ModelHandle:
    return ModelHandle(
        model_id=model.id,
        model_name=model.name,
        task=model.task,
        classes=tuple(model.classes),
        version_id=row.id,
        version=row.version,
        schema=FeatureSchema.from_json(row.feature_schema),
    )


def _task(value: Task | str) -> Task:
    try:
        return Task(value)
    except ValueError:
        tasks = ", ".join(t.value for t in Task)
        msg = f"task must be one of {tasks}, got {value!r}"
        raise InvalidBatchError(msg) from None


def _check_classes(name: str, task: Task, classes: Sequence[str]) -> None:
    if len(set(classes)) != len(classes):
        msg = f"model {name!r}: classes must be unique, got {list(classes)}"
        raise InvalidBatchError(msg)
    expected = {
        Task.REGRESSION: (0, 0),
        Task.BINARY_CLASSIFICATION: (2, 2),
        Task.MULTICLASS_CLASSIFICATION: (3, None),
    }[task]
    low, high = expected
    if len(classes) < low or (high is not None and len(classes) > high):
        want = {0: "no classes", 2: "exactly 2 classes", 3: "at least 3 classes"}[low]
        msg = f"model {name!r}: {task.value} needs {want}, got {list(classes)}"
        raise InvalidBatchError(msg)
