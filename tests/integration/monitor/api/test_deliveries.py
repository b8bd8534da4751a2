"""``/api/v1/deliveries``: the delivery log, paged by ``before``; one with payload and attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from storage.repositories.alerting import claim_due_deliveries, finish_attempt, list_deliveries
from tests.integration.monitor.api.conftest import Api, assert_error, detail_locs
from tests.integration.monitor.api.test_alerts import CHANNELS, T0, seed_alerting, walk

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DELIVERIES = 12
LEASE = dt.timedelta(minutes=5)


def plan(j: int) -> tuple[str, list[str]]:
    """Delivery ``j``'s status once seeded, and its attempts' outcomes."""
    if j >= 10:
        return "pending", []  # not yet due
    fate = j % 4
    if fate == 0:
        return "delivered", ["delivered"]
    if fate == 1:
        return "delivered", ["retry", "delivered"]
    if fate == 2:
        return ("failed", ["failed"]) if j < 5 else ("dead", ["dead"])
    return "in_flight", []  # claimed, never finished: in flight until its lease ends


def seed_deliveries(engine: Engine) -> dict[int, dict[str, Any]]:
    """:data:`DELIVERIES` deliveries, attempted as :func:`plan` says; what is stored, by id.

    Delivery ``j`` is due at ``T0 + j`` minutes, so the first claim, at ``T0 + 9`` minutes,
    takes those up to 9; the retried ones are due again 30 seconds later.
    """
    stored = seed_alerting(engine, deliveries=DELIVERIES).deliveries
    index = {row["key"]: j for j, row in stored.items()}
    now = T0 + dt.timedelta(minutes=9)
    for round_ in range(2):
        for delivery in claim_due_deliveries(engine, now=now, limit=100, lease=LEASE):
            outcomes = plan(index[delivery.key])[1]
            if round_ >= len(outcomes):
                continue
            outcome = outcomes[round_]
            finish_attempt(
                engine,
                delivery,
                outcome=outcome,
                now=now,
                status_code=200 if outcome == "delivered" else 503,
                error=None if outcome == "delivered" else "HTTP 503 from hooks.example.com",
                seconds=0.25,
                retry_at=now + dt.timedelta(seconds=30) if outcome == "retry" else None,
            )
        now += dt.timedelta(seconds=30)
    result: dict[int, dict[str, Any]] = {}
    for row in list_deliveries(engine, limit=1000):
        j = index[row.key]
        status, outcomes = plan(j)
        result[row.id] = {**stored[j], "status": status, "outcomes": outcomes}
    assert len(result) == DELIVERIES
    return result


async def test_walking_the_pages_yields_every_delivery_once_newest_first(api: Api) -> None:
    stored = seed_deliveries(api.engine)

    for limit in (1, 5, DELIVERIES, 1000):
        items = await walk(api, "/api/v1/deliveries", limit)

        assert [item["id"] for item in items] == sorted(stored, reverse=True)
    for item in items:
        row = stored[item["id"]]
        assert "payload" not in item
        assert "history" not in item
        assert (item["channel"], item["key"]) == (row["channel"], row["key"])
        assert item["event"] == "firing"
        assert item["channel_type"] == "webhook"
        assert item["status"] == row["status"]
        claimed = row["status"] == "in_flight"
        assert item["attempts"] == len(row["outcomes"]) + claimed, item
        if row["status"] == "delivered":
            assert item["delivered_at"] is not None
            assert (item["last_status_code"], item["last_error"]) == (200, None)
        else:
            assert item["delivered_at"] is None
        if row["status"] in ("failed", "dead"):
            assert item["last_status_code"] == 503
            assert item["last_error"] == "HTTP 503 from hooks.example.com"


@pytest.mark.parametrize(
    "query",
    [
        {"status": "delivered"},
        {"status": "in_flight"},
        {"status": "dead"},
        {"status": "pending"},
        {"channel": CHANNELS[1]},
        {"status": "failed", "channel": CHANNELS[0]},
        {"channel": "no-such-channel"},
    ],
)
async def test_filters_combine_and_page(api: Api, query: dict[str, str]) -> None:
    stored = seed_deliveries(api.engine)
    path = "/api/v1/deliveries?" + "&".join(f"{key}={value}" for key, value in query.items())

    items = await walk(api, path, 2)

    expected = [
        delivery_id
        for delivery_id, row in sorted(stored.items(), reverse=True)
        if row["status"] == query.get("status", row["status"])
        and row["channel"] == query.get("channel", row["channel"])
    ]
    assert [item["id"] for item in items] == expected
    if query != {"channel": "no-such-channel"}:
        assert expected


async def test_a_delivery_reads_back_with_its_payload_and_attempts(api: Api) -> None:
    stored = seed_deliveries(api.engine)
    retried = next(i for i, row in stored.items() if row["outcomes"] == ["retry", "delivered"])

    response = await api.get(f"/api/v1/deliveries/{retried}", token="reader")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["payload"] == stored[retried]["payload"]
    assert body["status"] == "delivered"
    assert body["attempts"] == 2
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in body["history"]] == [
        (1, "retry", 503),
        (2, "delivered", 200),
    ]
    assert body["history"][0]["error"] == "HTTP 503 from hooks.example.com"
    assert body["history"][0]["seconds"] == 0.25
    listed = (await api.get(f"/api/v1/deliveries?before={retried + 1}&limit=1")).json()
    assert listed["items"][0] == {
        key: value for key, value in body.items() if key not in {"payload", "history"}
    }


async def test_an_unknown_delivery_is_a_404(api: Api) -> None:
    stored = seed_deliveries(api.engine)

    response = await api.get(f"/api/v1/deliveries/{max(stored) + 1}", token="reader")

    assert_error(response, 404, "not_found", f"unknown delivery {max(stored) + 1}")


@pytest.mark.parametrize(
    ("path", "loc", "fragment"),
    [
        ("/api/v1/deliveries?status=sent", ["query", "status"], "must be one of 'pending'"),
        ("/api/v1/deliveries?limit=0", ["query", "limit"], "must be >= 1"),
        ("/api/v1/deliveries?before=-4", ["query", "before"], "must be >= 1"),
        ("/api/v1/deliveries?channel=%01x", ["query", "channel"], "control characters"),
        ("/api/v1/deliveries/0", ["path", "delivery_id"], "must be >= 1"),
        (f"/api/v1/deliveries/{2**64}", ["path", "delivery_id"], "must be <="),
    ],
)
async def test_bad_parameters_are_422s_at_their_location(
    api: Api, path: str, loc: list[str], fragment: str
) -> None:
    response = await api.get(path, token="reader")

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response) == [loc]


@pytest.mark.parametrize("path", ["/api/v1/deliveries", "/api/v1/deliveries/1"])
async def test_reading_deliveries_needs_the_read_scope(api: Api, path: str) -> None:
    seed_deliveries(api.engine)

    missing = await api.get(path, token=None)
    feedback_only = await api.get(path, token="labeller")
    reader = await api.get(path, token="reader")

    assert_error(missing, 401, "missing_token", "--scope read")
    assert_error(feedback_only, 403, "insufficient_scope")
    assert reader.status_code == 200, reader.text
