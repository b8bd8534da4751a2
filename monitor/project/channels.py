"""The ``channels`` section: where alert notifications are delivered.

Credential fields are :class:`pydantic.SecretStr`: their values never show in ``repr``,
``str`` or error messages. Write them as ``${NAME}`` references to environment variables.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, StringConstraints, model_validator

from monitor.alerting.signing import (
    MAX_SECRET_BYTES,
    MIN_SECRET_BYTES,
    SigningSecretError,
    parse_secret,
)
from monitor.project._base import Slug, Spec, Text, spec_error

__all__ = [
    "Channel",
    "ChannelType",
    "EmailChannel",
    "OpsgenieChannel",
    "PagerDutyChannel",
    "RetrainChannel",
    "RetrainPreset",
    "SlackChannel",
    "TeamsChannel",
    "WebhookChannel",
]

ChannelType = Literal["slack", "pagerduty", "teams", "opsgenie", "email", "webhook", "retrain"]
RetrainPreset = Literal["url", "airflow", "github"]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers Driftline sets itself on every webhook request.
_RESERVED_HEADERS: Final = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "transfer-encoding",
        "connection",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "idempotency-key",
    }
)
_DAG_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_AIRFLOW_API_PATH = re.compile(r"/api/v\d+/?$")


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
    try:
        parse_secret(value.get_secret_value())
    except SigningSecretError as exc:
        if exc.n_bytes is None:
            msg = "must be a Standard Webhooks secret: 'whsec_' followed by base64"
        else:
            msg = (
                f"must be a Standard Webhooks secret of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} "
                f"bytes, got {exc.n_bytes} bytes"
            )
        raise spec_error(msg) from None
    return value


def _check_header_names(value: dict[str, SecretStr]) -> dict[str, SecretStr]:
    for name in value:
        if _HEADER_NAME.fullmatch(name) is None:
            msg = "is not a valid HTTP header name (letters, digits and !#$%&'*+.^_`|~-)"
            raise spec_error(msg, at=(name,))
        if name.lower() in _RESERVED_HEADERS:
            msg = "is set by Driftline on every request and cannot be set here"
            raise spec_error(msg, at=(name,))
    return value


def _check_dag_id(value: str) -> str:
    if _DAG_ID.fullmatch(value) is None:
        raise spec_error("must be an Airflow DAG id: 1-250 letters, digits, '_', '.' or '-'")
    return value


def _check_repository(value: str) -> str:
    if _REPOSITORY.fullmatch(value) is None:
        raise spec_error("must be a GitHub repository written 'owner/name'")
    return value


Url = Annotated[str, AfterValidator(_check_url)]
SecretUrl = Annotated[SecretStr, AfterValidator(_check_secret_url)]
EmailAddress = Annotated[str, AfterValidator(_check_email)]
Secret = Annotated[SecretStr, Field(min_length=1)]
SigningSecret = Annotated[SecretStr, AfterValidator(_check_signing_secret)]
Headers = Annotated[dict[str, SecretStr], AfterValidator(_check_header_names)]
DagId = Annotated[str, AfterValidator(_check_dag_id)]
Repository = Annotated[str, AfterValidator(_check_repository)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=100)]


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
    secret: SigningSecret | None = None
    """Standard Webhooks signing secret (``whsec_`` + base64 of 24-64 bytes); unsigned when
    unset."""
    headers: Headers = Field(default_factory=dict)
    """Extra request headers; values are secrets since they often carry credentials. The
    headers Driftline sets (``Content-Type``, ``webhook-*``, ``Idempotency-Key``, ...) cannot be
    overridden."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    """Request timeout."""


# Which presets each preset-specific field of a retrain channel applies to.
_RETRAIN_FIELDS: Final[dict[str, tuple[RetrainPreset, ...]]] = {
    "url": ("url", "airflow"),
    "dag_id": ("airflow",),
    "api_version": ("airflow",),
    "username": ("airflow",),
    "password": ("airflow",),
    "token": ("airflow", "github"),
    "repository": ("github",),
    "event_type": ("github",),
    "api_url": ("github",),
}
_RETRAIN_REQUIRED: Final[dict[RetrainPreset, tuple[str, ...]]] = {
    "url": ("url", "secret"),
    "airflow": ("url", "dag_id"),
    "github": ("repository", "token"),
}


class RetrainChannel(_ChannelBase):
    """A retraining trigger: a signed webhook, an Airflow DAG run or a GitHub dispatch.

    ``preset: url`` POSTs ``{"type": "driftline.retrain", "timestamp", "data"}`` to ``url``,
    signed per Standard Webhooks with ``secret``. ``preset: airflow`` triggers a run of
    ``dag_id`` through Airflow's REST API (``api_version`` 1 for Airflow 2, 2 for Airflow 3)
    with the data as ``conf``. ``preset: github`` sends a ``repository_dispatch`` event to
    ``repository`` with the data as ``client_payload``.
    """

    type: Literal["retrain"]
    preset: RetrainPreset = "url"
    """Which kind of receiver: ``url``, ``airflow`` or ``github``."""
    url: Url | None = None
    """``url``: the receiver's URL; ``airflow``: the base URL of the Airflow web server (the
    API path ``/api/v1`` or ``/api/v2`` is appended)."""
    secret: SigningSecret | None = None
    """Standard Webhooks signing secret (``whsec_`` + base64 of 24-64 bytes); required for
    ``url``, optional for the other presets (which are then signed too)."""
    dag_id: DagId | None = None
    """``airflow``: the DAG to trigger."""
    api_version: Literal[1, 2] = 1
    """``airflow``: 1 for Airflow 2's ``/api/v1``, 2 for Airflow 3's ``/api/v2``."""
    username: Text | None = None
    """``airflow``: user name for HTTP Basic authentication (API v1); needs ``password``."""
    password: Secret | None = None
    """``airflow``: password for HTTP Basic authentication; needs ``username``."""
    token: Secret | None = None
    """``airflow``: a bearer token (a JWT for API v2); ``github``: a token allowed to write
    the repository's contents."""
    repository: Repository | None = None
    """``github``: the repository receiving the event, ``owner/name``."""
    event_type: EventType = "driftline.retrain"
    """``github``: the ``event_type`` a workflow's ``on.repository_dispatch.types`` lists."""
    api_url: Url = "https://api.github.com"
    """``github``: the REST API base URL (GitHub Enterprise Server: ``https://HOST/api/v3``)."""
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    """Request timeout."""

    @model_validator(mode="after")
    def _fields_fit_preset(self) -> Self:
        for name in sorted(self.model_fields_set & _RETRAIN_FIELDS.keys()):
            presets = _RETRAIN_FIELDS[name]
            if self.preset not in presets:
                which = " or ".join(repr(preset) for preset in presets)
                msg = f"only applies to preset {which}; this channel's preset is {self.preset!r}"
                raise spec_error(msg, at=(name,))
        for name in _RETRAIN_REQUIRED[self.preset]:
            if getattr(self, name) is None:
                raise spec_error(f"required for preset {self.preset!r}", at=(name,))
        if self.preset == "airflow":
            self._check_airflow()
        return self

    def _check_airflow(self) -> None:
        if self.url is not None and _AIRFLOW_API_PATH.search(urlsplit(self.url).path):
            msg = (
                "must be the base URL of the Airflow web server, without the API path "
                "(/api/v1 or /api/v2 follows from api_version)"
            )
            raise spec_error(msg, at=("url",), got=self.url, got_mode="value")
        if self.token is not None and (self.username is not None or self.password is not None):
            at = "username" if self.username is not None else "password"
            msg = "cannot be combined with token: use a bearer token or a user name and password"
            raise spec_error(msg, at=(at,))
        if (self.username is None) != (self.password is None):
            missing, given = (
                ("password", "username") if self.password is None else ("username", "password")
            )
            raise spec_error(f"required when {given} is set (HTTP basic auth)", at=(missing,))
        if self.api_version == 2 and self.username is not None:
            msg = (
                "basic auth works with Airflow's API v1 only; API v2 (Airflow 3) takes a JWT "
                "bearer token: set token instead"
            )
            raise spec_error(msg, at=("username",))


Channel = Annotated[
    SlackChannel
    | PagerDutyChannel
    | TeamsChannel
    | OpsgenieChannel
    | EmailChannel
    | WebhookChannel
    | RetrainChannel,
    Field(discriminator="type"),
]
"""Any channel, selected by its ``type``."""
