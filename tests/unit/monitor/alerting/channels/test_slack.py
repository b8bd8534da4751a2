"""Tests of the ``slack`` channel: a Block Kit message within Slack's limits."""

from __future__ import annotations

import json
from typing import Any

from monitor.alerting.channels import slack
from monitor.project.channels import SlackChannel
from tests.unit.monitor.alerting.channels.items import NOW, alert, channel, notification

URL = "https://hooks.slack.com/services/T0/B0/s3cr3t"


def _render(item: Any) -> dict[str, Any]:
    spec = channel(type="slack", webhook_url=URL)
    assert isinstance(spec, SlackChannel)
    request = slack.render(spec, item, now=NOW)
    assert request.url == URL
    assert request.headers["Content-Type"] == "application/json"
    assert "s3cr3t" not in repr(request)
    result: dict[str, Any] = json.loads(request.body)
    return result


def test_firing_message_blocks() -> None:
    body = _render(notification())

    assert body["text"] == "[FIRING:2] credit-drift credit: https://driftline.example.com"
    header, first, second, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": ":rotating_light: [FIRING:2] credit-drift credit",
            "emoji": True,
        },
    }
    assert first == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": (
                ":red_circle: *<https://driftline.example.com/alerts/credit-drift/age|"
                "Drift on age>* · critical · firing\n"
                "*Rule:* credit-drift · *Value:* 0.4213\n"
                "*Labels:* feature=age, model=credit, rule=credit-drift\n"
                "*Since:* 2026-05-01 11:50:00 UTC"
            ),
        },
    }
    assert second["text"]["text"].startswith(
        ":red_circle: *<https://driftline.example.com/alerts/credit-drift/income|"
        "Drift on income>* · warning · firing\n*Rule:* credit-drift · *Value:* 0.25\n"
    )
    assert context == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": (
                    "Driftline · first notification · "
                    "<https://driftline.example.com|Open the dashboard>"
                ),
            }
        ],
    }


def test_resolved_message_is_styled_apart() -> None:
    body = _render(notification(alert(state="resolved"), status="resolved"))

    header, section, _ = body["blocks"]
    assert header["text"]["text"] == ":white_check_mark: [RESOLVED] credit-drift credit"
    assert section["text"]["text"].startswith(":large_green_circle: ")
    assert section["text"]["text"].endswith(
        "*Since:* 2026-05-01 11:50:00 UTC · *Resolved:* 2026-05-01 12:00:00 UTC"
    )
    # One alert: the fallback links to its page.
    assert body["text"] == (
        "[RESOLVED] credit-drift credit: https://driftline.example.com/alerts/credit-drift/age"
    )


def test_mrkdwn_control_characters_are_escaped() -> None:
    item = notification(alert(annotations={"summary": "PSI > 0.2 & <rising>"}))

    text = _render(item)["blocks"][1]["text"]["text"]

    assert "|PSI &gt; 0.2 &amp; &lt;rising&gt;>*" in text


def test_many_alerts_stay_within_the_block_limit() -> None:
    alerts = tuple(alert(feature=f"f{index:03d}") for index in range(120))

    blocks = _render(notification(*alerts))["blocks"]

    assert len(blocks) <= 50
    sections = blocks[1:-1]
    shown = sum(block["text"]["text"].startswith(":red_circle:") for block in sections)
    last = sections[-1]["text"]["text"]
    assert last == (
        f"…and {120 - shown} more alerts: "
        "<https://driftline.example.com|see them all on the dashboard>"
    )
    assert sum(len(block["text"]["text"]) for block in sections) <= 12_000
    assert blocks[0]["text"]["text"] == ":rotating_light: [FIRING:120] credit-drift credit"


def test_long_texts_are_cut_to_slack_limits() -> None:
    item = notification(alert(annotations={"summary": "x" * 5000}))

    body = _render(item)

    section = body["blocks"][1]["text"]["text"]
    assert len(section) == 3000
    assert section.endswith("…")
    assert len(body["blocks"][0]["text"]["text"]) <= 150
