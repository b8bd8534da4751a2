"""Handing an e-mail to an SMTP server at a checked address.

The connection opens to an address the policy checked, while ``STARTTLS`` verifies the
server certificate against the configured host name (``smtplib`` keeps the name it was
given). Outcomes: accepted → delivered (some recipients refused → still delivered, with
``error`` listing them); a 4xx reply → retry; a 5xx reply, failed authentication, a missing
extension (``STARTTLS`` required by the channel, ``AUTH``) or an unverifiable certificate
→ failed; timeouts, disconnections and network errors → retry.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from collections.abc import Sequence

from monitor.alerting.channels.outgoing import OutgoingEmail
from monitor.alerting.egress.addresses import Address
from monitor.alerting.egress.policy import EgressPolicy, EgressRefusedError, UnresolvableHostError
from monitor.alerting.egress.result import Outcome, SendResult, certificate_error, excerpt

__all__ = ["send_email"]


def send_email(
    email: OutgoingEmail,
    *,
    policy: EgressPolicy,
    timeout_seconds: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
) -> SendResult:
    """Check the SMTP server against the policy and hand it the message.

    Parameters
    ----------
    email
        The rendered e-mail.
    policy
        Where connections may go; an SMTP relay on a private network must be allow-listed.
    timeout_seconds
        Timeout of each network operation.
    tls_context
        TLS settings for STARTTLS (e.g. trusting a private CA); by default the system's
        trust store, with the certificate verified against ``email.host``.

    Returns
    -------
    SendResult
        ``status_code`` is the SMTP reply code when the server answered; see the module
        docstring for the outcomes.
    """
    where = f"SMTP server {email.host}:{email.port}"
    try:
        addresses = policy.check_host(email.host, email.port, what=where)
    except EgressRefusedError as exc:
        return SendResult("failed", error=str(exc))
    except UnresolvableHostError as exc:
        return SendResult("retry", error=str(exc))
    smtp: _PinnedSMTP | None = None
    try:
        smtp = _PinnedSMTP(email.host, email.port, addresses, timeout_seconds)
        return _converse(smtp, email, where, tls_context or ssl.create_default_context())
    except smtplib.SMTPResponseException as exc:
        return _smtp_reply_failure(exc.smtp_code, exc.smtp_error, where)
    except smtplib.SMTPNotSupportedError as exc:
        return SendResult("failed", error=f"{where} does not support what the channel needs: {exc}")
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        outcome: Outcome = "retry" if all(400 <= code < 500 for code in codes) else "failed"
        error = f"{where} refused every recipient: {_refused(exc.recipients)}"
        return SendResult(outcome, codes[0] if codes else None, None, error)
    except (smtplib.SMTPException, OSError) as exc:
        return _smtp_transport_failure(exc, where, timeout_seconds)
    finally:
        if smtp is not None:
            smtp.close()


def _smtp_transport_failure(exc: OSError, where: str, timeout: float) -> SendResult:
    if certificate_error(exc):
        return SendResult(
            "failed", error=f"TLS certificate of {where} could not be verified: {exc}"
        )
    if isinstance(exc, TimeoutError):
        return SendResult("retry", error=f"no answer from {where} within {timeout:g} s")
    return SendResult("retry", error=f"cannot talk to {where}: {exc or type(exc).__name__}")


def _converse(
    smtp: smtplib.SMTP, email: OutgoingEmail, where: str, tls_context: ssl.SSLContext
) -> SendResult:
    smtp.ehlo()
    if email.starttls:
        if not smtp.has_extn("starttls"):
            error = f"{where} does not offer STARTTLS, which the channel requires (starttls: true)"
            return SendResult("failed", error=error)
        smtp.starttls(context=tls_context)
        smtp.ehlo()
    if email.username is not None:
        smtp.login(email.username, email.password or "")
    refused = smtp.send_message(
        email.message, from_addr=email.from_address, to_addrs=list(email.to)
    )
    with contextlib.suppress(OSError):  # the message was accepted: a failed goodbye is no news
        smtp.quit()
    if refused:
        return SendResult(
            "delivered", 250, None, f"{where} refused some recipients: {_refused(refused)}"
        )
    return SendResult("delivered", 250)


def _smtp_reply_failure(code: int, reply: bytes | str, where: str) -> SendResult:
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply
    shown = excerpt(text.encode("utf-8"))
    outcome: Outcome = "retry" if 400 <= code < 500 else "failed"
    return SendResult(outcome, code, None, f"{where} answered {code}: {shown}", shown)


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(
        f"{address} ({code} {reply.decode('utf-8', errors='replace')})"
        for address, (code, reply) in sorted(recipients.items())
    )


class _PinnedSMTP(smtplib.SMTP):
    """An SMTP client that connects only to checked addresses, keeping the host name for
    STARTTLS certificate verification."""

    def __init__(self, host: str, port: int, addresses: Sequence[Address], timeout: float) -> None:
        self._pinned = tuple(addresses)
        super().__init__(host, port, local_hostname=socket.gethostname(), timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        error: OSError = OSError(f"no checked address for {host}")
        for address in self._pinned:
            try:
                return socket.create_connection((str(address), port), timeout, self.source_address)
            except OSError as exc:
                error = exc
        raise error
