"""Alerting end to end: monitor results -> alert states -> notifications -> real receivers.

The schedule runs over seeded records with a fake clock; notifications go through the
outbox to HTTP receivers on loopback (a generic webhook, PagerDuty's Events API shape, and
a signed retraining endpoint), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from monitor.alerting.dispatch import Dispatcher
from monitor.alerting.egress import EgressPolicy
from monitor.alerting.service import AlertingMetrics, AlertingService, sync_project_alerting
from monitor.alerting.signing import new_secret
from monitor.project import Project
from monitor.scheduling.runner import MonitorRunner
from monitor.scheduling.scheduler import MonitorScheduler
from monitor.scheduling.sync import sync_project
from storage.repositories.alerting import create_silence, expire_silence, list_alerts
from tests.integration.monitor.alerting.channels.receivers import Receiver, Reply, running
from tests.integration.monitor.scheduling.test_scheduler import PROJECT, seed

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SECRET = new_secret()


@dataclass
class Stack:
    engine: Engine
    project: Project
    hook: Receiver
    pager: Receiver
    retrain: Receiver
    scheduler: MonitorScheduler
    alerting: AlertingService
    dispatcher: Dispatcher
    registry: CollectorRegistry

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def hour(self, h: int) -> None:
        """The schedule's run at the end of hour ``h``, then a notification tick, then sends."""
        now = T0 + h * HOUR
        self.scheduler.run_all_due(now=now)
        with self.engine.begin() as connection:
            self.alerting.notify(connection, now=now + dt.timedelta(seconds=31))
        self.dispatcher.drain()


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


@pytest.fixture
def stack(engine: Engine) -> Iterator[Stack]:
    with ExitStack() as exits:
        hook = exits.enter_context(running(Reply(200)))
        pager = exits.enter_context(running(Reply(202, {}, b'{"status":"success"}')))
        retrain = exits.enter_context(running(Reply(204, {}, b"")))
        project = Project.model_validate(
            {
                **PROJECT,
                "monitors": [
                    {
                        "name": "drift",
                        "model": "churn",
                        "kind": "data_drift",
                        "schedule": {"every": "1h"},
                        "window": {"type": "tumbling", "size": "1h"},
                        "reference": {"type": "fixed_window", "start": T0.isoformat(),
                                      "end": (T0 + 2 * HOUR).isoformat()},
                        "params": {"drift_share": 0.3},
                        "min_samples": 50,
                    }
                ],
                "alert_rules": [
                    {
                        "name": "drifting",
                        "monitor": "drift",
                        "condition": {"metric": "drift_share", "op": ">=", "value": 0.3},
                        "keep_firing_for": "2h",
                        "severity": "critical",
                        "annotations": {"summary": "{{ model }}: drift share {{ value }}"},
                        "channels": ["hook", "pager"],
                        "retrain": {"channels": ["retrainer"], "cooldown": "6h"},
                    }
                ],
                "channels": [
                    {"name": "hook", "type": "webhook", "url": f"{hook.url}/alerts",
                     "secret": SECRET},
                    {"name": "pager", "type": "pagerduty", "routing_key": "r" * 32,
                     "events_url": f"{pager.url}/v2/enqueue"},
                    {"name": "retrainer", "type": "retrain", "preset": "url",
                     "url": f"{retrain.url}/retrain", "secret": SECRET},
                ],
                "alerting": {"group_wait": "30s", "group_interval": "5m",
                             "repeat_interval": "24h", "external_url": "http://127.0.0.1:8000"},
            }
        )  # fmt: skip
        sync_project(engine, project)
        sync_project_alerting(engine, project)
        registry = CollectorRegistry()
        alerting = AlertingService(project, metrics=AlertingMetrics(registry))
        runner = MonitorRunner(engine, after_result=alerting.after_result)
        yield Stack(
            engine=engine,
            project=project,
            hook=hook,
            pager=pager,
            retrain=retrain,
            scheduler=MonitorScheduler(engine, runner, settle=dt.timedelta(0), workers=1),
            alerting=alerting,
            dispatcher=Dispatcher(
                engine,
                {c.name: c for c in project.channels},
                policy=EgressPolicy(["127.0.0.1"]),
            ),
            registry=registry,
        )


