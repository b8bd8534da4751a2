"""Tests of the ``opsgenie`` channel: create by alias, close by alias."""

from __future__ import annotations

import hashlib
import json

from monitor.alerting.channels import opsgenie
from monitor.alerting.channels.outgoing import OutgoingRequest
from monitor.alerting.model import Notification
from monitor.project.channels import OpsgenieChannel
from tests.unit.monitor.alerting.channels.items import (
    GROUP_KEY,
    NOW,
    alert,
    channel,
    notification,
)

API_KEY = "0123abcd-s3cr3t"
ALIAS = hashlib.sha256(GROUP_KEY.encode()).hexdigest()


def _render(item: Notification, **fields: str) -> OutgoingRequest:
    spec = channel(type="opsgenie", api_key=API_KEY, **fields)
    assert isinstance(spec, OpsgenieChannel)
    request = opsgenie.render(spec, item, now=NOW)
    assert request.headers["Authorization"] == f"GenieKey {API_KEY}"
    assert API_KEY not in repr(request)
    return request


def test_firing_creates_an_alert() -> None:
    request = _render(notification())
    body = json.loads(request.body)

    assert request.url == "https://api.opsgenie.com/v2/alerts"
    assert body["message"] == "[FIRING:2] credit-drift credit"
    assert body["alias"] == ALIAS
    assert body["source"] == "Driftline"
    assert body["priority"] == "P1"
    assert body["entity"] == "credit"
    assert body["tags"] == [
        "driftline",
        "critical",
        "credit-drift",
        "model:credit",
        "rule:credit-drift",
    ]
    assert body["details"] == {
        "dashboard": "https://driftline.example.com",
        "notification_reason": "first notification",
        "group_key": GROUP_KEY,
        "label.model": "credit",
        "label.rule": "credit-drift",
    }
    assert body["description"].startswith(
        "[FIRING:2] credit-drift credit (first notification)\n\n"
        "Dashboard: https://driftline.example.com\n\n"
        "FIRING critical: Drift on age\n"
        "Rule: credit-drift · Value: 0.4213\n"
        "Labels: feature=age, model=credit, rule=credit-drift\n"
        "Since: 2026-05-01 11:50:00 UTC\n"
        "Link: https://driftline.example.com/alerts/credit-drift/age"
    )


def test_resolved_closes_the_same_alias() -> None:
    created = json.loads(_render(notification()).body)
    request = _render(
        notification(alert(state="resolved"), status="resolved", key="ntf_2"),
        api_url="https://api.eu.opsgenie.com/",
    )

    assert (
        request.url == f"https://api.eu.opsgenie.com/v2/alerts/{ALIAS}/close?identifierType=alias"
    )
    assert created["alias"] == ALIAS
    assert json.loads(request.body) == {
        "source": "Driftline",
        "note": "Resolved in Driftline: https://driftline.example.com/alerts/credit-drift/age",
    }


def test_alias_is_stable_across_notifications_of_a_group() -> None:
    first = json.loads(_render(notification(key="a")).body)["alias"]
    repeat = json.loads(_render(notification(alert(feature="other"), key="b")).body)["alias"]

    assert first == repeat == ALIAS


def test_priority_follows_severity() -> None:
    for severity, priority in [("critical", "P1"), ("warning", "P3"), ("info", "P5")]:
        item = notification(alert(severity=severity))  # type: ignore[arg-type]
        assert json.loads(_render(item).body)["priority"] == priority


def test_fields_are_cut_to_opsgenie_limits() -> None:
    long_rule_alerts = tuple(
        alert(feature=f"f{index}", annotations={"summary": "y" * 2000}) for index in range(30)
    )

    body = json.loads(_render(notification(*long_rule_alerts)).body)

    assert len(body["message"]) <= 130
    assert len(body["description"]) == 15_000
    assert body["description"].endswith("…")
    assert len(body["tags"]) <= 20
    assert all(len(tag) <= 50 for tag in body["tags"])
