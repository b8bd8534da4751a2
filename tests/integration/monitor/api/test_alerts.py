"""``/api/v1/alerts``: filters, paging by ``before``, one alert with its history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from storage.repositories.alerting import (
    AlertRow,
    ChannelDraft,
    RuleDraft,
    add_alert_event,
    enqueue_delivery,
    rule_ids,
    save_alert,
    sync_alerting,
)
from tests.integration.monitor.api.conftest import Api, assert_error, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
ALERTS = 24
RULES = ("drift-high", "errors-up")
MODELS = ("credit", "price")
STATES = ("pending", "firing", "resolved")
CHANNELS = ("ops-slack", "retrain-hook")


@dataclass(frozen=True)
class Alerting:
    """What :func:`seed_alerting` stored: alerts and deliveries by id, with their events."""

    alerts: dict[int, AlertRow]
    events: dict[int, list[str]]
    deliveries: dict[int, dict[str, Any]]


def _rule(name: str) -> RuleDraft:
    return RuleDraft(
        name=name,
        monitor_name=None,
        condition={"metric": "score", "op": ">", "threshold": 0.5},
        for_seconds=0,
        severity="warning",
        labels={},
        annotations={},
        channels=list(CHANNELS),
        config={},
    )


def seed_alerting(engine: Engine, *, deliveries: int = 0) -> Alerting:
    """Two rules with :data:`ALERTS` alerts between them, their history, and deliveries.

    Alert ``i`` belongs to rule ``RULES[i % 2]``, has the label ``model=MODELS[i // 2 % 2]``
    and the state ``STATES[i % 3]``; delivery ``j`` goes to ``CHANNELS[j % 2]``, pending.
    """
    channels = [ChannelDraft(name, "webhook", {"url_env": "HOOK_URL"}) for name in CHANNELS]
    sync_alerting(engine, [_rule(name) for name in RULES], channels)
    alerts: dict[int, AlertRow] = {}
    events: dict[int, list[str]] = {}
    stored: dict[int, dict[str, Any]] = {}
    with engine.begin() as connection:
        ids = rule_ids(connection)
        for i in range(ALERTS):
            rule, state, start = RULES[i % 2], STATES[i % 3], T0 + i * HOUR
            row = AlertRow(
                id=None,
                rule_id=ids[rule],
                rule=rule,
                fingerprint=f"{i:064x}",
                state=state,
                labels={"alertname": rule, "model": MODELS[i // 2 % 2], "severity": "warning"},
                annotations={"summary": f"alert {i}"},
                value=i / 10,
                active_since=start,
                fired_at=None if state == "pending" else start + HOUR,
                resolved_at=start + 2 * HOUR if state == "resolved" else None,
                last_true_at=start,
                last_evaluated_at=start + 2 * HOUR,
            )
            alert_id = save_alert(connection, row)
            history = ["pending", "firing", "resolved"][: STATES.index(state) + 1]
            for step, event in enumerate(history):
                add_alert_event(connection, alert_id, event, start + step * HOUR, row.value)
            alerts[alert_id] = replace(row, id=alert_id)
            events[alert_id] = history
        first = min(alerts)
        for j in range(deliveries):
            payload = {"alert": j, "text": f"alert {j} fired"}
            key = f"delivery-{j}"
            enqueue_delivery(
                connection,
                channel=CHANNELS[j % 2],
                event="firing",
                key=key,
                payload=payload,
                alert_id=first + j % ALERTS,
                now=T0 + j * dt.timedelta(minutes=1),
            )
            stored[j] = {"key": key, "channel": CHANNELS[j % 2], "payload": payload}
    return Alerting(alerts, events, stored)


def dump(row: AlertRow) -> dict[str, Any]:
    """The alert as the API should answer it."""

    def instant(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    return {
        "id": row.id,
        "rule": row.rule,
        "fingerprint": row.fingerprint,
        "state": row.state,
        "labels": row.labels,
        "annotations": row.annotations,
        "value": row.value,
        "active_since": instant(row.active_since),
        "fired_at": instant(row.fired_at),
        "resolved_at": instant(row.resolved_at),
        "last_evaluated_at": instant(row.last_evaluated_at),
    }


async def walk(api: Api, path: str, limit: int, token: str = "reader") -> list[dict[str, Any]]:
    """Every item of every page, following ``next_cursor``; checks each page's size."""
    items: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={limit}"
        if before is not None:
            url += f"&before={before}"
        response = await api.get(url, token=token)
        assert response.status_code == 200, response.text
        page = response.json()
        before = page["next_cursor"]
        if before is not None:
            assert len(page["items"]) == limit, page  # only the last page may be short
            assert before == page["items"][-1]["id"]
        else:
            assert len(page["items"]) <= limit
        items += page["items"]
        if before is None:
            return items


@pytest.mark.parametrize("limit", [1, 5, 24, 1000])
async def test_walking_the_pages_yields_every_alert_once_newest_first(api: Api, limit: int) -> None:
    seeded = seed_alerting(api.engine)

    items = await walk(api, "/api/v1/alerts", limit)

    ids = [item["id"] for item in items]
    assert ids == sorted(seeded.alerts, reverse=True)
    assert items == [dump(seeded.alerts[i]) for i in ids]


@pytest.mark.parametrize(
    "query",
    [
        {"state": "firing"},
        {"rule": "errors-up"},
        {"model": "price"},
        {"state": "resolved", "rule": "drift-high", "model": "credit"},
        {"model": "no-such-model"},
        {"rule": "no-such-rule"},
    ],
)
async def test_filters_combine_and_page(api: Api, query: dict[str, str]) -> None:
    seeded = seed_alerting(api.engine)
    path = "/api/v1/alerts?" + "&".join(f"{key}={value}" for key, value in query.items())

    items = await walk(api, path, 2)

    expected = [
        alert_id
        for alert_id, row in sorted(seeded.alerts.items(), reverse=True)
        if row.state == query.get("state", row.state)
        and row.rule == query.get("rule", row.rule)
        and row.labels["model"] == query.get("model", row.labels["model"])
    ]
    assert [item["id"] for item in items] == expected
    if "no-such" not in path:
        assert expected


async def test_an_alert_reads_back_with_its_history(api: Api) -> None:
    seeded = seed_alerting(api.engine)
    resolved = next(i for i, row in seeded.alerts.items() if row.state == "resolved")

    response = await api.get(f"/api/v1/alerts/{resolved}", token="reader")

    assert response.status_code == 200, response.text
    body = response.json()
    history = body.pop("history")
    assert body == dump(seeded.alerts[resolved])
    assert [event["event"] for event in history] == ["pending", "firing", "resolved"]
    start = seeded.alerts[resolved].active_since
    assert [dt.datetime.fromisoformat(event["at"]) for event in history] == [
        start,
        start + HOUR,
        start + 2 * HOUR,
    ]
    assert {event["value"] for event in history} == {seeded.alerts[resolved].value}


async def test_no_alerts_is_an_empty_last_page(api: Api) -> None:
    response = await api.get("/api/v1/alerts", token="reader")

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("alert_id", ["999999", str(2**63 - 1)])
async def test_an_unknown_alert_is_a_404(api: Api, alert_id: str) -> None:
    seed_alerting(api.engine)

    response = await api.get(f"/api/v1/alerts/{alert_id}", token="reader")

    assert_error(response, 404, "not_found", f"unknown alert {alert_id}")


@pytest.mark.parametrize(
    ("path", "loc", "fragment"),
    [
        ("/api/v1/alerts?state=burning", ["query", "state"], "must be one of 'pending'"),
        ("/api/v1/alerts?limit=0", ["query", "limit"], "must be >= 1"),
        ("/api/v1/alerts?limit=1001", ["query", "limit"], "must be <= 1000"),
        ("/api/v1/alerts?before=0", ["query", "before"], "must be >= 1"),
        ("/api/v1/alerts?before=x", ["query", "before"], "must be an integer"),
        (f"/api/v1/alerts?before={2**63}", ["query", "before"], "must be <="),
        ("/api/v1/alerts?rule=%00", ["query", "rule"], "control characters"),
        ("/api/v1/alerts?model=", ["query", "model"], "must not be empty"),
        ("/api/v1/alerts/0", ["path", "alert_id"], "must be >= 1"),
        ("/api/v1/alerts/one", ["path", "alert_id"], "must be an integer"),
        (f"/api/v1/alerts/{2**63}", ["path", "alert_id"], "must be <="),
    ],
)
async def test_bad_parameters_are_422s_at_their_location(
    api: Api, path: str, loc: list[str], fragment: str
) -> None:
    response = await api.get(path, token="reader")

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response) == [loc]


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/alerts/1"])
async def test_reading_alerts_needs_the_read_scope(api: Api, path: str) -> None:
    seed_alerting(api.engine)

    missing = await api.get(path, token=None)
    ingest_only = await api.get(path, token="ingester")
    admin = await api.get(path, token="admin")

    assert_error(missing, 401, "missing_token", "--scope read")
    assert_error(ingest_only, 403, "insufficient_scope")
    assert admin.status_code == 200, admin.text


async def test_the_operations_are_documented(api: Api) -> None:
    document = (await api.get("/openapi.json", token=None)).json()

    listing = document["paths"]["/api/v1/alerts"]["get"]
    one = document["paths"]["/api/v1/alerts/{alert_id}"]["get"]

    assert set(listing["responses"]) == {"200", "401", "403", "422", "503"}
    assert set(one["responses"]) == {"200", "401", "403", "404", "422", "503"}
    assert listing["security"] == [{"bearer": ["read"]}]
    ok = one["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/AlertDetailOut"}
