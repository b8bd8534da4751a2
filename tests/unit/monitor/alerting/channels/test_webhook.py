"""Tests of the ``webhook`` channel: Alertmanager's payload v4, signed per Standard Webhooks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from standardwebhooks import Webhook

from monitor.alerting.channels import webhook
from monitor.alerting.channels.outgoing import USER_AGENT
from monitor.project.channels import WebhookChannel
from tests.unit.monitor.alerting.channels.items import (
    NOW,
    SECRET,
    alert,
    channel,
    notification,
)

ALERTMANAGER_V4_KEYS = [
    "version",
    "groupKey",
    "truncatedAlerts",
    "status",
    "receiver",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "notification_reason",
    "alerts",
]
ALERT_KEYS = [
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
]


def _spec(**fields: object) -> WebhookChannel:
    spec = channel(type="webhook", url="https://hooks.example.com/driftline", **fields)
    assert isinstance(spec, WebhookChannel)
    return spec


def test_firing_body_is_alertmanager_v4() -> None:
    item = notification()

    request = webhook.render(_spec(), item, now=NOW)
    body = json.loads(request.body)

    assert list(body) == ALERTMANAGER_V4_KEYS
    assert body["version"] == "4"
    assert body["groupKey"] == '{}/{rule="credit-drift"}:{model="credit", rule="credit-drift"}'
    assert body["truncatedAlerts"] == 0
    assert body["status"] == "firing"
    assert body["receiver"] == "hook"
    assert body["groupLabels"] == {"model": "credit", "rule": "credit-drift"}
    assert body["commonLabels"] == {"rule": "credit-drift", "model": "credit"}
    assert body["commonAnnotations"] == {}
    assert body["externalURL"] == "https://driftline.example.com"
    assert body["notification_reason"] == "first notification"
    first, second = body["alerts"]
    assert list(first) == ALERT_KEYS
    assert first == {
        "status": "firing",
        "labels": {"rule": "credit-drift", "model": "credit", "feature": "age"},
        "annotations": {"summary": "Drift on age", "value": "0.4213"},
        "startsAt": "2026-05-01T11:50:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://driftline.example.com/alerts/credit-drift/age",
        "fingerprint": item.alerts[0].fingerprint,
    }
    assert second["labels"]["feature"] == "income"
    assert second["annotations"] == {"summary": "Drift on income", "value": "0.25"}


def test_resolved_alert_carries_its_end() -> None:
    item = notification(alert(state="resolved"), status="resolved")

    body = json.loads(webhook.render(_spec(), item, now=NOW).body)

    assert body["status"] == "resolved"
    assert body["notification_reason"] == "all alerts resolved"
    assert body["alerts"][0]["status"] == "resolved"
    assert body["alerts"][0]["endsAt"] == "2026-05-01T12:00:00Z"


def test_a_value_annotation_of_the_rule_is_kept() -> None:
    item = notification(alert(annotations={"value": "42 %"}, value=0.42))

    body = json.loads(webhook.render(_spec(), item, now=NOW).body)

    assert body["alerts"][0]["annotations"] == {"value": "42 %"}


def test_an_alert_without_value_gets_no_value_annotation() -> None:
    item = notification(alert(value=None))

    body = json.loads(webhook.render(_spec(), item, now=NOW).body)

    assert body["alerts"][0]["annotations"] == {"summary": "Drift on age"}


def test_unsigned_request_headers() -> None:
    request = webhook.render(_spec(), notification(), now=NOW)

    assert request.method == "POST"
    assert request.url == "https://hooks.example.com/driftline"
    assert request.timeout_seconds == 10.0
    assert request.headers == {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": "ntf_7Hq2",
        "webhook-timestamp": "1777636805",
        "Idempotency-Key": "ntf_7Hq2",
    }


def test_signed_request_verifies_with_the_reference_library() -> None:
    # The reference library checks the timestamp against its clock (5 minutes' tolerance).
    now = dt.datetime.now(dt.UTC)
    request = webhook.render(_spec(secret=SECRET), notification(), now=now)

    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    verified = Webhook(SECRET).verify(request.body, request.headers)
    assert verified["groupKey"] == notification().group_key


def test_custom_headers_are_sent() -> None:
    spec = _spec(headers={"Authorization": "Bearer s3cr3t", "X-Team": "risk"}, timeout_seconds=3)

    request = webhook.render(spec, notification(), now=NOW)

    assert request.headers["Authorization"] == "Bearer s3cr3t"
    assert request.headers["X-Team"] == "risk"
    assert request.timeout_seconds == 3
    assert "s3cr3t" not in repr(request)


def test_the_signature_covers_the_attempt_time() -> None:
    item = notification()
    first = webhook.render(_spec(secret=SECRET), item, now=NOW)
    later = webhook.render(_spec(secret=SECRET), item, now=NOW.replace(minute=5))

    assert first.body == later.body
    assert first.headers["webhook-id"] == later.headers["webhook-id"]
    assert first.headers["webhook-signature"] != later.headers["webhook-signature"]


def test_a_key_unfit_for_headers_becomes_a_stable_id() -> None:
    item = notification(key="group.1/attempt")

    first = webhook.render(_spec(), item, now=NOW).headers["webhook-id"]
    again = webhook.render(_spec(), item, now=NOW).headers["webhook-id"]

    assert first == again
    assert first.startswith("msg_")
    assert "." not in first


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        webhook.render(_spec(), notification(), now=NOW.replace(tzinfo=None))
