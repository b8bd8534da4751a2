"""``/api/v1/results`` and ``/api/v1/monitors/{name}/results``: filters and cursor paging."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest

from storage.repositories.monitors import (
    MonitorDraft,
    ResultDraft,
    ResultStatus,
    put_monitor,
    save_result,
)
from tests.integration.monitor.api.conftest import Api, assert_error, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
WINDOWS = 25
STATUSES: tuple[ResultStatus, ...] = ("ok", "warning", "alarm", "insufficient_data", "error")


def seed_results(api: Api) -> dict[int, dict[str, Any]]:
    """Two monitors with a result per hour each; returns what was stored, by id."""
    stored: dict[int, dict[str, Any]] = {}
    for name, model in (("credit-health", "credit"), ("price-failures", "price")):
        config = {"name": name, "model": model, "kind": "failures"}
        draft = MonitorDraft(name=name, model_name=model, kind="failures", config=config)
        monitor = put_monitor(api.engine, draft)
        for hour in range(WINDOWS):
            start = T0 + hour * HOUR
            status = STATUSES[hour % len(STATUSES)]
            result_id = save_result(
                api.engine,
                ResultDraft(
                    monitor_id=monitor.id,
                    window_start=start,
                    window_end=start + HOUR,
                    status=status,
                    score=hour / 100,
                    sample_size=100 + hour,
                    summary={"hour": hour},
                    details={"features": {"age": hour}},
                    duration_seconds=0.5,
                ),
            )
            stored[result_id] = {
                "monitor": name,
                "model": model,
                "end": start + HOUR,
                "status": status,
                "hour": hour,
            }
    return stored


def instant(moment: dt.datetime) -> str:
    return quote(moment.isoformat())


async def walk(api: Api, path: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every item of every page, and how many pages there were."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={limit}"
        if cursor is not None:
            url += f"&cursor={quote(cursor)}"
        response = await api.get(url, token="reader")
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
async def test_walking_the_cursors_yields_every_result_once_newest_first(
    api: Api, limit: int
) -> None:
    stored = seed_results(api)

    items, pages = await walk(api, "/api/v1/results", limit)

    assert sorted(item["id"] for item in items) == sorted(stored)
    assert len(items) == len(stored) == 2 * WINDOWS
    assert pages == -(-len(stored) // limit)  # a full last page says it is the last
    keys = [(item["window_end"], item["id"]) for item in items]
    assert keys == sorted(keys, reverse=True)
    for item in items:
        expected = stored[item["id"]]
        assert (item["monitor"], item["model"], item["status"]) == (
            expected["monitor"],
            expected["model"],
            expected["status"],
        )
        assert dt.datetime.fromisoformat(item["window_end"]) == expected["end"]
        assert item["summary"] == {"hour": expected["hour"]}
        assert item["details"] is None


async def test_filters_combine_and_page(api: Api) -> None:
    stored = seed_results(api)
    start, end = T0 + 5 * HOUR, T0 + 20 * HOUR
    query = f"/api/v1/results?model=credit&status=alarm&start={instant(start)}&end={instant(end)}"

    items, _ = await walk(api, query, 2)

    expected = {
        result_id
        for result_id, row in stored.items()
        if row["model"] == "credit"
        and row["status"] == "alarm"
        and row["end"] - HOUR >= start
        and row["end"] <= end
    }
    assert expected
    assert {item["id"] for item in items} == expected


async def test_a_monitors_results_are_its_own(api: Api) -> None:
    stored = seed_results(api)

    items, _ = await walk(api, "/api/v1/monitors/price-failures/results?status=ok", 3)
    same, _ = await walk(api, "/api/v1/results?monitor=price-failures&status=ok", 3)

    assert items == same
    assert {item["id"] for item in items} == {
        i
        for i, row in stored.items()
        if row["monitor"] == "price-failures" and row["status"] == "ok"
    }


async def test_details_come_only_when_asked(api: Api) -> None:
    seed_results(api)

    response = await api.get("/api/v1/results?limit=1&details=true")

    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["details"] == {"features": {"age": WINDOWS - 1}}


async def test_an_instant_in_another_zone_filters_the_same(api: Api) -> None:
    seed_results(api)
    east = dt.timezone(dt.timedelta(hours=5))

    utc = await api.get(f"/api/v1/results?start={instant(T0 + 20 * HOUR)}")
    shifted = await api.get(f"/api/v1/results?start={instant((T0 + 20 * HOUR).astimezone(east))}")

    assert utc.status_code == shifted.status_code == 200
    assert len(utc.json()["items"]) == 2 * 5
    assert utc.json() == shifted.json()


@pytest.mark.parametrize(
    ("query", "loc", "fragment"),
    [
        ("start=2026-03-01T00:00:00", ["query", "start"], "must include a timezone"),
        ("end=yesterday", ["query", "end"], "ISO-8601 datetime with a timezone"),
        (
            "start=2026-03-02T00:00:00Z&end=2026-03-01T00:00:00Z",
            ["query", "end"],
            "must be after start",
        ),
        ("start=0001-01-01T00:00:00%2B05:00", ["query", "start"], "out of range"),
        ("cursor=not-a-cursor", ["query", "cursor"], "malformed cursor 'not-a-cursor'"),
        ("cursor=2026-03-01T00:00:00~1", ["query", "cursor"], "malformed cursor"),
        ("cursor=9999-12-31T23:00:00-05:00~1", ["query", "cursor"], "out of range"),
        ("cursor=2026-03-01T00:00:00%2B00:00~99999999999999999999", ["query", "cursor"], "range"),
        ("limit=0", ["query", "limit"], "must be >= 1, got"),
        ("limit=1001", ["query", "limit"], "must be <= 1000, got"),
        ("limit=ten", ["query", "limit"], "must be an integer"),
        ("status=drift", ["query", "status"], "must be one of 'ok', 'warning'"),
        ("details=perhaps", ["query", "details"], "must be true or false"),
        ("model=nope", ["query", "model"], "unknown model 'nope'; registered models: credit"),
        ("monitor=nope", ["query", "monitor"], "unknown monitor 'nope'"),
    ],
)
async def test_a_bad_parameter_is_a_422_naming_it(
    api: Api, query: str, loc: list[str], fragment: str
) -> None:
    seed_results(api)

    response = await api.get(f"/api/v1/results?{query}")

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response) == [loc]


async def test_the_results_of_an_unknown_monitor_are_a_404(api: Api) -> None:
    response = await api.get("/api/v1/monitors/nope/results")

    assert_error(response, 404, "not_found", "unknown monitor 'nope'")


async def test_a_score_that_is_not_a_number_reads_as_null(api: Api) -> None:
    config = {"name": "m", "model": "credit", "kind": "failures"}
    monitor = put_monitor(api.engine, MonitorDraft("m", "credit", "failures", config))
    save_result(
        api.engine,
        ResultDraft(
            monitor_id=monitor.id,
            window_start=T0,
            window_end=T0 + HOUR,
            status="error",
            score=float("nan"),
            sample_size=0,
            summary={},
        ),
    )

    response = await api.get("/api/v1/results")

    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["score"] is None
