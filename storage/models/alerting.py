"""Alert rules, alerts, channels, the delivery outbox and silences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigIntPK
from storage.types import utc_now

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertRule",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "NotificationLog",
    "Silence",
]


class AlertRule(Base):
    """A condition on monitor results that raises an alert after ``for_seconds``."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity_known"),
        CheckConstraint("for_seconds >= 0", name="for_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    condition: Mapped[dict[str, Any]]
    for_seconds: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Names of the channels notified.
    channels: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    #: The whole validated declaration (keep_firing_for, retrain, ...), as JSON.
    config: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Alert(Base):
    """One alert instance of a rule, identified by the fingerprint of its labels."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'firing', 'resolved')", name="state_known"),
        Index("ix_alerts_fingerprint_state", "fingerprint", "state"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    value: Mapped[float | None] = mapped_column(Double)
    #: When the condition first held (pending since).
    active_since: Mapped[dt.datetime]
    fired_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    last_evaluated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: End of the last window whose result met the condition (for ``keep_firing_for``).
    last_true_at: Mapped[dt.datetime | None]


class AlertEvent(Base):
    """One state change of an alert: its history for the dashboard."""

    __tablename__ = "alert_events"
    __table_args__ = (
        CheckConstraint(
            "event IN ('pending', 'firing', 'resolved', 'cleared')", name="event_known"
        ),
        Index("ix_alert_events_alert_at", "alert_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    #: The end of the window whose result caused the change.
    at: Mapped[dt.datetime]
    value: Mapped[float | None] = mapped_column(Double)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class NotificationLog(Base):
    """What a channel was last told about a group of alerts (Alertmanager's nflog)."""

    __tablename__ = "notification_log"
    __table_args__ = (Index("uq_notification_log_group", "group_key", "channel", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_key: Mapped[str] = mapped_column(String(512))
    channel: Mapped[str] = mapped_column(String(63))
    #: Fingerprints of the firing and resolved alerts of the last notification.
    firing: Mapped[list[str]] = mapped_column(default=list)
    resolved: Mapped[list[str]] = mapped_column(default=list)
    #: When the group first had a firing alert since its last quiet period (group_wait).
    first_seen_at: Mapped[dt.datetime | None]
    notified_at: Mapped[dt.datetime | None]
    #: The group_interval tick last flushed, so one tick is never flushed twice.
    flushed_at: Mapped[dt.datetime | None]
    #: Notifications sent for this group and channel so far.
    count: Mapped[int] = mapped_column(Integer, default=0)


class Channel(Base):
    """A notification channel. Secrets are never stored: ``config`` names env variables."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Delivery(Base):
    """An outgoing notification or webhook in the outbox, retried until delivered or dead."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'in_flight', 'delivered', 'failed', 'dead')",
            name="status_known",
        ),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    #: ``firing``, ``resolved``, ``retrain``, ``test``, ...
    event: Mapped[str] = mapped_column(String(32))
    #: Stable id of the message (the Standard Webhooks ``webhook-id``), unique in the outbox.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    delivered_at: Mapped[dt.datetime | None]
    #: HTTP status (or SMTP code) of the last attempt.
    last_status_code: Mapped[int | None] = mapped_column(Integer)


class DeliveryAttempt(Base):
    """One attempt at a delivery: the delivery log."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('delivered', 'retry', 'failed', 'dead')", name="outcome_known"
        ),
        Index("ix_delivery_attempts_delivery", "delivery_id", "attempt"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Double)
    error: Mapped[str | None] = mapped_column(Text)


class Silence(Base):
    """Mutes the alerts whose labels match ``matchers`` between ``starts_at`` and ``ends_at``."""

    __tablename__ = "silences"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``[{"name": ..., "value": ..., "op": "=" | "!=" | "=~" | "!~"}, ...]``
    matchers: Mapped[list[dict[str, Any]]]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(127))
    comment: Mapped[str] = mapped_column(Text, default="")
    expired_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
