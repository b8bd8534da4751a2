"""Tests of :func:`monitor.alerting.channels.render_any`: dispatch and refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.alerting.channels import (
    ChannelMismatchError,
    OutgoingEmail,
    OutgoingRequest,
    render_any,
)
from monitor.errors import ConfigError
from tests.unit.monitor.alerting.channels.items import (
    NOW,
    SECRET,
    channel,
    notification,
    retrain_request,
)

DECLARATIONS: dict[str, dict[str, Any]] = {
    "slack": {"type": "slack", "webhook_url": "https://hooks.slack.com/services/x"},
    "pagerduty": {"type": "pagerduty", "routing_key": "r" * 32},
    "teams": {"type": "teams", "webhook_url": "https://example.logic.azure.com/wf?sig=x"},
    "opsgenie": {"type": "opsgenie", "api_key": "k"},
    "webhook": {"type": "webhook", "url": "https://hooks.example.com/x"},
    "email": {
        "type": "email",
        "smtp_host": "smtp.example.com",
        "from_address": "driftline@example.com",
        "to": ["oncall@example.com"],
    },
}


@pytest.mark.parametrize(
    ("kind", "url", "marker"),
    [
        ("slack", "https://hooks.slack.com/services/x", "blocks"),
        ("pagerduty", "https://events.pagerduty.com/v2/enqueue", "dedup_key"),
        ("teams", "https://example.logic.azure.com/wf?sig=x", "attachments"),
        ("opsgenie", "https://api.opsgenie.com/v2/alerts", "alias"),
        ("webhook", "https://hooks.example.com/x", "groupKey"),
    ],
)
def test_notifications_go_to_the_channel_module(kind: str, url: str, marker: str) -> None:
    result = render_any(channel(**DECLARATIONS[kind]), notification(), now=NOW)

    assert isinstance(result, OutgoingRequest)
    assert result.url == url
    assert marker in json.loads(result.body)


def test_email_channels_give_an_email() -> None:
    result = render_any(channel(**DECLARATIONS["email"]), notification(), now=NOW)

    assert isinstance(result, OutgoingEmail)
    assert result.message["Subject"] == "[FIRING:2] credit-drift credit"


def test_retraining_requests_go_to_retrain_channels() -> None:
    spec = channel(type="retrain", url="https://ci.example.com/hook", secret=SECRET)

    result = render_any(spec, retrain_request(), now=NOW)

    assert isinstance(result, OutgoingRequest)
    assert json.loads(result.body)["type"] == "driftline.retrain"


@pytest.mark.parametrize("kind", sorted(DECLARATIONS))
def test_retraining_requests_are_refused_by_alert_channels(kind: str) -> None:
    with pytest.raises(ChannelMismatchError) as caught:
        render_any(channel(**DECLARATIONS[kind]), retrain_request(), now=NOW)

    assert str(caught.value) == (
        f"channel 'hook' is of type '{kind}' and cannot carry retraining request 'rtr_91xK' "
        "of rule 'credit-drift': retraining requests go to channels of type 'retrain'"
    )
    assert isinstance(caught.value, ConfigError)


def test_notifications_are_refused_by_retrain_channels() -> None:
    spec = channel(type="retrain", url="https://ci.example.com/hook", secret=SECRET)

    with pytest.raises(ChannelMismatchError, match="channel 'hook' is of type 'retrain' and"):
        render_any(spec, notification(), now=NOW)


def test_items_addressed_to_another_channel_are_refused() -> None:
    with pytest.raises(ChannelMismatchError) as caught:
        render_any(channel(**DECLARATIONS["slack"]), notification(channel_name="pd"), now=NOW)

    assert str(caught.value) == (
        "notification 'ntf_7Hq2' is addressed to channel 'pd', not to channel 'hook' it was "
        "rendered for"
    )
