"""The ``opsgenie`` channel: create an alert on firing, close it by alias on resolved.

The ``alias`` is the SHA-256 of the group key (as Alertmanager does): Opsgenie keeps one
open alert per alias (a repeated create increments its count), and the close of a resolved
group (``POST /v2/alerts/{alias}/close?identifierType=alias``) finds it. Field limits
(reference §6): ``message`` 130 characters, ``description`` 15,000, ``tags`` 20 of 50
characters, ``details`` 8,000 characters in all, ``entity`` 512. Priority: critical → P1,
warning → P3 (Opsgenie's default), info → P5.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from monitor.alerting.channels.encoding import json_bytes
from monitor.alerting.channels.headers import json_headers
from monitor.alerting.channels.identity import group_hash
from monitor.alerting.channels.outgoing import DEFAULT_TIMEOUT_SECONDS, OutgoingRequest
from monitor.alerting.channels.wording import (
    alert_summary,
    format_labels,
    format_time,
    format_value,
    highest_severity,
    notification_url,
    title,
    truncate,
)
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.project.channels import OpsgenieChannel

__all__ = ["PRIORITIES", "close_body", "create_body", "render"]

PRIORITIES: Final = {"critical": "P1", "warning": "P3", "info": "P5"}
MESSAGE_LIMIT: Final = 130
DESCRIPTION_LIMIT: Final = 15_000
ENTITY_LIMIT: Final = 512
MAX_TAGS: Final = 20
TAG_LIMIT: Final = 50
DETAILS_LIMIT: Final = 8000
SOURCE: Final = "Driftline"


def render(spec: OpsgenieChannel, item: Notification, *, now: dt.datetime) -> OutgoingRequest:
    """Build the create (firing) or close (resolved) request of one notification.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        The notification.
    now
        The attempt's time (unused).

    Returns
    -------
    OutgoingRequest
        A JSON POST to ``{api_url}/v2/alerts`` or
        ``{api_url}/v2/alerts/{alias}/close?identifierType=alias``, authorised with
        ``GenieKey``.
    """
    base = spec.api_url.rstrip("/")
    alias = group_hash(item.group_key)
    if item.status == "firing":
        url, body = f"{base}/v2/alerts", create_body(item)
    else:
        url, body = f"{base}/v2/alerts/{alias}/close?identifierType=alias", close_body(item)
    headers = json_headers()
    headers["Authorization"] = f"GenieKey {spec.api_key.get_secret_value()}"
    return OutgoingRequest("POST", url, headers, json_bytes(body), DEFAULT_TIMEOUT_SECONDS)


def create_body(item: Notification) -> dict[str, Any]:
    """The body of ``POST /v2/alerts`` for a firing notification."""
    body: dict[str, Any] = {
        "message": truncate(title(item), MESSAGE_LIMIT),
        "alias": group_hash(item.group_key),
        "description": truncate(_description(item), DESCRIPTION_LIMIT),
        "tags": _tags(item),
        "details": _details(item),
        "source": SOURCE,
        "priority": PRIORITIES[highest_severity(item)],
    }
    model = item.common_labels.get("model")
    if model:
        body["entity"] = truncate(model, ENTITY_LIMIT)
    return body


def close_body(item: Notification) -> dict[str, Any]:
    """The body of the close request for a resolved notification."""
    note = f"Resolved in Driftline: {notification_url(item)}"
    return {"source": SOURCE, "note": note}


def _description(item: Notification) -> str:
    parts = [f"{title(item)} ({item.reason})", f"Dashboard: {notification_url(item)}"]
    parts.extend(_alert_text(alert) for alert in item.alerts)
    return "\n\n".join(parts)


def _alert_text(alert: AlertSnapshot) -> str:
    lines = [
        f"{alert.state.upper()} {alert.severity}: {alert_summary(alert)}",
        f"Rule: {alert.rule} · Value: {format_value(alert.value)}",
    ]
    if alert.labels:
        lines.append(f"Labels: {format_labels(alert.labels)}")
    lines.append(f"Since: {format_time(alert.starts_at)}")
    lines.append(f"Link: {alert.url}")
    return "\n".join(lines)


def _tags(item: Notification) -> list[str]:
    tags = [
        "driftline",
        highest_severity(item),
        *dict.fromkeys(alert.rule for alert in item.alerts),
    ]
    tags.extend(f"{name}:{value}" for name, value in sorted(item.group_labels.items()))
    unique = dict.fromkeys(truncate(tag, TAG_LIMIT) for tag in tags)
    return list(unique)[:MAX_TAGS]


def _details(item: Notification) -> dict[str, str]:
    wanted = {
        "dashboard": notification_url(item),
        "notification_reason": item.reason,
        "group_key": item.group_key,
        **{f"label.{name}": value for name, value in sorted(item.common_labels.items())},
    }
    details: dict[str, str] = {}
    used = 0
    for name, value in wanted.items():
        used += len(name) + len(value)
        if used > DETAILS_LIMIT:
            break
        details[name] = value
    return details
