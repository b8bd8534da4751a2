"""``/api/v1/alert-rules``: create, read, replace, delete, every refusal, and evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from monitor.alerting.service import AlertingService
from monitor.project import Project
from monitor.project.alert_rules import AlertRuleSpec
from monitor.project.monitors import MonitorSpec
from storage.errors import ConflictError
from storage.repositories.alerting import (
    ChannelDraft,
    RuleDraft,
    get_rule,
    list_alerts,
    sync_alerting,
)
from storage.repositories.monitors import MonitorDraft, ResultDraft, get_monitor, put_monitor
from tests.integration.monitor.api.conftest import Api, assert_error, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
URL = "/api/v1/alert-rules"
CHANNELS = (ChannelDraft("ops-hook", "webhook", {}), ChannelDraft("retrainer", "retrain", {}))


def monitor_spec(name: str, kind: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "model": "credit",
        "kind": kind,
        "schedule": {"every": "1h"},
        "window": {"type": "tumbling", "size": "1h"},
    }
    body.update(changes)
    return body


def rule(name: str = "errors-up", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "monitor": "credit-health",
        "condition": {"metric": "failure_rate", "op": ">", "value": 0.1},
        "severity": "critical",
        "channels": ["ops-hook"],
    }
    body.update(changes)
    return body


def project_rule(name: str = "from-file") -> RuleDraft:
    spec = AlertRuleSpec.model_validate(rule(name))
    return RuleDraft(
        name=spec.name,
        monitor_name=spec.monitor,
        condition=spec.condition.model_dump(mode="json"),
        for_seconds=0,
        severity=spec.severity,
        labels={},
        annotations={},
        channels=list(spec.channels),
        config=spec.model_dump(mode="json", by_alias=True),
    )


@pytest.fixture
def seeded(api: Api) -> Api:
    """Two monitors, two channels (an ordinary and a retrain one), one project rule."""
    for spec in (
        monitor_spec("credit-health", "failures"),
        monitor_spec(
            "credit-drift", "data_drift", version="1", reference={"type": "previous_window"}
        ),
    ):
        declared = MonitorSpec.model_validate(spec)
        config = declared.model_dump(mode="json")
        put_monitor(api.engine, MonitorDraft(declared.name, "credit", declared.kind, config))
    sync_alerting(api.engine, [project_rule()], CHANNELS)
    return api


async def test_a_created_rule_reads_back_and_is_listed(seeded: Api) -> None:
    created = await seeded.post(URL, json=rule(**{"for": "10m"}))

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{URL}/errors-up"
    body = created.json()
    assert {k: body[k] for k in ("name", "monitor", "source", "enabled")} == {
        "name": "errors-up",
        "monitor": "credit-health",
        "source": "api",
        "enabled": True,
    }
    assert body["spec"]["for"] == "10m"
    assert body["spec"]["condition"] == {"metric": "failure_rate", "op": ">", "value": 0.1}
    fetched = await seeded.get(created.headers["location"], token="reader")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == body
    assert AlertRuleSpec.model_validate(get_rule(seeded.engine, "errors-up").config).for_ == (
        dt.timedelta(minutes=10)
    )
    listed = await seeded.get(URL, token="reader")
    assert [(r["name"], r["source"]) for r in listed.json()["items"]] == [
        ("errors-up", "api"),
        ("from-file", "project"),
    ]
    of_drift = await seeded.get(URL, params={"monitor": "credit-drift"}, token="reader")
    assert of_drift.json() == {"items": []}


async def test_a_rule_is_replaced_then_deleted(seeded: Api) -> None:
    assert (await seeded.post(URL, json=rule())).status_code == 201
    changed = rule(condition={"metric": "failures", "op": ">=", "value": 3}, severity="info")
    del changed["name"]

    replaced = await seeded.put(f"{URL}/errors-up", json=changed)

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["spec"]["severity"] == "info"
    assert replaced.json()["spec"]["condition"]["metric"] == "failures"
    same_name = await seeded.put(f"{URL}/errors-up", json={**changed, "name": "errors-up"})
    assert same_name.status_code == 200, same_name.text
    deleted = await seeded.delete(f"{URL}/errors-up")
    assert deleted.status_code == 204
    assert_error(await seeded.get(f"{URL}/errors-up"), 404, "not_found", "'errors-up'")


async def test_reading_needs_read_and_changing_needs_admin(seeded: Api) -> None:
    assert_error(await seeded.get(URL, token=None), 401, "missing_token")
    assert_error(await seeded.post(URL, json=rule(), token="reader"), 403, "insufficient_scope")
    assert_error(await seeded.delete(f"{URL}/from-file", token="reader"), 403, "insufficient_scope")


async def test_a_project_rule_cannot_be_changed_here(seeded: Api) -> None:
    for response in (
        await seeded.post(URL, json=rule("from-file")),
        await seeded.put(f"{URL}/from-file", json=rule("from-file")),
        await seeded.delete(f"{URL}/from-file"),
    ):
        assert_error(response, 409, "conflict", "declared in the project file; change it there")
    assert get_rule(seeded.engine, "from-file").source == "project"


async def test_a_taken_name_is_a_conflict(seeded: Api) -> None:
    assert (await seeded.post(URL, json=rule())).status_code == 201
    assert_error(await seeded.post(URL, json=rule()), 409, "conflict", "PUT /api/v1/alert-rules")


async def test_unknown_rules_are_404(seeded: Api) -> None:
    assert_error(await seeded.get(f"{URL}/ghost"), 404, "not_found", "'ghost'")
    assert_error(await seeded.put(f"{URL}/ghost", json=rule("ghost")), 404, "not_found", "POST")
    assert_error(await seeded.delete(f"{URL}/ghost"), 404, "not_found", "'ghost'")


@pytest.mark.parametrize(
    ("body", "loc", "fragments"),
    [
        (rule(monitor="ghost"), ["body", "monitor"], ("'ghost'", "credit-drift, credit-health")),
        (
            rule(condition={"metric": "drift_share", "op": ">", "value": 0.3}),
            ["body", "condition", "metric"],
            ("'drift_share'", "failure_rate"),
        ),
        (  # tenure is a feature of version 2; the monitor compares version 1's
            rule(
                monitor="credit-drift",
                condition={"metric": "feature.tenure.drifted", "op": "==", "value": 1},
            ),
            ["body", "condition", "metric"],
            ("'tenure'", "age, income, country"),
        ),
        (rule(channels=["ops-hook", "ghost"]), ["body", "channels", 1], ("'ghost'", "ops-hook")),
        (rule(channels=["retrainer"]), ["body", "channels", 0], ("retrain.channels",)),
        (
            rule(retrain={"channels": ["ops-hook"]}),
            ["body", "retrain", "channels", 0],
            ("type retrain", "webhook"),
        ),
        (rule(labels={"team": "a\x00b"}), ["body", "labels", "team"], ("NUL",)),
    ],
)
async def test_what_the_store_lacks_is_a_422_at_the_field(
    seeded: Api, body: dict[str, Any], loc: list[str | int], fragments: tuple[str, ...]
) -> None:
    assert (await seeded.post(URL, json=rule())).status_code == 201
    before = get_rule(seeded.engine, "errors-up")

    for response in (
        await seeded.post(URL, json={**body, "name": "new-rule"}),
        await seeded.put(f"{URL}/errors-up", json=body),
    ):
        assert_error(response, 422, "validation_error", *fragments)
        assert detail_locs(response) == [loc]
    assert_error(await seeded.get(f"{URL}/new-rule"), 404, "not_found")
    assert get_rule(seeded.engine, "errors-up") == before


async def test_a_replacement_keeps_the_name_of_its_path(seeded: Api) -> None:
    assert (await seeded.post(URL, json=rule())).status_code == 201

    response = await seeded.put(f"{URL}/errors-up", json=rule("other"))

    assert_error(response, 422, "validation_error", "'errors-up'", "'other'")
    assert detail_locs(response) == [["body", "name"]]


async def test_listing_by_an_unknown_monitor_is_a_422(seeded: Api) -> None:
    response = await seeded.get(URL, params={"monitor": "ghost"}, token="reader")

    assert_error(response, 422, "validation_error", "'ghost'", "credit-health")
    assert detail_locs(response) == [["query", "monitor"]]


async def test_syncing_the_project_leaves_api_rules_alone(seeded: Api) -> None:
    assert (await seeded.post(URL, json=rule())).status_code == 201

    sync_alerting(seeded.engine, [], CHANNELS)  # the file's rule is gone

    assert get_rule(seeded.engine, "errors-up").source == "api"
    listed = await seeded.get(URL)
    assert [r["name"] for r in listed.json()["items"]] == ["errors-up"]
    with pytest.raises(ConflictError, match="created through the API"):
        sync_alerting(seeded.engine, [project_rule("errors-up")], CHANNELS)
    assert get_rule(seeded.engine, "errors-up").source == "api"


async def test_a_rule_created_here_fires_on_a_result(seeded: Api) -> None:
    sync_alerting(seeded.engine, [], CHANNELS)  # only the API's rule is left to fire
    assert (await seeded.post(URL, json=rule())).status_code == 201
    project = Project.model_validate(
        {
            "version": 1,
            "channels": [
                {"name": "ops-hook", "type": "webhook", "url": "https://hooks.example.com/a"},
                {"name": "retrainer", "type": "retrain", "url": "https://r.example.com/x",
                 "secret": "whsec_" + "A" * 32},
            ],
        }
    )  # fmt: skip
    monitor = get_monitor(seeded.engine, "credit-health")
    result = ResultDraft(
        monitor_id=monitor.id,
        window_start=T0,
        window_end=T0 + dt.timedelta(hours=1),
        status="ok",
        score=None,
        sample_size=10,
        summary={"failure_rate": 0.5, "failures": 5, "requests": 10},
    )

    with seeded.engine.begin() as connection:
        AlertingService(project).after_result(connection, monitor, result)

    alerts = list_alerts(seeded.engine)
    assert [(a.rule, a.state, a.value) for a in alerts] == [("errors-up", "firing", 0.5)]
    assert alerts[0].labels["severity"] == "critical"
