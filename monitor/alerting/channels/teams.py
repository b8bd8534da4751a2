"""The ``teams`` channel: an Adaptive Card posted to a Teams Workflows webhook.

The body is the message-with-attachment shape that Workflows' "Post card" action and
Alertmanager's ``msteamsv2`` use (reference §5). The card is version 1.4: cards of 1.5 and
above are reported not to render when posted through Workflows. Firing titles are red
(``Attention``), resolved ones green (``Good``). Workflows reject messages near 28 KB, so
alerts beyond a 24,000-byte card are counted in a last line linking to the dashboard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from monitor.alerting.channels.encoding import json_bytes, json_size
from monitor.alerting.channels.headers import json_headers
from monitor.alerting.channels.outgoing import DEFAULT_TIMEOUT_SECONDS, OutgoingRequest
from monitor.alerting.channels.wording import (
    alert_summary,
    format_time,
    format_value,
    notification_url,
    title,
)
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.project.channels import TeamsChannel

__all__ = ["CARD_VERSION", "card", "message", "render"]

CARD_VERSION: Final = "1.4"
CARD_BUDGET_BYTES: Final = 24_000
_COLORS: Final = {"firing": "Attention", "resolved": "Good"}


def render(spec: TeamsChannel, item: Notification, *, now: dt.datetime) -> OutgoingRequest:
    """Build the POST of one notification to a Teams Workflows webhook.

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
        A JSON POST of :func:`message` to the webhook URL.
    """
    body = json_bytes(message(item))
    url = spec.webhook_url.get_secret_value()
    return OutgoingRequest("POST", url, json_headers(), body, DEFAULT_TIMEOUT_SECONDS)


def message(item: Notification) -> dict[str, Any]:
    """The ``{"type": "message", "attachments": [card]}`` body of a notification."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card(item),
            }
        ],
    }


def card(item: Notification) -> dict[str, Any]:
    """The Adaptive Card of a notification."""
    heading = {
        "type": "TextBlock",
        "text": title(item),
        "size": "Large",
        "weight": "Bolder",
        "color": _COLORS[item.status],
        "wrap": True,
    }
    reason = {
        "type": "TextBlock",
        "text": f"Driftline · {item.reason}",
        "isSubtle": True,
        "spacing": "None",
        "wrap": True,
    }
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [heading, reason],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Open in Driftline", "url": notification_url(item)}
        ],
        "msteams": {"width": "full"},
    }
    for shown, alert in enumerate(item.alerts):
        blocks = _alert_blocks(alert)
        if json_size(content) + json_size(blocks) > CARD_BUDGET_BYTES:
            content["body"].append(_more(item, len(item.alerts) - shown))
            break
        content["body"].extend(blocks)
    return content


def _alert_blocks(alert: AlertSnapshot) -> list[dict[str, Any]]:
    facts = [
        {"title": "Severity", "value": alert.severity},
        {"title": "State", "value": alert.state},
        {"title": "Rule", "value": alert.rule},
        {"title": "Value", "value": format_value(alert.value)},
        *({"title": name, "value": alert.labels[name]} for name in sorted(alert.labels)),
        {"title": "Since", "value": format_time(alert.starts_at)},
    ]
    if alert.state == "resolved" and alert.ends_at is not None:
        facts.append({"title": "Resolved", "value": format_time(alert.ends_at)})
    summary = {
        "type": "TextBlock",
        "text": f"**[{_escape(alert_summary(alert))}]({alert.url})**",
        "color": _COLORS[alert.state],
        "separator": True,
        "wrap": True,
    }
    return [summary, {"type": "FactSet", "facts": facts}]


def _more(item: Notification, count: int) -> dict[str, Any]:
    noun = "alerts" if count > 1 else "alert"
    return {
        "type": "TextBlock",
        "text": f"…and {count} more {noun}: [see them all on the dashboard]({item.external_url})",
        "separator": True,
        "wrap": True,
    }


def _escape(text: str) -> str:
    """Keep ``[`` and ``]`` of a summary from breaking the Markdown link around it."""
    return text.replace("[", "\\[").replace("]", "\\]")
