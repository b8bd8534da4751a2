"""Notifications and retraining requests as the JSON kept in the outbox, and back.

A delivery stores what is to be said, not the bytes on the wire: the request is rendered
at each attempt, so a retried signed webhook gets a fresh ``webhook-timestamp`` and
signature while keeping its ``webhook-id`` (the notification's key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal, cast

from monitor.alerting.model import AlertSnapshot, Notification, NotificationReason, RetrainRequest

__all__ = ["EVENT_RETRAIN", "from_payload", "to_payload"]

#: ``deliveries.event`` of a retraining request; notifications use their status.
EVENT_RETRAIN = "retrain"


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value))


def _alert(alert: AlertSnapshot) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "state": alert.state,
        "severity": alert.severity,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "value": alert.value,
        "starts_at": _time(alert.starts_at),
        "ends_at": _time(alert.ends_at),
        "url": alert.url,
    }


def to_payload(item: Notification | RetrainRequest) -> dict[str, Any]:
    """The JSON form of ``item``."""
    if isinstance(item, RetrainRequest):
        return {
            "key": item.key,
            "channel": item.channel,
            "rule": item.rule,
            "model": item.model,
            "version": item.version,
            "monitor": item.monitor,
            "window_start": _time(item.window_start),
            "window_end": _time(item.window_end),
            "findings": [dict(finding) for finding in item.findings],
            "score": item.score,
            "links": dict(item.links),
            "created_at": _time(item.created_at),
        }
    return {
        "key": item.key,
        "channel": item.channel,
        "group_key": item.group_key,
        "group_labels": dict(item.group_labels),
        "status": item.status,
        "reason": item.reason,
        "alerts": [_alert(alert) for alert in item.alerts],
        "external_url": item.external_url,
        "created_at": _time(item.created_at),
        "common_labels": dict(item.common_labels),
        "common_annotations": dict(item.common_annotations),
    }


def from_payload(event: str, payload: Mapping[str, Any]) -> Notification | RetrainRequest:
    """Rebuild what :func:`to_payload` stored (``event`` says which kind it was)."""
    if event == EVENT_RETRAIN:
        return RetrainRequest(
            key=payload["key"],
            channel=payload["channel"],
            rule=payload["rule"],
            model=payload["model"],
            version=payload["version"],
            monitor=payload["monitor"],
            window_start=_parse(payload["window_start"]),
            window_end=_parse(payload["window_end"]),
            findings=tuple(payload["findings"]),
            score=payload["score"],
            links=dict(payload["links"]),
            created_at=_parse(payload["created_at"]),
        )
    alerts = tuple(
        AlertSnapshot(
            fingerprint=a["fingerprint"],
            rule=a["rule"],
            state=a["state"],
            severity=a["severity"],
            labels=dict(a["labels"]),
            annotations=dict(a["annotations"]),
            value=a["value"],
            starts_at=_parse(a["starts_at"]),
            ends_at=None if a["ends_at"] is None else _parse(a["ends_at"]),
            url=a["url"],
        )
        for a in payload["alerts"]
    )
    return Notification(
        key=payload["key"],
        channel=payload["channel"],
        group_key=payload["group_key"],
        group_labels=dict(payload["group_labels"]),
        status=cast(Literal["firing", "resolved"], payload["status"]),
        reason=cast(NotificationReason, payload["reason"]),
        alerts=alerts,
        external_url=payload["external_url"],
        created_at=_parse(payload["created_at"]),
        common_labels=dict(payload["common_labels"]),
        common_annotations=dict(payload["common_annotations"]),
    )
