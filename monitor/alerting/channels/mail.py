"""The ``email`` channel: a multipart (plain text + HTML) message for an SMTP server.

Subject ``[FIRING:2] rule model`` (Alertmanager's default title). Both parts list every
alert with its summary, severity, rule, value, labels, times and a link to its dashboard
page. The ``Message-ID`` derives from the delivery key, so a retried delivery is the same
message to mail clients; ``Auto-Submitted: auto-generated`` (RFC 3834) keeps
auto-responders quiet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from email.message import EmailMessage
from email.utils import format_datetime

from monitor.alerting.channels.outgoing import OutgoingEmail
from monitor.alerting.channels.wording import (
    alert_summary,
    format_labels,
    format_time,
    format_value,
    notification_url,
    title,
)
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.project.channels import EmailChannel

__all__ = ["html_body", "render", "text_body"]


def render(spec: EmailChannel, item: Notification, *, now: dt.datetime) -> OutgoingEmail:
    """Build the e-mail of one notification.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        The notification.
    now
        The attempt's time: the ``Date`` header.

    Returns
    -------
    OutgoingEmail
        The message and the SMTP server to send it through.
    """
    message = EmailMessage()
    message["Subject"] = title(item)
    message["From"] = spec.from_address
    message["To"] = ", ".join(spec.to)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    domain = spec.from_address.rsplit("@", 1)[1]
    digest = hashlib.sha256(item.key.encode("utf-8")).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}.driftline@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_body(item))
    message.add_alternative(html_body(item), subtype="html")
    password = None if spec.password is None else spec.password.get_secret_value()
    return OutgoingEmail(
        host=spec.smtp_host,
        port=spec.smtp_port,
        starttls=spec.starttls,
        username=spec.username,
        password=password,
        from_address=spec.from_address,
        to=spec.to,
        message=message,
    )


def text_body(item: Notification) -> str:
    """The plain-text part."""
    parts = [title(item), f"Reason: {item.reason}\nDashboard: {notification_url(item)}"]
    parts.extend(_alert_text(alert) for alert in item.alerts)
    parts.append("-- \nSent by Driftline.")
    return "\n\n".join(parts) + "\n"


def html_body(item: Notification) -> str:
    """The HTML part: a heading, a line with the reason, one small table per alert."""
    color = "#c62828" if item.status == "firing" else "#2e7d32"
    rows = "\n".join(_alert_html(alert) for alert in item.alerts)
    dashboard = _link(notification_url(item), "Open in Driftline")
    return (
        '<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n'
        f'<h2 style="color: {color}">{html.escape(title(item))}</h2>\n'
        f"<p>{html.escape(item.reason)} · {dashboard}</p>\n"
        f"{rows}\n"
        '<p style="color: #666">Sent by Driftline.</p>\n</body></html>\n'
    )


def _alert_text(alert: AlertSnapshot) -> str:
    lines = [
        f"{alert.state.upper()} · {alert.severity} · {alert_summary(alert)}",
        f"Rule: {alert.rule}",
        f"Value: {format_value(alert.value)}",
    ]
    if alert.labels:
        lines.append(f"Labels: {format_labels(alert.labels)}")
    lines.append(f"Since: {format_time(alert.starts_at)}")
    if alert.state == "resolved" and alert.ends_at is not None:
        lines.append(f"Resolved: {format_time(alert.ends_at)}")
    lines.append(f"Link: {alert.url}")
    return "\n".join(lines)


def _alert_html(alert: AlertSnapshot) -> str:
    facts = [
        ("Severity", alert.severity),
        ("State", alert.state),
        ("Rule", alert.rule),
        ("Value", format_value(alert.value)),
    ]
    if alert.labels:
        facts.append(("Labels", format_labels(alert.labels)))
    facts.append(("Since", format_time(alert.starts_at)))
    if alert.state == "resolved" and alert.ends_at is not None:
        facts.append(("Resolved", format_time(alert.ends_at)))
    cells = "".join(
        f'<tr><th align="left">{name}</th><td>{html.escape(value)}</td></tr>'
        for name, value in facts
    )
    heading = _link(alert.url, alert_summary(alert))
    return f"<h3>{heading}</h3>\n<table>{cells}</table>"


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>'
