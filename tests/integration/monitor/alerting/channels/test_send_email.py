"""The e-mail sender against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import ssl
from email.message import EmailMessage

import pytest
import trustme

from monitor.alerting.channels import OutgoingEmail, render_any
from monitor.alerting.egress import EgressPolicy, send_email
from tests.integration.monitor.alerting.channels.smtp_server import Mailbox, smtp_server
from tests.unit.monitor.alerting.channels.items import NOW, channel, notification

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

LOOPBACK = EgressPolicy(["127.0.0.1"])


def _email(port: int, **fields: object) -> OutgoingEmail:
    declaration = {
        "type": "email",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "starttls": False,
        "from_address": "driftline@example.com",
        "to": ["ml-oncall@example.com", "risk@example.com"],
        **fields,
    }
    rendered = render_any(channel(**declaration), notification(), now=NOW)
    assert isinstance(rendered, OutgoingEmail)
    return rendered


def _received(mailbox: Mailbox) -> EmailMessage:
    (envelope,) = mailbox.messages
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_email_arrives_with_subject_and_both_parts() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        result = send_email(_email(port), policy=LOOPBACK, timeout_seconds=5)

    assert (result.outcome, result.status_code, result.error) == ("delivered", 250, None)
    (envelope,) = mailbox.messages
    assert envelope.mail_from == "driftline@example.com"
    assert envelope.rcpt_tos == ["ml-oncall@example.com", "risk@example.com"]
    message = _received(mailbox)
    assert message["Subject"] == "[FIRING:2] credit-drift credit"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "FIRING · critical · Drift on age" in text.get_content()
    assert "https://driftline.example.com/alerts/credit-drift/age" in text.get_content()
    assert '<a href="https://driftline.example.com/alerts/credit-drift/age">' in html.get_content()


@pytest.fixture
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Server and client TLS contexts for ``smtp.pinned.test``, from a throwaway CA."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("smtp.pinned.test").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    return server_tls, client_tls


PINNED = EgressPolicy(["127.0.0.1"], resolver=lambda host, port: ["127.0.0.1"])


def test_starttls_and_login_verify_the_host_name_at_a_pinned_address(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, client_tls = tls
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=server_tls) as port:
        outgoing = _email(
            port,
            smtp_host="smtp.pinned.test",
            starttls=True,
            username="driftline",
            password="s3cr3t",
        )
        result = send_email(outgoing, policy=PINNED, timeout_seconds=5, tls_context=client_tls)
        wrong_name = dataclasses.replace(outgoing, host="mail.pinned.test")
        refused = send_email(wrong_name, policy=PINNED, timeout_seconds=5, tls_context=client_tls)

    assert result.outcome == "delivered"
    assert mailbox.logins == [("driftline", "s3cr3t")]
    assert _received(mailbox)["Subject"] == "[FIRING:2] credit-drift credit"
    assert refused.outcome == "failed"
    assert refused.error is not None
    assert refused.error.startswith(
        f"TLS certificate of SMTP server mail.pinned.test:{port} could not be verified"
    )


def test_wrong_credentials_fail(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_tls, client_tls = tls
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=server_tls) as port:
        outgoing = _email(
            port, smtp_host="smtp.pinned.test", starttls=True, username="driftline", password="no"
        )
        result = send_email(outgoing, policy=PINNED, timeout_seconds=5, tls_context=client_tls)

    assert result.outcome == "failed"
    assert result.status_code == 535
    assert result.error is not None
    assert result.error.startswith(f"SMTP server smtp.pinned.test:{port} answered 535: ")
    assert mailbox.messages == []


def test_a_server_without_auth_fails_when_the_channel_logs_in() -> None:
    with smtp_server(Mailbox()) as port:  # without TLS aiosmtpd offers no AUTH
        result = send_email(
            _email(port, username="driftline", password="s3cr3t"),
            policy=LOOPBACK,
            timeout_seconds=5,
        )

    assert result.outcome == "failed"
    assert result.error == (
        f"SMTP server 127.0.0.1:{port} does not support what the channel needs: "
        "SMTP AUTH extension not supported by server."
    )


def test_a_server_without_starttls_is_refused_when_the_channel_requires_it() -> None:
    with smtp_server(Mailbox()) as port:
        result = send_email(_email(port, starttls=True), policy=LOOPBACK, timeout_seconds=5)

    assert result.outcome == "failed"
    assert result.error == (
        f"SMTP server 127.0.0.1:{port} does not offer STARTTLS, which the channel requires "
        "(starttls: true)"
    )


def test_a_temporary_refusal_is_a_retry() -> None:
    mailbox = Mailbox(data_reply="451 4.3.0 Mail server temporarily rejected message")
    with smtp_server(mailbox) as port:
        result = send_email(_email(port), policy=LOOPBACK, timeout_seconds=5)

    assert result.outcome == "retry"
    assert result.status_code == 451
    assert result.error == (
        f"SMTP server 127.0.0.1:{port} answered 451: 4.3.0 Mail server temporarily rejected message"
    )


def test_a_permanent_refusal_fails() -> None:
    mailbox = Mailbox(rcpt_reply="550 5.1.1 No such user")
    with smtp_server(mailbox) as port:
        result = send_email(_email(port), policy=LOOPBACK, timeout_seconds=5)

    assert result.outcome == "failed"
    assert result.status_code == 550
    assert result.error is not None
    assert result.error.startswith(f"SMTP server 127.0.0.1:{port} refused every recipient: ")
    assert "ml-oncall@example.com (550 5.1.1 No such user)" in result.error


def test_loopback_smtp_is_refused_without_the_allow_list() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        result = send_email(_email(port), policy=EgressPolicy(), timeout_seconds=5)

    assert result.outcome == "failed"
    assert result.error == (
        f"SMTP server 127.0.0.1:{port} resolves to 127.0.0.1, a loopback address; refused "
        "unless allow-listed in DRIFTLINE_EGRESS_ALLOW"
    )
    assert mailbox.messages == []


def test_nothing_listening_is_a_retry() -> None:
    with smtp_server(Mailbox()) as port:
        pass
    result = send_email(_email(port), policy=LOOPBACK, timeout_seconds=5)

    assert result.outcome == "retry"
    assert result.error is not None
    assert result.error.startswith(f"cannot talk to SMTP server 127.0.0.1:{port}: ")
