"""Tests of the ``pagerduty`` channel: Events API v2 trigger and resolve."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from monitor.alerting.channels import pagerduty
from monitor.alerting.model import Notification
from monitor.project.channels import PagerDutyChannel
from tests.unit.monitor.alerting.channels.items import (
    GROUP_KEY,
    NOW,
    alert,
    channel,
    notification,
)

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"


def _render(item: Notification, **fields: Any) -> dict[str, Any]:
    spec = channel(type="pagerduty", routing_key=ROUTING_KEY, **fields)
    assert isinstance(spec, PagerDutyChannel)
    request = pagerduty.render(spec, item, now=NOW)
    assert request.url == fields.get("events_url", "https://events.pagerduty.com/v2/enqueue")
    assert ROUTING_KEY not in repr(request)
    result: dict[str, Any] = json.loads(request.body)
    return result


def test_trigger_event() -> None:
    body = _render(notification())

    assert list(body) == [
        "routing_key",
        "event_action",
        "dedup_key",
        "payload",
        "client",
        "client_url",
        "links",
    ]
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] == hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert body["client"] == "Driftline"
    assert body["client_url"] == "https://driftline.example.com"
    payload = body["payload"]
    assert payload["summary"] == "[FIRING:2] credit-drift credit"
    assert payload["source"] == "driftline.example.com"
    assert payload["severity"] == "critical"
    assert payload["timestamp"] == "2026-05-01T12:00:00Z"
    assert payload["component"] == "credit"
    assert payload["class"] == "credit-drift"
    assert "group" not in payload  # no common monitor label
    details = payload["custom_details"]
    assert details["notification_reason"] == "first notification"
    assert [item["labels"]["feature"] for item in details["firing"]] == ["age", "income"]
    assert details["resolved"] == []
    assert details["firing"][0] == {
        "rule": "credit-drift",
        "severity": "critical",
        "value": 0.4213,
        "labels": {"rule": "credit-drift", "model": "credit", "feature": "age"},
        "annotations": {"summary": "Drift on age"},
        "starts_at": "2026-05-01T11:50:00Z",
        "ends_at": None,
        "url": "https://driftline.example.com/alerts/credit-drift/age",
    }
    assert body["links"] == [
        {"href": "https://driftline.example.com/alerts/credit-drift/age", "text": "Drift on age"},
        {
            "href": "https://driftline.example.com/alerts/credit-drift/income",
            "text": "Drift on income",
        },
        {"href": "https://driftline.example.com", "text": "Driftline dashboard"},
    ]


def test_resolve_carries_the_dedup_key_of_the_trigger() -> None:
    trigger = _render(notification())
    resolve = _render(notification(alert(state="resolved"), status="resolved", key="ntf_other"))

    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }


def test_severity_maps_from_the_highest_firing_alert() -> None:
    for severities, expected in [
        (("info",), "info"),
        (("warning", "info"), "warning"),
        (("info", "critical", "warning"), "critical"),
    ]:
        alerts = tuple(
            alert(feature=f"f{index}", severity=severity)  # type: ignore[arg-type]
            for index, severity in enumerate(severities)
        )
        assert _render(notification(*alerts))["payload"]["severity"] == expected


def test_resolved_alerts_do_not_raise_the_severity() -> None:
    item = notification(alert(feature="a", severity="warning"), alert(state="resolved"))

    payload = _render(item)["payload"]

    assert payload["severity"] == "warning"
    assert [a["labels"]["feature"] for a in payload["custom_details"]["resolved"]] == ["age"]


def test_single_alert_summary_names_it() -> None:
    body = _render(notification(alert()), events_url="https://events.eu.pagerduty.com/v2/enqueue")

    assert body["payload"]["summary"] == "[FIRING:1] credit-drift credit: Drift on age"


def test_oversized_events_lose_their_details() -> None:
    annotations = {"summary": "s", "description": "d" * 30_000}
    alerts = tuple(alert(feature=f"f{index}", annotations=annotations) for index in range(20))

    body = _render(notification(*alerts))

    assert "custom_details" not in body["payload"]
    assert len(json.dumps(body)) < 512_000
    assert len(body["links"]) == 10
    assert body["links"][-1]["text"] == "Driftline dashboard"
