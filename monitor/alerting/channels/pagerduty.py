"""The ``pagerduty`` channel: an Events API v2 event.

A firing notification is a ``trigger``, a resolved one a ``resolve``. Both carry the same
``dedup_key``, the SHA-256 of the group key (as Alertmanager does), so the resolve closes
the alert the trigger opened and repeated triggers add to it instead of opening new ones.

Payload: ``summary`` = the title (≤ 1,024 characters), ``source`` = the Driftline host,
``severity`` = the highest severity among the firing alerts (critical → critical,
warning → warning, info → info), ``component``/``group`` = the common ``model``/``monitor``
labels, ``class`` = the rule, ``custom_details`` = the alerts; ``links`` point to the alerts'
dashboard pages and the dashboard. An event above 512,000 bytes loses its ``custom_details``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final
from urllib.parse import urlsplit

from monitor.alerting.channels.encoding import json_bytes, json_size, rfc3339
from monitor.alerting.channels.headers import json_headers
from monitor.alerting.channels.identity import group_hash
from monitor.alerting.channels.outgoing import DEFAULT_TIMEOUT_SECONDS, OutgoingRequest
from monitor.alerting.channels.wording import alert_summary, highest_severity, title, truncate
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.project.channels import PagerDutyChannel

__all__ = ["event", "render"]

SUMMARY_LIMIT: Final = 1024
MAX_EVENT_BYTES: Final = 512_000
MAX_LINKS: Final = 10


def render(spec: PagerDutyChannel, item: Notification, *, now: dt.datetime) -> OutgoingRequest:
    """Build the POST of one notification to the Events API.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        The notification.
    now
        The attempt's time (unused: the event's timestamp is the notification's).

    Returns
    -------
    OutgoingRequest
        A JSON POST of :func:`event` to ``spec.events_url``.
    """
    body = json_bytes(event(spec.routing_key.get_secret_value(), item))
    return OutgoingRequest("POST", spec.events_url, json_headers(), body, DEFAULT_TIMEOUT_SECONDS)


def event(routing_key: str, item: Notification) -> dict[str, Any]:
    """The Events API v2 event of a notification."""
    dedup_key = group_hash(item.group_key)
    if item.status == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": _payload(item),
        "client": "Driftline",
        "client_url": item.external_url,
        "links": _links(item),
    }
    if json_size(body) > MAX_EVENT_BYTES:
        del body["payload"]["custom_details"]
    return body


def _payload(item: Notification) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "summary": truncate(_summary(item), SUMMARY_LIMIT),
        "source": urlsplit(item.external_url).hostname or "driftline",
        "severity": highest_severity(item),
        "timestamp": rfc3339(item.created_at),
    }
    optional = {
        "component": item.common_labels.get("model"),
        "group": item.common_labels.get("monitor"),
        "class": _single_rule(item),
    }
    payload.update({name: value for name, value in optional.items() if value})
    payload["custom_details"] = {
        "notification_reason": item.reason,
        "group_labels": dict(item.group_labels),
        "firing": [_details(alert) for alert in item.alerts if alert.state == "firing"],
        "resolved": [_details(alert) for alert in item.alerts if alert.state == "resolved"],
    }
    return payload


def _summary(item: Notification) -> str:
    heading = title(item)
    if len(item.alerts) == 1:
        return f"{heading}: {alert_summary(item.alerts[0])}"
    return heading


def _single_rule(item: Notification) -> str | None:
    rules = {alert.rule for alert in item.alerts}
    return rules.pop() if len(rules) == 1 else None


def _details(alert: AlertSnapshot) -> dict[str, Any]:
    return {
        "rule": alert.rule,
        "severity": alert.severity,
        "value": alert.value,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": rfc3339(alert.starts_at),
        "ends_at": None if alert.ends_at is None else rfc3339(alert.ends_at),
        "url": alert.url,
    }


def _links(item: Notification) -> list[dict[str, str]]:
    links = [
        {"href": alert.url, "text": truncate(alert_summary(alert), 200)}
        for alert in item.alerts[: MAX_LINKS - 1]
    ]
    links.append({"href": item.external_url, "text": "Driftline dashboard"})
    return links
