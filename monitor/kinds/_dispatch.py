"""One entry point per step for every kind: check params, prepare the reference, run a window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from monitor.kinds import (
    data_drift,
    failures,
    health,
    online_learning,
    performance,
    prediction_drift,
)
from monitor.kinds._outcome import KindOutcome
from monitor.project.monitors import MonitorKind, MonitorSpec, ParamValue
from storage import Window
from storage.repositories.online import LearningActivity
from storage.types import Task

__all__ = [
    "Prepared",
    "needs_labels",
    "prepare",
    "reads_learning",
    "run",
    "run_learning",
    "validate_params",
]

_TASKS = tuple(task.value for task in Task)


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """What a monitor fitted on its reference: opaque, immutable, reusable for many windows.

    Built by :func:`prepare` for one monitor spec and model task; :func:`run` refuses it for
    another spec (other params, features, reference or sample limit).
    """

    monitor: str
    kind: MonitorKind
    task: str
    #: What the fit depends on, compared with the spec :func:`run` is given.
    key: tuple[object, ...]
    params: object
    fitted: object

    def __repr__(self) -> str:
        return f"Prepared(monitor={self.monitor!r}, kind={self.kind!r}, task={self.task!r})"


def validate_params(
    kind: str, params: Mapping[str, ParamValue], *, task: str, has_reference: bool
) -> None:
    """Check a monitor's ``params`` for its kind and model task.

    Raises
    ------
    MonitorParamsError
        On an unknown key (the message lists the known ones) or a value the kind does not
        accept (``params.<key> of a <kind> monitor: must be ..., got ...``).
    ValueError
        If ``kind`` or ``task`` is not one Driftline knows.
    """
    _read(kind, params, task=task, has_reference=has_reference, monitor=None)


def needs_labels(spec: MonitorSpec) -> bool:
    """Whether the scheduler must read this monitor's windows with their labels."""
    return spec.kind == "performance"


def reads_learning(spec: MonitorSpec) -> bool:
    """Whether the monitor reads the learner's records (:func:`run_learning`), not windows
    of prediction records."""
    return spec.kind == "online_learning"


def run_learning(spec: MonitorSpec, activity: LearningActivity) -> KindOutcome:
    """Run an ``online_learning`` monitor over its window's learning activity.

    Raises
    ------
    MonitorParamsError
        If the spec's params are not valid.
    ValueError
        If the monitor is of another kind.
    """
    if not reads_learning(spec):
        raise ValueError(f"monitor {spec.name!r} is a {spec.kind} monitor, not online_learning")
    params = online_learning.read_params(spec.params, monitor=spec.name)
    return online_learning.run(params, activity)


def prepare(spec: MonitorSpec, reference: Window | None, *, task: str) -> Prepared:
    """Fit what depends only on the reference (and the spec), for any number of runs.

    A reference too small to judge from is no error: every run then reports
    ``insufficient_data`` with the reason.

    Raises
    ------
    MonitorParamsError
        If the spec's params are not valid for its kind and ``task``.
    """
    params = _read(
        spec.kind,
        spec.params,
        task=task,
        has_reference=spec.reference is not None,
        monitor=spec.name,
    )
    fitted: object
    if isinstance(params, data_drift.DataDriftParams):
        fitted = data_drift.prepare(spec, params, reference)
    elif isinstance(params, prediction_drift.PredictionDriftParams):
        fitted = prediction_drift.prepare(spec, params, reference, task=task)
    elif isinstance(params, performance.PerformanceParams):
        has_reference = spec.reference is not None
        fitted = performance.prepare(params, reference, task=task, has_reference=has_reference)
    elif isinstance(params, failures.FailuresParams):
        fitted = failures.prepare(spec, reference)
    else:
        fitted = None
    return Prepared(spec.name, spec.kind, task, _key(spec, task), params, fitted)


def run(
    spec: MonitorSpec,
    prepared: Prepared,
    current: Window,
    *,
    task: str,
    now: datetime,
    state: Mapping[str, Any] | None,
) -> KindOutcome:
    """Run the monitor over one window.

    Parameters
    ----------
    spec
        The monitor, the one ``prepared`` was built for.
    prepared
        :func:`prepare`'s result.
    current
        The window (with labels when :func:`needs_labels`).
    task
        The model's task.
    now
        The run's time (timezone-aware), for the silence check.
    state
        What the previous run returned as ``KindOutcome.state``, or None.

    Raises
    ------
    ValueError
        If ``prepared`` was built for another spec or task.
    """
    if prepared.key != _key(spec, task):
        msg = (
            f"monitor {spec.name!r}: the prepared reference was built for {prepared!r} with other "
            "params, features, reference or sample limit; prepare it again"
        )
        raise ValueError(msg)
    params, fitted = prepared.params, prepared.fitted
    if isinstance(params, data_drift.DataDriftParams) and isinstance(
        fitted, data_drift.DataDriftReference
    ):
        return data_drift.run(spec, params, fitted, current)
    if isinstance(params, prediction_drift.PredictionDriftParams) and isinstance(
        fitted, prediction_drift.PredictionDriftReference
    ):
        return prediction_drift.run(spec, params, fitted, current, task=task)
    if isinstance(params, performance.PerformanceParams) and isinstance(
        fitted, performance.PerformanceReference
    ):
        return performance.run(params, fitted, current, task=task, state=state)
    if isinstance(params, failures.FailuresParams) and isinstance(
        fitted, failures.FailuresBaseline
    ):
        return failures.run(spec, params, fitted, current, task=task)
    if isinstance(params, health.HealthParams):
        return health.run(spec, params, current, now=now)
    raise TypeError(f"monitor {spec.name!r}: {prepared!r} holds no fit for a {spec.kind} monitor")


def _read(
    kind: str,
    params: Mapping[str, ParamValue],
    *,
    task: str,
    has_reference: bool,
    monitor: str | None,
) -> object:
    """The kind's typed params, checked."""
    if task not in _TASKS:
        raise ValueError(f"task must be one of {', '.join(_TASKS)}, got {task!r}")
    if kind == "data_drift":
        return data_drift.read_params(params, monitor=monitor)
    if kind == "prediction_drift":
        return prediction_drift.read_params(params, monitor=monitor)
    if kind == "performance":
        return performance.read_params(
            params, task=task, has_reference=has_reference, monitor=monitor
        )
    if kind == "failures":
        return failures.read_params(params, has_reference=has_reference, monitor=monitor)
    if kind == "health":
        return health.read_params(params, monitor=monitor)
    if kind == "online_learning":
        return online_learning.read_params(params, monitor=monitor)
    kinds = ", ".join(get_args(MonitorKind))
    raise ValueError(f"monitor kind must be one of {kinds}, got {kind!r}")


def _key(spec: MonitorSpec, task: str) -> tuple[object, ...]:
    return (
        spec.name,
        spec.kind,
        task,
        spec.reference,
        spec.features,
        spec.sample_limit,
        sorted(spec.params.items()),
    )
