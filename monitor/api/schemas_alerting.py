"""What the alert-rules routes take and return (:mod:`monitor.api.routes_alert_rules`).

Requests are parsed into :class:`~monitor.project.alert_rules.AlertRuleSpec` (the project
file's schema) or :class:`AlertRuleReplacement`; responses are built from the store's
:class:`~storage.repositories.alerting.RuleInfo` by :meth:`AlertRuleOut.of`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from monitor.api.schemas import Out
from monitor.project._base import Slug
from monitor.project.alert_rules import AlertRuleSpec
from storage.repositories.alerting import RuleInfo

__all__ = ["AlertRuleList", "AlertRuleOut", "AlertRuleReplacement"]


class AlertRuleReplacement(AlertRuleSpec):
    """A rule's new spec for ``PUT``: the name may be left out (the path gives it)."""

    name: Slug | None = None  # type: ignore[assignment]
    """Must equal the name in the path when given."""


class AlertRuleOut(Out):
    """An alert rule, its spec and where it was declared."""

    name: str
    monitor: str | None = Field(description="The monitor whose results the rule watches.")
    source: Literal["project", "api"] = Field(
        description="`project`: declared in the project file, changed only there; "
        "`api`: created through this API."
    )
    enabled: bool
    spec: dict[str, Any] = Field(
        description="The rule's spec (the `AlertRuleSpec` schema), as `PUT` takes it back."
    )
    updated_at: dt.datetime

    @classmethod
    def of(cls, info: RuleInfo) -> AlertRuleOut:
        return cls(
            name=info.name,
            monitor=info.monitor_name,
            source="project" if info.source == "project" else "api",
            enabled=info.enabled,
            spec=info.config,
            updated_at=info.updated_at,
        )


class AlertRuleList(Out):
    items: list[AlertRuleOut]
