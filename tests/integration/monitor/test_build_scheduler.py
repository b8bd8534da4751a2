"""``driftline monitor``'s scheduler evaluates alert rules even when no channel is declared."""

from __future__ import annotations

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from monitor.alerting.service import sync_project_alerting
from monitor.monitor_process import build_scheduler
from monitor.project import Project
from monitor.registration import register_project_models
from monitor.scheduling.sync import sync_project
from monitor.settings import load_settings
from storage.repositories.alerting import select_alerts
from tests.integration.monitor.scheduling.test_scheduler import (
    HOUR,
    HOURLY,
    PROJECT,
    T0,
    monitor,
    seed,
)

pytestmark = pytest.mark.integration


def test_a_rule_without_channels_fires_and_its_alert_is_stored(
    engine: Engine, rng: np.random.Generator
) -> None:
    project = Project.model_validate(
        {
            **PROJECT,
            "monitors": [monitor("churn-failures", "failures", HOURLY)],
            "alert_rules": [
                {
                    "name": "errors",
                    "monitor": "churn-failures",
                    "condition": {"metric": "failure_rate", "op": ">", "value": 0.2},
                }
            ],
        }
    )
    assert project.channels == ()
    register_project_models(engine, project)
    sync_project(engine, project)
    sync_project_alerting(engine, project)
    seed(engine, rng, start=T0, hours=3, per_hour=100, errors_at=1)
    settings = load_settings(monitor_settle_seconds=0)

    scheduler = build_scheduler(engine, settings, CollectorRegistry(), project)
    for hour in range(1, 4):  # a run at the end of every hour
        scheduler.run_all_due(now=T0 + hour * HOUR)

    with engine.connect() as connection:
        alerts = list(connection.execute(select_alerts()))
    # Fired on the hour of errors, resolved on the next: both moves were evaluated.
    assert [(alert.rule, alert.state) for alert in alerts] == [("errors", "resolved")]
    assert alerts[0].fired_at == T0 + 2 * HOUR