def seed_hours(engine: Engine, drifting: list[bool]) -> None:
    rng = np.random.default_rng(11)
    for hour, drifts in enumerate(drifting):
        seed(engine, rng, start=T0 + hour * HOUR, hours=1, per_hour=300,
             shift_from=0 if drifts else None)  # fmt: skip


def test_a_flapping_drift_pages_once_resolves_once_and_retrains_once(stack: Stack) -> None:
    # Drift in hours 3 and 5, not in 4 (a flap the 2h keep_firing_for covers), then quiet.
    seed_hours(stack.engine, [False, False, False, True, False, True, False, False, False])

    rule = {"rule": "drifting", "severity": "critical"}
    for hour in range(1, 10):
        stack.hour(hour)
        if hour == 5:
            assert stack.sample("driftline_alerts_firing", **rule) == 1
    assert stack.sample("driftline_alerts_firing", **rule) is None
    sent = {"channel": "hook", "status": "firing"}
    assert stack.sample("driftline_alert_notifications_total", **sent) == 1

    hooks = bodies(stack.hook)
    assert [(b["status"], b["notification_reason"]) for b in hooks] == [
        ("firing", "first notification"),
        ("resolved", "all alerts resolved"),
    ]
    firing = hooks[0]
    assert firing["version"] == "4"
    assert firing["groupLabels"] == {"alertname": "drifting", "model": "churn"}
    (alert,) = firing["alerts"]
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"].startswith("churn: drift share 0.33")
    for request in stack.hook.requests:
        Webhook(SECRET).verify(request.body, request.headers)
    assert len({r.headers["webhook-id"] for r in stack.hook.requests}) == 2

    pages = bodies(stack.pager)
    assert [p["event_action"] for p in pages] == ["trigger", "resolve"]
    assert pages[0]["dedup_key"] == pages[1]["dedup_key"]
    assert pages[0]["payload"]["severity"] == "critical"

    (retrain,) = stack.retrain.requests
    data = Webhook(SECRET).verify(retrain.body, retrain.headers)
    assert data["type"] == "driftline.retrain"
    assert data["data"]["model"] == "churn"
    assert [f["name"] for f in data["data"]["findings"]] == ["age"]

    (stored,) = list_alerts(stack.engine)
    assert stored.state == "resolved"
    assert (stored.fired_at, stored.resolved_at) == (T0 + 4 * HOUR, T0 + 8 * HOUR)


def test_a_silence_suppresses_and_its_end_restores(stack: Stack) -> None:
    seed_hours(stack.engine, [False, False, False, True, True, True])
    silence = create_silence(
        stack.engine,
        matchers=[{"name": "model", "op": "=", "value": "churn"}],
        starts_at=T0,
        ends_at=T0 + 48 * HOUR,
        created_by="test",
        comment="known migration",
    )

    for hour in range(1, 5):
        stack.hour(hour)
    assert stack.hook.requests == []
    assert stack.pager.requests == []

    expire_silence(stack.engine, silence.id, now=T0 + 4 * HOUR + dt.timedelta(minutes=1))
    stack.hour(5)

    assert [b["status"] for b in bodies(stack.hook)] == ["firing"]
    assert [p["event_action"] for p in bodies(stack.pager)] == ["trigger"]


def test_a_crash_between_the_state_change_and_the_delivery_loses_nothing(stack: Stack) -> None:
    seed_hours(stack.engine, [False, False, False, True])
    for hour in range(1, 4):
        stack.hour(hour)
    # The result that fires the alert is stored with its state change; then the process dies.
    stack.scheduler.run_all_due(now=T0 + 4 * HOUR)
    assert stack.hook.requests == []

    # A new process: fresh service and dispatcher over the same store.
    restarted = AlertingService(stack.project)
    with stack.engine.begin() as connection:
        queued = restarted.notify(connection, now=T0 + 4 * HOUR + dt.timedelta(seconds=31))
    with stack.engine.begin() as connection:  # a replayed tick queues nothing twice
        again = restarted.notify(connection, now=T0 + 4 * HOUR + dt.timedelta(seconds=31))
    stack.dispatcher.drain()

    assert (queued, again) == (2, 0)  # the webhook and the pager
    assert [b["status"] for b in bodies(stack.hook)] == ["firing"]
    assert [p["event_action"] for p in bodies(stack.pager)] == ["trigger"]
