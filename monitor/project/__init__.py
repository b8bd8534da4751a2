"""The project file, ``driftline.yaml``: models, monitors, alert rules and channels.

Load it with :func:`load_project` (or :func:`parse_project` for text); every problem raises
:class:`~monitor.errors.ProjectFileError` with a one-line message naming the file and the field
path. ``${NAME}`` references are resolved from the environment before validation; credential
fields are :class:`pydantic.SecretStr` and never appear in messages or ``repr``.
"""

from __future__ import annotations

from monitor.errors import NotDeclaredError, ProjectFileError
from monitor.project.alert_rules import AlertRuleSpec, Comparison, Condition, Severity
from monitor.project.channels import (
    Channel,
    ChannelType,
    EmailChannel,
    OpsgenieChannel,
    PagerDutyChannel,
    SlackChannel,
    TeamsChannel,
    WebhookChannel,
)
from monitor.project.cron import check_cron
from monitor.project.document import Project
from monitor.project.durations import format_duration, parse_duration
from monitor.project.loader import load_project, parse_project
from monitor.project.model_specs import FeatureKind, FeatureSpec, ModelSpec, Task
from monitor.project.monitors import (
    DatasetReference,
    FixedWindowReference,
    MonitorKind,
    MonitorSpec,
    PreviousWindowReference,
    Reference,
    RollingWindow,
    SameWindowLastWeekReference,
    Schedule,
    SinceLastRunWindow,
    TumblingWindow,
    Window,
)

__all__ = [
    "AlertRuleSpec",
    "Channel",
    "ChannelType",
    "Comparison",
    "Condition",
    "DatasetReference",
    "EmailChannel",
    "FeatureKind",
    "FeatureSpec",
    "FixedWindowReference",
    "ModelSpec",
    "MonitorKind",
    "MonitorSpec",
    "NotDeclaredError",
    "OpsgenieChannel",
    "PagerDutyChannel",
    "PreviousWindowReference",
    "Project",
    "ProjectFileError",
    "Reference",
    "RollingWindow",
    "SameWindowLastWeekReference",
    "Schedule",
    "Severity",
    "SinceLastRunWindow",
    "SlackChannel",
    "Task",
    "TeamsChannel",
    "TumblingWindow",
    "WebhookChannel",
    "Window",
    "check_cron",
    "format_duration",
    "load_project",
    "parse_duration",
    "parse_project",
]
