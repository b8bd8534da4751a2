"""A store with real monitor results, alerts and deliveries, for the dashboard's tests.

Records of the ``churn`` model are generated hour by hour: the first hours are like the
reference, then ``age`` shifts (a covariate shift), half the requests of one hour fail, and
the labels drift from some hour on (a concept change). Monitors of every kind run through
the real scheduler and alerting service; notifications go to a webhook receiver on
loopback, so the store holds real deliveries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from monitor.alerting.dispatch import Dispatcher
from monitor.alerting.egress import EgressPolicy
from monitor.alerting.service import AlertingService, sync_project_alerting
from monitor.project import Project
from monitor.scheduling.calendar import EPOCH
from monitor.scheduling.runner import MonitorRunner
from monitor.scheduling.scheduler import MonitorScheduler
from monitor.scheduling.sync import sync_project
from storage import PredictionBatch, create_session_factory, get_model_version, insert_predictions
from storage.labels import upsert_labels
from storage.types import RecordStatus
from tests.integration.monitor.alerting.channels.receivers import Receiver, Reply, running
from tests.integration.monitor.scheduling.test_scheduler import PROJECT

__all__ = ["HOUR", "Seeded", "seeded_store"]

HOUR = dt.timedelta(hours=1)
REFERENCE_HOURS = 4  # 800 rows: below 1,000 the numeric test is KS, with a p-value


@dataclass(frozen=True)
class Seeded:
    """What was seeded: the first hour, how many, and when each change began."""

    start: dt.datetime
    hours: int
    shift_from: int
    errors_at: int
    concept_from: int
    receiver: Receiver

    @property
    def end(self) -> dt.datetime:
        return self.start + self.hours * HOUR


def _project(start: dt.datetime, hook_url: str) -> Project:
    reference = {
        "type": "fixed_window",
        "start": start.isoformat(),
        "end": (start + REFERENCE_HOURS * HOUR).isoformat(),
    }
    hourly = {"type": "tumbling", "size": "1h"}

    def monitor(name: str, kind: str, **more: Any) -> dict[str, Any]:
        return {"name": name, "model": "churn", "kind": kind, "schedule": {"every": "1h"},
                "window": hourly, "min_samples": 50, **more}  # fmt: skip

    return Project.model_validate(
        {
            **PROJECT,
            "monitors": [
                monitor("drift", "data_drift", reference=reference, params={"drift_share": 0.3}),
                monitor("outputs", "prediction_drift", reference=reference),
                monitor("quality", "performance", reference=reference,
                        params={"metric": "accuracy", "min_labels": 50}),
                monitor("errors", "failures", params={"slo_rate": 0.05}),
                monitor("latency", "health", params={"p99_slo": 0.2}),
            ],
            "alert_rules": [
                {
                    "name": "drifting",
                    "monitor": "drift",
                    "condition": {"metric": "drift_share", "op": ">=", "value": 0.3},
                    "severity": "critical",
                    "annotations": {"summary": "{{ model }}: drift share {{ value }}"},
                    "channels": ["hook"],
                },
                {
                    "name": "failing",
                    "monitor": "errors",
                    "condition": {"metric": "failure_rate", "op": ">", "value": 0.05},
                    "severity": "warning",
                    "annotations": {"summary": "{{ model }}: failure rate {{ value }}"},
                    "channels": ["hook"],
                },
            ],
            "channels": [{"name": "hook", "type": "webhook", "url": f"{hook_url}/alerts"}],
            "alerting": {"group_wait": "0s", "group_interval": "1m", "repeat_interval": "24h",
                         "external_url": "http://127.0.0.1:8000"},
        }
    )  # fmt: skip


def _records(
    engine: Engine, rng: np.random.Generator, begin: dt.datetime, n: int, *,
    shifted: bool, failing: bool, concept: bool,
) -> None:  # fmt: skip
    with create_session_factory(engine)() as session:
        handle = get_model_version(session, "churn")
    stamp = (begin - EPOCH) // dt.timedelta(microseconds=1)
    offsets = np.sort(rng.uniform(0, 3600e6, n)).astype(np.int64)
    age = rng.normal(40, 10, n) + (25 if shifted else 0)
    income = rng.lognormal(10, 0.5, n)
    score = (age - 40) / 10 + (np.log(income) - 10) / 0.5
    proba = 1 / (1 + np.exp(-score))
    truth = rng.uniform(size=n) < 1 / (1 + np.exp(-2 * score))
    if concept:
        truth = np.where(rng.uniform(size=n) < 0.35, ~truth, truth)
    status = np.full(n, int(RecordStatus.OK), dtype=np.int16)
    if failing:
        status[: n // 2] = int(RecordStatus.ERROR)
    ids = [f"{stamp}-{i}" for i in range(n)]
    insert_predictions(
        engine,
        handle,
        PredictionBatch(
            request_ids=ids,
            timestamps_us=stamp + offsets,
            features={
                "age": age,
                "income": income,
                "plan": rng.choice(["basic", "pro", "team"], n).tolist(),
            },
            predictions=np.where(proba > 0.5, "leave", "stay").tolist(),
            probabilities=np.column_stack([1 - proba, proba]),
            latency_seconds=rng.gamma(2.0, 0.01 if not failing else 0.05, n),
            status=status,
        ),
    )
    labelled = np.flatnonzero(rng.uniform(size=n) < 0.6)
    upsert_labels(
        engine, handle, [ids[i] for i in labelled],
        ["leave" if truth[i] else "stay" for i in labelled],
    )  # fmt: skip


@contextmanager
def seeded_store(
    engine: Engine,
    *,
    start: dt.datetime,
    hours: int = 24,
    per_hour: int = 200,
    shift_from: int = 14,
    errors_at: int = 10,
    concept_from: int = 18,
    seed: int = 7,
) -> Iterator[Seeded]:
    """Seed ``hours`` of traffic from ``start`` and run every monitor over it.

    Yields while the webhook receiver still runs (its requests are the deliveries).
    """
    rng = np.random.default_rng(seed)
    with running(Reply(200)) as hook:
        project = _project(start, hook.url)
        sync_project(engine, project)
        sync_project_alerting(engine, project)
        alerting = AlertingService(project)
        runner = MonitorRunner(engine, after_result=alerting.after_result)
        scheduler = MonitorScheduler(engine, runner, settle=dt.timedelta(0), workers=1)
        dispatcher = Dispatcher(
            engine, {c.name: c for c in project.channels}, policy=EgressPolicy(["127.0.0.1"])
        )
        for hour in range(hours):
            _records(engine, rng, start + hour * HOUR, per_hour,
                     shifted=hour >= shift_from, failing=hour == errors_at,
                     concept=hour >= concept_from)  # fmt: skip
        for hour in range(1, hours + 1):
            now = start + hour * HOUR
            scheduler.run_all_due(now=now)
            with engine.begin() as connection:
                alerting.notify(connection, now=now + dt.timedelta(seconds=1))
            dispatcher.drain()
        yield Seeded(start, hours, shift_from, errors_at, concept_from, hook)
