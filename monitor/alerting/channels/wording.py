"""The words every human-facing channel uses: titles, alert lines, values, truncation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Final, Literal

from monitor.alerting.model import AlertSnapshot, Notification

__all__ = [
    "ELLIPSIS",
    "alert_summary",
    "format_labels",
    "format_time",
    "format_value",
    "group_name",
    "highest_severity",
    "notification_url",
    "title",
    "truncate",
]

ELLIPSIS: Final = "…"
Severity = Literal["info", "warning", "critical"]
_SEVERITY_RANK: Final = {"info": 0, "warning": 1, "critical": 2}
# Group labels shown first in a title, in this order; the rest follow by name.
_FIRST_LABELS: Final = ("alertname", "rule", "model", "monitor")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending in ``…`` when cut.

    Examples
    --------
    >>> truncate("drift share high", 10)
    'drift sha…'
    """
    if limit < 1:
        msg = f"limit must be at least 1, got {limit}"
        raise ValueError(msg)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def group_name(notification: Notification) -> str:
    """The values of the group labels, Alertmanager-style: ``rule model``.

    ``alertname``, ``rule``, ``model`` and ``monitor`` come first, other labels by name. A
    group without labels is named by the rules of its alerts.
    """
    labels = notification.group_labels
    if labels:
        first = [name for name in _FIRST_LABELS if name in labels]
        rest = sorted(name for name in labels if name not in _FIRST_LABELS)
        return " ".join(labels[name] for name in (*first, *rest))
    rules = dict.fromkeys(alert.rule for alert in notification.alerts)
    return " ".join(rules) or "alerts"


def title(notification: Notification) -> str:
    """``[FIRING:2] rule model`` or ``[RESOLVED] rule model``.

    The number counts the firing alerts of the notification.
    """
    if notification.status == "firing":
        firing = sum(alert.state == "firing" for alert in notification.alerts)
        status = f"FIRING:{firing}"
    else:
        status = "RESOLVED"
    return f"[{status}] {group_name(notification)}"


def notification_url(notification: Notification) -> str:
    """Where a message about the group links: the alert's page when there is one alert,
    else the dashboard."""
    if len(notification.alerts) == 1:
        return notification.alerts[0].url
    return notification.external_url


def format_value(value: float | None) -> str:
    """A metric value in at most four significant digits; ``n/a`` when unknown.

    Examples
    --------
    >>> format_value(0.123456), format_value(None), format_value(12345.0)
    ('0.1235', 'n/a', '1.234e+04')
    """
    return "n/a" if value is None else f"{value:.4g}"


def format_labels(labels: Mapping[str, str]) -> str:
    """``name=value`` pairs sorted by name, comma-separated.

    Examples
    --------
    >>> format_labels({"model": "credit", "feature": "age"})
    'feature=age, model=credit'
    """
    return ", ".join(f"{name}={labels[name]}" for name in sorted(labels))


def format_time(moment: dt.datetime) -> str:
    """A moment for people: ``2026-05-01 12:00:00 UTC``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def alert_summary(alert: AlertSnapshot) -> str:
    """The alert's ``summary`` annotation, else its rule name."""
    return alert.annotations.get("summary") or alert.rule


def highest_severity(notification: Notification) -> Severity:
    """The highest severity among the firing alerts (among all alerts when none fires).

    A notification without alerts counts as ``warning``.
    """
    alerts = [alert for alert in notification.alerts if alert.state == "firing"]
    alerts = alerts or list(notification.alerts)
    if not alerts:
        return "warning"
    return max((alert.severity for alert in alerts), key=_SEVERITY_RANK.__getitem__)
