"""The ``monitors`` section: what is checked, on which rows, against what, and how often."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from monitor.project._base import Slug, Spec, Text, check_unique, spec_error
from monitor.project.cron import CronExpression
from monitor.project.durations import Duration, format_duration

__all__ = [
    "DatasetReference",
    "FixedWindowReference",
    "MonitorKind",
    "MonitorSpec",
    "ParamValue",
    "PreviousWindowReference",
    "Reference",
    "RollingWindow",
    "SameWindowLastWeekReference",
    "Schedule",
    "SinceLastRunWindow",
    "TumblingWindow",
    "Window",
]

MonitorKind = Literal[
    "data_drift", "prediction_drift", "performance", "failures", "health", "online_learning"
]
ParamScalar = str | int | float | bool | None
ParamValue = ParamScalar | tuple[ParamScalar, ...]

#: The store's limits: reference dataset names and version labels.
DatasetName = Annotated[str, StringConstraints(min_length=1, max_length=127)]
VersionLabel = Annotated[str, StringConstraints(min_length=1, max_length=63)]

MIN_INTERVAL = timedelta(seconds=10)
"""Shortest accepted ``schedule.every``."""
_NEEDS_REFERENCE = frozenset({"data_drift", "prediction_drift"})
_NO_RECORDS = frozenset({"online_learning"})
"""Kinds that read no prediction records: no reference, features or sample sizes."""


class Schedule(Spec):
    """When a monitor runs: exactly one of ``every`` or ``cron``."""

    every: Duration | None = None
    """Fixed interval between runs, at least 10s."""
    cron: CronExpression | None = None
    """5-field cron expression, evaluated in UTC."""

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < MIN_INTERVAL:
            raise spec_error(f"must be at least {format_duration(MIN_INTERVAL)}")
        return value

    @model_validator(mode="after")
    def _check_one(self) -> Self:
        if (self.every is None) == (self.cron is None):
            got = "both" if self.every is not None else "neither"
            msg = f"must set exactly one of 'every' or 'cron', got {got}"
            raise spec_error(msg, got_mode="none")
        return self


class _SizedWindow(Spec):
    size: Duration
    """Length of each window."""

    @field_validator("size")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        return _positive_size(value)


class TumblingWindow(_SizedWindow):
    """Consecutive, non-overlapping windows of ``size``, aligned to multiples of ``size``."""

    type: Literal["tumbling"]


class RollingWindow(_SizedWindow):
    """The last ``size`` before each run."""

    type: Literal["rolling"]


class SinceLastRunWindow(Spec):
    """Every row received since the previous run."""

    type: Literal["since_last_run"]


Window = Annotated[TumblingWindow | RollingWindow | SinceLastRunWindow, Field(discriminator="type")]


class DatasetReference(Spec):
    """A named reference dataset, uploaded beforehand (for example the training set)."""

    type: Literal["dataset"]
    dataset: DatasetName
    """Name of the reference dataset (at most 127 characters)."""


class FixedWindowReference(Spec):
    """Production rows between two fixed instants."""

    type: Literal["fixed_window"]
    start: AwareDatetime
    """Inclusive start, ISO-8601 with a timezone."""
    end: AwareDatetime
    """Exclusive end, ISO-8601 with a timezone, after ``start``."""

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.end <= self.start:
            msg = f"must be after start ({self.start.isoformat()})"
            raise spec_error(msg, at=("end",), got=self.end.isoformat(), got_mode="value")
        return self


class PreviousWindowReference(Spec):
    """The window just before the current one, of the same length."""

    type: Literal["previous_window"]


class SameWindowLastWeekReference(Spec):
    """The current window shifted back by seven days."""

    type: Literal["same_window_last_week"]


Reference = Annotated[
    DatasetReference | FixedWindowReference | PreviousWindowReference | SameWindowLastWeekReference,
    Field(discriminator="type"),
]


class MonitorSpec(Spec):
    """A check run on a schedule over a window of one model's records."""

    name: Slug
    """Unique name of the monitor."""
    model: Slug
    """Name of the monitored model, declared under ``models``."""
    kind: MonitorKind
    """What is checked."""
    version: VersionLabel | None = None
    """Only records of this model version; by default every version, features aligned by name."""
    schedule: Schedule
    """When the monitor runs."""
    window: Window
    """Which records each run reads."""
    reference: Reference | None = None
    """What the window is compared with; required for ``data_drift`` and ``prediction_drift``."""
    min_samples: int = Field(default=100, ge=1)
    """Fewest window records a run needs to produce a result."""
    sample_limit: int = Field(default=100_000, ge=1000)
    """Most window records read; larger windows are sampled uniformly down to this."""
    features: tuple[Text, ...] | None = Field(default=None, min_length=1)
    """Subset of the model's features to check; ``None`` means all of them."""
    params: dict[str, ParamValue] = Field(default_factory=dict)
    """Detector parameters, checked against the detector registry when monitors are built."""
    enabled: bool = True
    """Whether the scheduler runs this monitor."""

    @field_validator("params", mode="before")
    @classmethod
    def _check_params(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # the type check reports it
        return {key: _param_value(key, item) for key, item in value.items()}

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.reference is None and self.kind in _NEEDS_REFERENCE:
            raise spec_error(f"required for {self.kind} monitors", at=("reference",))
        if self.kind in _NO_RECORDS:
            for key in ("reference", "features"):
                if getattr(self, key) is not None:
                    raise spec_error(
                        f"not allowed for {self.kind} monitors (they read the learner's "
                        "records, not predictions)",
                        at=(key,),
                    )
        if self.min_samples > self.sample_limit:
            msg = f"must be <= sample_limit ({self.sample_limit})"
            raise spec_error(msg, at=("min_samples",), got=self.min_samples, got_mode="value")
        if self.features is not None:
            check_unique(self.features, ("features",), "feature")
        return self


def _positive_size(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise spec_error("must be longer than 0s")
    return value


def _param_value(key: object, value: Any) -> Any:
    """Accept a scalar or a list of scalars; lists become tuples."""
    scalar = (str, int, float, bool, type(None))
    if isinstance(value, scalar):
        return value
    if isinstance(value, list | tuple) and all(isinstance(item, scalar) for item in value):
        return tuple(value)
    at = key if isinstance(key, str | int) else str(key)
    msg = "must be a scalar (string, number, boolean, null) or a list of scalars"
    raise spec_error(msg, at=(at,), got=value, got_mode="value")
