"""The ``slack`` channel: a Block Kit message to an incoming webhook.

A header with the title (``[FIRING:2] rule model``), one section per alert (summary linked
to the alert's dashboard page, severity, rule, value, labels, times) and a context line with
the reason and a dashboard link. ``text`` is the fallback shown in notifications. Firing
and resolved messages differ in their title and in each alert's marker.

Slack's limits (reference §4): 50 blocks, 150 characters of header, 3,000 per section text;
an undocumented aggregate limit (``msg_blocks_too_long``) was seen near 13,000 characters,
so alert sections are kept within 12,000 characters. Alerts beyond these limits are
counted in a last section linking to the dashboard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from monitor.alerting.channels.encoding import json_bytes
from monitor.alerting.channels.headers import json_headers
from monitor.alerting.channels.outgoing import DEFAULT_TIMEOUT_SECONDS, OutgoingRequest
from monitor.alerting.channels.wording import (
    alert_summary,
    format_labels,
    format_time,
    format_value,
    notification_url,
    title,
    truncate,
)
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.project.channels import SlackChannel

__all__ = ["MAX_BLOCKS", "message", "render"]

MAX_BLOCKS: Final = 50
HEADER_LIMIT: Final = 150
SECTION_LIMIT: Final = 3000
TEXT_LIMIT: Final = 3000
SECTIONS_BUDGET: Final = 12_000
_MARKERS: Final = {"firing": ":red_circle:", "resolved": ":large_green_circle:"}
_TITLE_MARKERS: Final = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}


def render(spec: SlackChannel, item: Notification, *, now: dt.datetime) -> OutgoingRequest:
    """Build the POST of one notification to a Slack incoming webhook.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        The notification.
    now
        The attempt's time (unused: Slack messages carry no send time).

    Returns
    -------
    OutgoingRequest
        A JSON POST of :func:`message` to the webhook URL.
    """
    body = json_bytes(message(item))
    url = spec.webhook_url.get_secret_value()
    return OutgoingRequest("POST", url, json_headers(), body, DEFAULT_TIMEOUT_SECONDS)


def message(item: Notification) -> dict[str, Any]:
    """The Slack message of a notification: ``text`` and ``blocks``."""
    heading = title(item)
    header = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": truncate(f"{_TITLE_MARKERS[item.status]} {heading}", HEADER_LIMIT),
            "emoji": True,
        },
    }
    context = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _context_text(item)}],
    }
    sections = [_section(text) for text in _section_texts(item)]
    fallback = truncate(f"{heading}: {notification_url(item)}", TEXT_LIMIT)
    return {"text": fallback, "blocks": [header, *sections, context]}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, text: str) -> str:
    """A mrkdwn link ``<url|text>``."""
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe_url}|{escape(text)}>"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _section_texts(item: Notification) -> list[str]:
    texts = [truncate(_alert_text(alert), SECTION_LIMIT) for alert in item.alerts]
    room = MAX_BLOCKS - 2  # header and context
    if len(texts) <= room and sum(map(len, texts)) <= SECTIONS_BUDGET:
        return texts
    shown: list[str] = []
    used = 0
    for text in texts[: room - 1]:  # one block left for the count of the rest
        if used + len(text) > SECTIONS_BUDGET - 200:
            break
        shown.append(text)
        used += len(text)
    more = len(texts) - len(shown)
    dashboard = link(item.external_url, "see them all on the dashboard")
    return [*shown, f"…and {more} more alert{'s' if more > 1 else ''}: {dashboard}"]


def _alert_text(alert: AlertSnapshot) -> str:
    marker = _MARKERS[alert.state]
    lines = [
        f"{marker} *{link(alert.url, alert_summary(alert))}* · {alert.severity} · {alert.state}",
        f"*Rule:* {escape(alert.rule)} · *Value:* {format_value(alert.value)}",
    ]
    if alert.labels:
        lines.append(f"*Labels:* {escape(format_labels(alert.labels))}")
    since = f"*Since:* {format_time(alert.starts_at)}"
    if alert.state == "resolved" and alert.ends_at is not None:
        since += f" · *Resolved:* {format_time(alert.ends_at)}"
    lines.append(since)
    return "\n".join(lines)


def _context_text(item: Notification) -> str:
    return f"Driftline · {item.reason} · {link(item.external_url, 'Open the dashboard')}"
