"""Tests of the ``email`` channel: a multipart message with the Alertmanager-style subject."""

from __future__ import annotations

from email.message import EmailMessage

from monitor.alerting.channels import mail
from monitor.alerting.channels.outgoing import OutgoingEmail
from monitor.alerting.model import Notification
from monitor.project.channels import EmailChannel
from tests.unit.monitor.alerting.channels.items import NOW, alert, channel, notification


def _render(item: Notification, **fields: object) -> OutgoingEmail:
    spec = channel(
        type="email",
        smtp_host="smtp.example.com",
        from_address="driftline@example.com",
        to=["ml-oncall@example.com", "risk@example.com"],
        **fields,
    )
    assert isinstance(spec, EmailChannel)
    return mail.render(spec, item, now=NOW)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def test_envelope_and_server() -> None:
    email = _render(notification(), username="driftline", password="s3cr3t", smtp_port=2525)

    assert email.host == "smtp.example.com"
    assert email.port == 2525
    assert email.starttls is True
    assert email.username == "driftline"
    assert email.password == "s3cr3t"
    assert email.from_address == "driftline@example.com"
    assert email.to == ("ml-oncall@example.com", "risk@example.com")
    assert "s3cr3t" not in repr(email)


def test_headers() -> None:
    message = _render(notification()).message

    assert message["Subject"] == "[FIRING:2] credit-drift credit"
    assert message["From"] == "driftline@example.com"
    assert message["To"] == "ml-oncall@example.com, risk@example.com"
    assert message["Date"] == "Fri, 01 May 2026 12:00:05 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"


def test_message_id_is_stable_per_delivery_key() -> None:
    first = _render(notification(key="ntf_1")).message["Message-ID"]
    again = _render(notification(key="ntf_1")).message["Message-ID"]
    other = _render(notification(key="ntf_2")).message["Message-ID"]

    assert first == again != other
    assert first.startswith("<")
    assert first.endswith(".driftline@example.com>")


def test_plain_text_part() -> None:
    text, _ = _parts(_render(notification()).message)

    assert text.startswith(
        "[FIRING:2] credit-drift credit\n\n"
        "Reason: first notification\n"
        "Dashboard: https://driftline.example.com\n\n"
        "FIRING · critical · Drift on age\n"
        "Rule: credit-drift\n"
        "Value: 0.4213\n"
        "Labels: feature=age, model=credit, rule=credit-drift\n"
        "Since: 2026-05-01 11:50:00 UTC\n"
        "Link: https://driftline.example.com/alerts/credit-drift/age\n\n"
        "FIRING · warning · Drift on income\n"
    )
    assert text.endswith("-- \nSent by Driftline.\n")


def test_html_part_escapes_and_links() -> None:
    item = notification(alert(annotations={"summary": "<b>PSI</b> & more"}))

    _, html = _parts(_render(item).message)

    assert '<h2 style="color: #c62828">[FIRING:1] credit-drift credit</h2>' in html
    assert (
        '<h3><a href="https://driftline.example.com/alerts/credit-drift/age">'
        "&lt;b&gt;PSI&lt;/b&gt; &amp; more</a></h3>"
    ) in html
    assert '<tr><th align="left">Value</th><td>0.4213</td></tr>' in html
    assert "<b>PSI</b>" not in html


def test_resolved_subject_and_colour() -> None:
    message = _render(notification(alert(state="resolved"), status="resolved")).message

    _, html = _parts(message)
    assert message["Subject"] == "[RESOLVED] credit-drift credit"
    assert '<h2 style="color: #2e7d32">' in html
    assert '<tr><th align="left">Resolved</th><td>2026-05-01 12:00:00 UTC</td></tr>' in html
