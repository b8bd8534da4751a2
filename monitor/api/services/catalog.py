"""Models and their versions as the API lists them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import Model
from storage.repositories.models import list_models
from storage.types import Task

__all__ = ["ModelSummary", "VersionSummary", "model_names", "model_summaries", "model_versions"]

SessionFactory = Callable[[], Session]


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """A model with the count and newest of its versions."""

    name: str
    task: Task
    classes: tuple[str, ...]
    description: str | None
    versions: int
    latest_version: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """A version of a model and its feature schema."""

    version: str
    features: tuple[dict[str, Any], ...]
    created_at: dt.datetime


def model_summaries(sessions: SessionFactory, name: str | None = None) -> list[ModelSummary]:
    """Every model by name, or only ``name`` (:class:`NotFoundError` if it is not registered)."""
    with sessions() as session:
        models = list_models(session)
        if name is not None:
            models = [_one(models, name)]
        return [_summary(model) for model in models]


def model_versions(sessions: SessionFactory, name: str) -> list[VersionSummary]:
    """The versions of model ``name``, oldest first."""
    with sessions() as session:
        model = _one(list_models(session), name)
        return [
            VersionSummary(
                version=row.version,
                features=tuple(dict(item) for item in row.feature_schema),
                created_at=row.created_at,
            )
            for row in model.versions
        ]


def model_names(sessions: SessionFactory) -> list[str]:
    """The names of the registered models."""
    with sessions() as session:
        return [model.name for model in list_models(session)]


def _one(models: list[Model], name: str) -> Model:
    for model in models:
        if model.name == name:
            return model
    known = ", ".join(model.name for model in models) or "none"
    msg = f"unknown model {name!r}; registered models: {known}"
    raise NotFoundError(msg)


def _summary(model: Model) -> ModelSummary:
    versions = model.versions  # ordered by id: the last one is the newest
    return ModelSummary(
        name=model.name,
        task=model.task,
        classes=tuple(model.classes),
        description=model.description,
        versions=len(versions),
        latest_version=versions[-1].version if versions else None,
        created_at=model.created_at,
    )
