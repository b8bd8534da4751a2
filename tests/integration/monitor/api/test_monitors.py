"""``/api/v1/monitors``: create, read, replace, delete, and every refusal with its location."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.project.monitors import MonitorSpec
from storage.repositories.monitors import MonitorDraft, get_monitor, put_monitor
from tests.integration.monitor.api.conftest import Api, assert_error, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def spec(name: str = "credit-health", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "model": "credit",
        "kind": "health",
        "schedule": {"every": "10m"},
        "window": {"type": "rolling", "size": "1h"},
        "params": {"p95_slo": 0.5},
    }
    body.update(changes)
    return body


def seed_project_monitor(api: Api, name: str = "from-file") -> None:
    declared = MonitorSpec.model_validate(spec(name, kind="failures", params={}))
    draft = MonitorDraft(
        name=name,
        model_name="credit",
        kind=declared.kind,
        config=declared.model_dump(mode="json"),
    )
    put_monitor(api.engine, draft, source="project")


async def test_a_created_monitor_reads_back(api: Api) -> None:
    created = await api.post("/api/v1/monitors", json=spec(features=["age", "country"]))

    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/monitors/credit-health"
    body = created.json()
    assert {k: body[k] for k in ("name", "model", "kind", "enabled", "source")} == {
        "name": "credit-health",
        "model": "credit",
        "kind": "health",
        "enabled": True,
        "source": "api",
    }
    assert body["spec"]["schedule"] == {"every": "10m", "cron": None}
    assert body["spec"]["features"] == ["age", "country"]
    assert body["spec"]["min_samples"] == 100
    fetched = await api.get(created.headers["location"], token="reader")
    assert fetched.status_code == 200
    assert fetched.json() == body
    stored = get_monitor(api.engine, "credit-health")
    assert stored.config == body["spec"]
    assert MonitorSpec.model_validate(stored.config).features == ("age", "country")


async def test_monitors_are_listed_by_name_and_filtered(api: Api) -> None:
    for name, model, enabled in (
        ("b", "credit", True),
        ("a", "price", False),
        ("c", "credit", False),
    ):
        response = await api.post("/api/v1/monitors", json=spec(name, model=model, enabled=enabled))
        assert response.status_code == 201, response.text
    seed_project_monitor(api)

    async def names(query: str) -> list[str]:
        response = await api.get(f"/api/v1/monitors{query}", token="reader")
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert await names("") == ["a", "b", "c", "from-file"]
    assert await names("?model=credit") == ["b", "c", "from-file"]
    assert await names("?enabled=false") == ["a", "c"]
    assert await names("?model=credit&enabled=true") == ["b", "from-file"]
    listed = (await api.get("/api/v1/monitors")).json()["items"]
    assert {item["name"]: item["source"] for item in listed}["from-file"] == "project"


async def test_listing_by_an_unknown_model_is_a_422_on_the_query(api: Api) -> None:
    response = await api.get("/api/v1/monitors?model=nope")

    assert_error(response, 422, "validation_error", "model: unknown model 'nope'")
    assert detail_locs(response) == [["query", "model"]]


async def test_a_taken_name_is_a_409(api: Api) -> None:
    assert (await api.post("/api/v1/monitors", json=spec())).status_code == 201
    seed_project_monitor(api)

    again = await api.post("/api/v1/monitors", json=spec(kind="failures", params={}))
    file_name = await api.post("/api/v1/monitors", json=spec("from-file"))

    assert_error(again, 409, "conflict", "'credit-health' already exists", "PUT /api/v1/monitors")
    assert_error(file_name, 409, "conflict", "declared in the project file")
    assert get_monitor(api.engine, "credit-health").kind == "health"


async def test_put_replaces_the_spec(api: Api) -> None:
    created = (await api.post("/api/v1/monitors", json=spec())).json()
    body = spec(kind="failures", enabled=False, schedule={"cron": "*/5 * * * *"}, params={})
    del body["name"]

    replaced = await api.put("/api/v1/monitors/credit-health", json=body)
    named = await api.put("/api/v1/monitors/credit-health", json=spec(kind="failures", params={}))

    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["kind"], replaced.json()["enabled"]) == ("failures", False)
    assert replaced.json()["spec"]["schedule"] == {"every": None, "cron": "*/5 * * * *"}
    assert replaced.json()["spec"]["name"] == "credit-health"
    assert replaced.json()["created_at"] == created["created_at"]
    assert named.status_code == 200, named.text
    assert named.json()["enabled"] is True


async def test_put_with_another_name_in_the_body_is_a_422(api: Api) -> None:
    await api.post("/api/v1/monitors", json=spec())

    response = await api.put("/api/v1/monitors/credit-health", json=spec("other"))

    assert_error(response, 422, "validation_error", "'credit-health'", "'other'")
    assert detail_locs(response) == [["body", "name"]]


async def test_put_of_an_unknown_monitor_is_a_404(api: Api) -> None:
    response = await api.put("/api/v1/monitors/nope", json=spec("nope"))

    assert_error(response, 404, "not_found", "unknown monitor 'nope'", "POST /api/v1/monitors")


async def test_delete_removes_the_monitor(api: Api) -> None:
    await api.post("/api/v1/monitors", json=spec())

    deleted = await api.delete("/api/v1/monitors/credit-health")
    again = await api.delete("/api/v1/monitors/credit-health")
    fetched = await api.get("/api/v1/monitors/credit-health")

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_error(again, 404, "not_found", "unknown monitor 'credit-health'")
    assert_error(fetched, 404, "not_found", "unknown monitor 'credit-health'")


async def test_project_monitors_cannot_be_changed_here(api: Api) -> None:
    seed_project_monitor(api)

    fetched = await api.get("/api/v1/monitors/from-file", token="reader")
    replaced = await api.put("/api/v1/monitors/from-file", json=spec("from-file"))
    deleted = await api.delete("/api/v1/monitors/from-file")

    assert (fetched.status_code, fetched.json()["source"]) == (200, "project")
    assert_error(replaced, 409, "conflict", "declared in the project file; change it there")
    assert_error(deleted, 409, "conflict", "declared in the project file; remove it there")
    assert get_monitor(api.engine, "from-file").kind == "failures"


@pytest.mark.parametrize(
    ("changes", "loc", "fragment"),
    [
        ({"model": "nope"}, ["body", "model"], "unknown model 'nope'; registered models: credit"),
        ({"version": "9"}, ["body", "version"], "has no version '9'"),
        ({"features": ["age", "bogus"]}, ["body", "features", 1], "unknown feature 'bogus'"),
        ({"version": "1", "features": ["tenure"]}, ["body", "features", 0], "version '1'"),
        (
            {
                "kind": "data_drift",
                "reference": {"type": "dataset", "dataset": "training"},
                "params": {},
            },
            ["body", "reference", "dataset"],
            "no reference dataset 'training'",
        ),
        ({"params": {"bogus": 1}}, ["body", "params", "bogus"], "bogus"),
        ({"params": {"p95_slo": -1}}, ["body", "params", "p95_slo"], "got -1"),
        ({"params": {}}, ["body", "params"], "at least one latency objective"),
        ({"schedule": {"every": "5s"}}, ["body", "schedule", "every"], 'at least 10s, got "5s"'),
        ({"schedule": {}}, ["body", "schedule"], "exactly one of 'every' or 'cron'"),
        ({"window": {"type": "sliding"}}, ["body", "window", "type"], "must be one of"),
        ({"window": {"type": "tumbling"}}, ["body", "window", "size"], "missing required field"),
        ({"kind": "drift"}, ["body", "kind"], "must be one of 'data_drift'"),
        (
            {"kind": "data_drift", "params": {}},
            ["body", "reference"],
            "required for data_drift monitors",
        ),
        ({"name": "Has Spaces"}, ["body", "name"], "lower-case letters"),
        ({"shedule": {"every": "1h"}}, ["body", "shedule"], "did you mean 'schedule'"),
        ({"min_samples": 0}, ["body", "min_samples"], "must be >= 1, got 0"),
        ({"version": "1\x00"}, ["body", "version"], "must not contain NUL characters"),
        (
            {"kind": "data_drift", "reference": {"type": "dataset", "dataset": "t\x00"}},
            ["body", "reference", "dataset"],
            "NUL",
        ),
    ],
)
async def test_a_bad_spec_is_a_422_at_its_field(
    api: Api, changes: dict[str, Any], loc: list[str | int], fragment: str
) -> None:
    response = await api.post("/api/v1/monitors", json=spec(**changes))

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response)[0] == loc, response.json()
    assert response.json()["error"].startswith(".".join(str(part) for part in loc[:2]))


async def test_a_missing_field_and_a_wrong_type_are_both_reported(api: Api) -> None:
    body = spec(min_samples="many")
    del body["schedule"]

    response = await api.post("/api/v1/monitors", json=body)

    assert_error(response, 422, "validation_error", "(and 1 more error)")
    details = response.json()["details"]
    assert {"loc": ["body", "schedule"], "message": "missing required field"} in details
    assert {"loc": ["body", "min_samples"], "message": 'must be an integer, got "many"'} in details


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"name": ', "body: invalid JSON at character 9"),
        (b'{"params": {"x": NaN}}', "missing required field"),
        (b"[1, 2]", "must be an object"),
    ],
)
async def test_a_body_that_is_not_a_spec_is_a_422(api: Api, content: bytes, fragment: str) -> None:
    response = await api.post(
        "/api/v1/monitors", content=content, headers={"content-type": "application/json"}
    )

    assert_error(response, 422, "validation_error", fragment)
    assert response.json()["details"][0]["loc"][0] == "body"


@pytest.mark.parametrize("media_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_is_a_415(api: Api, media_type: str | None) -> None:
    headers = {} if media_type is None else {"content-type": media_type}

    response = await api.post("/api/v1/monitors", content=json.dumps(spec()), headers=headers)

    assert_error(response, 415, "unsupported_media_type", "Content-Type application/json")


async def test_an_unauthenticated_spec_is_refused_before_it_is_read(api: Api) -> None:
    response = await api.post("/api/v1/monitors", json={"name": 1}, token=None)

    assert_error(response, 401, "missing_token")


async def test_non_finite_numbers_are_refused_before_the_store(api: Api) -> None:
    # JSON has no NaN, but Python's parser (and so the request's) reads one.
    content = json.dumps(spec(params={"p95_slo": 0.5, "p50_slo": 0.25})).replace("0.25", "NaN")

    response = await api.post(
        "/api/v1/monitors", content=content, headers={"content-type": "application/json"}
    )

    assert_error(response, 422, "validation_error")
    assert detail_locs(response)[0] == ["body", "params", "p50_slo"]


async def test_an_unknown_monitor_is_a_404(api: Api) -> None:
    assert_error(await api.get("/api/v1/monitors/nope"), 404, "not_found", "'nope'")
    assert_error(await api.delete("/api/v1/monitors/nope"), 404, "not_found", "'nope'")
