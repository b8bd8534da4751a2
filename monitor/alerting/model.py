"""The values alerting passes between its steps: alerts, notifications, deliveries.

The steps, each its own module:

1. **evaluation** (:mod:`monitor.alerting.evaluation`, pure): a rule and a new monitor
   result move the rule's alert through ``inactive → pending → firing → resolved``;
2. **notification** (:mod:`monitor.alerting.notification`, pure): groups of alerts, the
   notification log, silences and inhibitions decide which :class:`Notification` to send
   to which channel, Alertmanager's way (group wait, group interval, repeat interval);
3. **outbox** (storage): each notification becomes a delivery row in the same transaction
   as the state change that caused it;
4. **channels** (:mod:`monitor.alerting.channels`): a notification becomes the HTTP request
   (or e-mail) a receiver expects;
5. **dispatch** (:mod:`monitor.alerting.dispatch`): deliveries are sent, retried with
   backoff, and dead-lettered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AlertSnapshot",
    "AlertState",
    "Notification",
    "NotificationReason",
    "RetrainRequest",
]

AlertState = Literal["inactive", "pending", "firing", "resolved"]
NotificationReason = Literal[
    "first notification",
    "new alerts added",
    "some alerts resolved",
    "all alerts resolved",
    "repeat interval elapsed",
]


@dataclass(frozen=True, slots=True)
class AlertSnapshot:
    """One alert as notifications show it (Alertmanager's alert object)."""

    fingerprint: str
    rule: str
    state: Literal["firing", "resolved"]
    severity: Literal["info", "warning", "critical"]
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    #: The metric value that last decided the state.
    value: float | None
    starts_at: dt.datetime
    #: Set once resolved.
    ends_at: dt.datetime | None
    #: The dashboard page of the alert.
    url: str


@dataclass(frozen=True, slots=True)
class Notification:
    """What one channel is told about one group of alerts at one time.

    ``key`` is stable for this notification: it is the idempotency key of its delivery
    (the ``webhook-id`` of signed webhooks), so a retried delivery is recognisably the same.
    """

    key: str
    channel: str
    group_key: str
    group_labels: Mapping[str, str]
    status: Literal["firing", "resolved"]
    reason: NotificationReason
    alerts: tuple[AlertSnapshot, ...]
    #: Base URL of the dashboard, for links.
    external_url: str
    created_at: dt.datetime
    #: Labels every alert of the group shares.
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetrainRequest:
    """A retraining trigger: what drifted in which window, for a pipeline to act on."""

    key: str
    channel: str
    rule: str
    model: str
    version: str | None
    monitor: str
    window_start: dt.datetime
    window_end: dt.datetime
    #: What drifted and by how much: ``[{"feature", "method", "statistic", "effect", ...}]``
    #: for drift, the metric and its drop for performance.
    findings: tuple[Mapping[str, object], ...]
    score: float | None
    #: Links: the dashboard page of the model and of the alert.
    links: Mapping[str, str]
    created_at: dt.datetime
