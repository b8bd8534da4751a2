"""The online-learning guard's alarm, through an ``online_learning`` monitor and an alert
rule, to a real webhook receiver on loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from monitor.alerting.dispatch import Dispatcher
from monitor.alerting.egress import EgressPolicy
from monitor.alerting.service import AlertingMetrics, AlertingService, sync_project_alerting
from monitor.alerting.signing import new_secret
from monitor.project import Project
from monitor.registration import register_project_models
from monitor.scheduling.runner import MonitorRunner
from monitor.scheduling.sync import sync_project
from monitor.scheduling.windows import TimeRange
from storage import create_session_factory, get_model_version
from storage.repositories.monitors import get_monitor, list_results
from storage.types import utc_now
from tests.integration.monitor.alerting.channels.receivers import Reply, running
from tests.integration.monitor.test_online_learning import _drain, _label, _learner, _record
from tests.unit.serving.online.streams import FEATURES, hyperplane

pytest.importorskip("river")
pytestmark = pytest.mark.integration

SECRET = new_secret()
HOUR = dt.timedelta(hours=1)


def _project(hook_url: str) -> Project:
    return Project.model_validate(
        {
            "version": 1,
            "models": [
                {
                    "name": "m",
                    "task": "binary_classification",
                    "classes": ["no", "yes"],
                    "features": [{"name": name, "kind": "numeric"} for name in FEATURES],
                    "serving": {
                        "runtime": "python",
                        "uri": "models:online",
                        "learning": "online",
                    },
                }
            ],
            "monitors": [
                {
                    "name": "learning",
                    "model": "m",
                    "kind": "online_learning",
                    "schedule": {"every": "1h"},
                    "window": {"type": "tumbling", "size": "1h"},
                }
            ],
            "alert_rules": [
                {
                    "name": "learning_guard",
                    "monitor": "learning",
                    "condition": {"metric": "guard_alarms", "op": ">", "value": 0},
                    "severity": "critical",
                    "annotations": {"summary": "{{ model }}: {{ value }} guard alarm(s)"},
                    "channels": ["hook"],
                }
            ],
            "channels": [
                {"name": "hook", "type": "webhook", "url": hook_url, "secret": SECRET},
            ],
            "alerting": {"group_wait": "30s", "external_url": "http://127.0.0.1:8000"},
        }
    )


def test_a_guard_alarm_fires_the_alert_rule_of_an_online_learning_monitor(
    engine: Engine, tmp_path: Path
) -> None:
    with running(Reply(200)) as hook:
        project = _project(f"{hook.url}/alerts")
        register_project_models(engine, project)
        sync_project(engine, project)
        sync_project_alerting(engine, project)
        alerting = AlertingService(project, metrics=AlertingMetrics(CollectorRegistry()))
        runner = MonitorRunner(engine, after_result=alerting.after_result)
        monitor = get_monitor(engine, "learning")
        with create_session_factory(engine)() as session:
            handle = get_model_version(session, "m", "1")

        start = utc_now() - HOUR
        rows, truth = hyperplane(2_000, seed=2)
        ids = _record(engine, handle, rows, 0)
        learner, _ = _learner(engine, handle, tmp_path)
        _label(engine, handle, ids[:1_200], truth[:1_200])
        _drain(learner)
        quiet = runner.run(monitor, TimeRange(start, utc_now()))
        assert (quiet.status, quiet.score) == ("ok", 0.0)

        _label(engine, handle, ids[1_200:], 1 - truth[1_200:])  # a feedback source gone bad
        _drain(learner)
        assert learner.frozen
        end = utc_now() + dt.timedelta(seconds=1)
        report = runner.run(monitor, TimeRange(start + dt.timedelta(seconds=1), end))
        assert (report.status, report.score) == ("alarm", 1.0)

        tick = end + dt.timedelta(seconds=31)  # past the group_wait
        with engine.begin() as connection:
            alerting.notify(connection, now=tick)
        Dispatcher(
            engine,
            {c.name: c for c in project.channels},
            policy=EgressPolicy(["127.0.0.1"]),
            clock=lambda: tick,
        ).drain()
        (request,) = hook.requests
        Webhook(SECRET).verify(request.body, request.headers)
        body = json.loads(request.body)
        (alert,) = body["alerts"]
        assert (body["status"], alert["labels"]["alertname"]) == ("firing", "learning_guard")
        assert alert["annotations"]["summary"] == "m: 1 guard alarm(s)"

        newest = list_results(engine, monitor_name="learning").items[0]
        assert newest.summary["frozen"] is True
        assert newest.summary["last_alarm"]["reason"] == "prequential_drop"
        assert newest.summary["examples_learnt"] + newest.summary["examples_refused"] >= 800
