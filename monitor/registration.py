"""Registering the project file's models and versions in the store."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from monitor.project import Project
from storage import FeatureKind, FeatureSpec, ModelHandle, create_session_factory, register_model

__all__ = ["register_project_models"]


def register_project_models(engine: Engine, project: Project) -> list[ModelHandle]:
    """Register every declared model at its declared version, in one transaction.

    Idempotent: a model and version already registered with the same task, classes and
    features is left as it is; one registered differently is an error and nothing changes.
    """
    with create_session_factory(engine).begin() as session:
        return [
            register_model(
                session,
                name=model.name,
                task=model.task,
                classes=model.classes or (),
                version=model.version,
                features=[FeatureSpec(f.name, FeatureKind(f.kind), f.dims) for f in model.features],
                description=model.description,
            )
            for model in project.models
        ]
