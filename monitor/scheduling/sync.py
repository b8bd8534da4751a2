"""Bringing the project file's monitors into the store, checked against the models."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from monitor import kinds
from monitor.project import Project
from monitor.project.monitors import MonitorSpec
from monitor.registration import register_project_models
from storage.repositories.monitors import MonitorDraft, sync_project_monitors

__all__ = ["check_monitor_params", "monitor_draft", "sync_project"]


def monitor_draft(spec: MonitorSpec) -> MonitorDraft:
    """What the store keeps of a monitor: its validated declaration as JSON."""
    return MonitorDraft(
        name=spec.name,
        model_name=spec.model,
        kind=spec.kind,
        config=spec.model_dump(mode="json"),
        enabled=spec.enabled,
    )


def check_monitor_params(project: Project) -> None:
    """Check every monitor's ``params`` against its kind and its model's task.

    Raises
    ------
    monitor.kinds.MonitorParamsError
        Naming the first monitor whose params do not fit.
    """
    for spec in project.monitors:
        model = project.model(spec.model)
        try:
            kinds.validate_params(
                spec.kind, spec.params, task=model.task, has_reference=spec.reference is not None
            )
        except kinds.MonitorParamsError as exc:
            raise kinds.MonitorParamsError(f"monitor {spec.name!r}: {exc}") from None


def sync_project(engine: Engine, project: Project) -> list[str]:
    """Register the project's models, check its monitors' params, and store the monitors.

    Monitors no longer in the project file are deleted with their results; monitors made
    through the API stay. Returns the names of the deleted monitors.

    Raises
    ------
    monitor.kinds.MonitorParamsError
        If a monitor's ``params`` do not fit its kind; nothing is stored then.
    """
    check_monitor_params(project)
    register_project_models(engine, project)
    return sync_project_monitors(engine, [monitor_draft(spec) for spec in project.monitors])
