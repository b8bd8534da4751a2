"""The ``alert_rules`` section: when a monitor's results fire an alert, and where it goes."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Self

from pydantic import ConfigDict, Field, model_validator

from monitor.project._base import Slug, Spec, Text, check_unique
from monitor.project.durations import Duration

__all__ = ["AlertRuleSpec", "Comparison", "Condition", "Severity"]

Comparison = Literal[">", ">=", "<", "<=", "==", "!="]
Severity = Literal["info", "warning", "critical"]


class Condition(Spec):
    """``<metric> <op> <value>``, evaluated on each monitor result."""

    metric: Text
    """Name of a metric the monitor's detector reports (``drift_share``, ``p_value``, ...)."""
    op: Comparison
    """Comparison operator."""
    value: float = Field(allow_inf_nan=False)
    """Threshold the metric is compared with."""


class AlertRuleSpec(Spec):
    """An alert fired when a monitor's condition holds for long enough."""

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    name: Slug
    """Unique name of the rule."""
    monitor: Slug
    """Name of the monitor whose results are watched, declared under ``monitors``."""
    condition: Condition
    """When the rule is breached."""
    for_: Duration = Field(default=timedelta(0), alias="for", json_schema_extra={"default": "0s"})
    """How long the condition must hold before the alert fires (``for`` in the file)."""
    severity: Severity = "warning"
    """How urgent the alert is."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels attached to the alert, used for routing and grouping."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Templated texts (``{{ value }}``, ``{{ model }}``) rendered into notifications."""
    channels: tuple[Slug, ...] = ()
    """Names of the channels notified, declared under ``channels``."""

    @model_validator(mode="after")
    def _check_channels(self) -> Self:
        check_unique(self.channels, ("channels",), "channel")
        return self
