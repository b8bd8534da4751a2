"""The ``channels`` section: where alert notifications are delivered.

Credential fields are :class:`pydantic.SecretStr`: their values never show in ``repr``,
``str`` or error messages. Write them as ``${NAME}`` references to environment variables.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, model_validator

from monitor.project._base import Slug, Spec, Text, spec_error

__all__ = [
    "Channel",
    "ChannelType",
    "EmailChannel",
    "OpsgenieChannel",
    "PagerDutyChannel",
    "SlackChannel",
    "TeamsChannel",
    "WebhookChannel",
]

ChannelType = Literal["slack", "pagerduty", "teams", "opsgenie", "email", "webhook"]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise spec_error("must be an http:// or https:// URL")
    return value


def _check_secret_url(value: SecretStr) -> SecretStr:
    _check_url(value.get_secret_value())
    return value


def _check_email(value: str) -> str:
    if _EMAIL.fullmatch(value) is None:
        raise spec_error("must be an e-mail address like alerts@example.com")
    return value


def _check_signing_secret(value: SecretStr) -> SecretStr:
    encoded = value.get_secret_value().removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        key = b""
    if not key:
        raise spec_error("must be a Standard Webhooks secret: 'whsec_' followed by base64")
    return value


Url = Annotated[str, AfterValidator(_check_url)]
SecretUrl = Annotated[SecretStr, AfterValidator(_check_secret_url)]
EmailAddress = Annotated[str, AfterValidator(_check_email)]
Secret = Annotated[SecretStr, Field(min_length=1)]


class _ChannelBase(Spec):
    name: Slug
    """Unique name of the channel, used by ``alert_rules[].channels``."""
    send_resolved: bool = True
    """Whether a notification is also sent when the alert resolves."""


class SlackChannel(_ChannelBase):
    """A Slack incoming webhook."""

    type: Literal["slack"]
    webhook_url: SecretUrl
    """Incoming-webhook URL (a credential)."""


class PagerDutyChannel(_ChannelBase):
    """A PagerDuty Events API v2 integration."""

    type: Literal["pagerduty"]
    routing_key: Secret
    """Integration (routing) key of the service."""
    events_url: Url = "https://events.pagerduty.com/v2/enqueue"
    """Events API endpoint (EU accounts use ``https://events.eu.pagerduty.com/v2/enqueue``)."""


class TeamsChannel(_ChannelBase):
    """A Microsoft Teams incoming webhook (Workflows)."""

    type: Literal["teams"]
    webhook_url: SecretUrl
    """Webhook URL (a credential)."""


class OpsgenieChannel(_ChannelBase):
    """An Opsgenie Alert API integration."""

    type: Literal["opsgenie"]
    api_key: Secret
    """API key of the integration."""
    api_url: Url = "https://api.opsgenie.com"
    """API base URL (EU accounts use ``https://api.eu.opsgenie.com``)."""


class EmailChannel(_ChannelBase):
    """E-mail sent through an SMTP server."""

    type: Literal["email"]
    smtp_host: Text
    """SMTP server host name."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    """SMTP server port."""
    starttls: bool = True
    """Whether to upgrade the connection with STARTTLS."""
    username: str | None = None
    """SMTP user name, if the server needs authentication."""
    password: Secret | None = None
    """SMTP password; needs ``username``."""
    from_address: EmailAddress
    """Sender address."""
    to: tuple[EmailAddress, ...] = Field(min_length=1)
    """Recipient addresses."""

    @model_validator(mode="after")
    def _password_needs_username(self) -> Self:
        if self.password is not None and self.username is None:
            raise spec_error("requires username to be set", at=("password",))
        return self


class WebhookChannel(_ChannelBase):
    """An HTTP POST of the alert as JSON, signed per Standard Webhooks when ``secret`` is set."""

    type: Literal["webhook"]
    url: Url
    """Receiver URL."""
    secret: Annotated[SecretStr, AfterValidator(_check_signing_secret)] | None = None
    """Standard Webhooks signing secret (``whsec_`` + base64); unsigned when unset."""
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    """Extra request headers; values are secrets since they often carry credentials."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    """Request timeout."""


Channel = Annotated[
    SlackChannel
    | PagerDutyChannel
    | TeamsChannel
    | OpsgenieChannel
    | EmailChannel
    | WebhookChannel,
    Field(discriminator="type"),
]
"""Any channel, selected by its ``type``."""
