"""What a rendered notification is: an HTTP request or an e-mail, ready to send.

Both are plain values built by the channel renderers (pure functions) and sent by
:mod:`monitor.alerting.egress`. They hold resolved credentials (webhook URLs, API keys,
passwords), so their ``repr`` shows where they go but never a credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Final, Literal
from urllib.parse import urlsplit

import monitor

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "USER_AGENT",
    "OutgoingEmail",
    "OutgoingRequest",
    "redact_url",
]

DEFAULT_TIMEOUT_SECONDS: Final = 10.0
"""Request timeout of channels whose declaration has no ``timeout_seconds``."""
USER_AGENT: Final = f"Driftline/{monitor.__version__}"
"""``User-Agent`` of every outgoing request."""


def redact_url(url: str) -> str:
    """The scheme, host and port of a URL, with the rest elided.

    Webhook URLs often carry their credential in the path or query (Slack, Teams), so
    messages and ``repr`` show only where a request goes.

    Parameters
    ----------
    url
        Any URL.

    Returns
    -------
    str
        ``scheme://host[:port]/...`` (``/...`` only when the URL had more), or ``'<invalid URL>'``.

    Examples
    --------
    >>> redact_url("https://hooks.slack.com/services/T0/B0/s3cr3t")
    'https://hooks.slack.com/...'
    >>> redact_url("http://169.254.169.254")
    'http://169.254.169.254'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    rest = parts.path not in {"", "/"} or parts.query or parts.fragment
    return f"{parts.scheme}://{netloc}{'/...' if rest else ''}"


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """One HTTP request to a receiver.

    Attributes
    ----------
    method
        ``POST`` for every channel so far.
    url
        The full URL (may hold a credential).
    headers
        Request headers, ``Content-Type`` included (values may hold credentials).
    body
        The exact bytes to send; signatures cover these bytes.
    timeout_seconds
        Timeout of the whole attempt.
    """

    method: Literal["POST", "PUT"]
    url: str = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    timeout_seconds: float

    def __repr__(self) -> str:
        names = ", ".join(sorted(self.headers))
        return (
            f"OutgoingRequest({self.method} {redact_url(self.url)}, headers=[{names}], "
            f"body={len(self.body)} bytes, timeout_seconds={self.timeout_seconds})"
        )


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One e-mail and the SMTP server to hand it to.

    Attributes
    ----------
    host, port
        The SMTP server.
    starttls
        Whether to upgrade the connection with STARTTLS (certificate verified) before
        authenticating and sending.
    username, password
        SMTP credentials, both or neither.
    from_address
        Envelope sender.
    to
        Envelope recipients.
    message
        The message, headers included.
    """

    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None = field(repr=False)
    from_address: str
    to: tuple[str, ...]
    message: EmailMessage = field(repr=False)
