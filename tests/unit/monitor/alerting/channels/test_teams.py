"""Tests of the ``teams`` channel: an Adaptive Card in a Workflows message."""

from __future__ import annotations

import json
from typing import Any

from monitor.alerting.channels import teams
from monitor.alerting.model import Notification
from monitor.project.channels import TeamsChannel
from tests.unit.monitor.alerting.channels.items import NOW, alert, channel, notification

URL = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual?sig=s3cr3t"


def _render(item: Notification) -> dict[str, Any]:
    spec = channel(type="teams", webhook_url=URL)
    assert isinstance(spec, TeamsChannel)
    request = teams.render(spec, item, now=NOW)
    assert request.url == URL
    assert "s3cr3t" not in repr(request)
    result: dict[str, Any] = json.loads(request.body)
    return result


def test_message_attachment_format() -> None:
    body = _render(notification())

    assert list(body) == ["type", "attachments"]
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["msteams"] == {"width": "full"}
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in Driftline",
            "url": "https://driftline.example.com",
        }
    ]


def test_card_body() -> None:
    card = _render(notification())["attachments"][0]["content"]

    heading, reason, summary, facts, second_summary, _ = card["body"]
    assert heading == {
        "type": "TextBlock",
        "text": "[FIRING:2] credit-drift credit",
        "size": "Large",
        "weight": "Bolder",
        "color": "Attention",
        "wrap": True,
    }
    assert reason["text"] == "Driftline · first notification"
    assert summary == {
        "type": "TextBlock",
        "text": "**[Drift on age](https://driftline.example.com/alerts/credit-drift/age)**",
        "color": "Attention",
        "separator": True,
        "wrap": True,
    }
    assert facts == {
        "type": "FactSet",
        "facts": [
            {"title": "Severity", "value": "critical"},
            {"title": "State", "value": "firing"},
            {"title": "Rule", "value": "credit-drift"},
            {"title": "Value", "value": "0.4213"},
            {"title": "feature", "value": "age"},
            {"title": "model", "value": "credit"},
            {"title": "rule", "value": "credit-drift"},
            {"title": "Since", "value": "2026-05-01 11:50:00 UTC"},
        ],
    }
    assert second_summary["text"].startswith("**[Drift on income]")


def test_resolved_card_is_green_and_links_to_the_alert() -> None:
    card = _render(notification(alert(state="resolved"), status="resolved"))["attachments"][0][
        "content"
    ]

    assert card["body"][0]["text"] == "[RESOLVED] credit-drift credit"
    assert card["body"][0]["color"] == "Good"
    assert card["body"][2]["color"] == "Good"
    assert {"title": "Resolved", "value": "2026-05-01 12:00:00 UTC"} in card["body"][3]["facts"]
    assert card["actions"][0]["url"] == "https://driftline.example.com/alerts/credit-drift/age"


def test_large_groups_stay_under_the_workflows_size_limit() -> None:
    alerts = tuple(alert(feature=f"feature_{index:03d}" * 4) for index in range(200))

    request_body = _render(notification(*alerts))
    card = request_body["attachments"][0]["content"]

    assert len(json.dumps(request_body).encode()) < 28_000
    assert card["body"][-1]["text"].startswith("…and ")
    assert card["body"][-1]["text"].endswith(
        "more alerts: [see them all on the dashboard](https://driftline.example.com)"
    )
