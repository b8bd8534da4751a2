"""The outbox's JSON keeps a notification and a retraining request exactly."""

from __future__ import annotations

import datetime as dt
import json

from monitor.alerting.model import AlertSnapshot, Notification, RetrainRequest
from monitor.alerting.payloads import EVENT_RETRAIN, from_payload, to_payload

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def test_a_notification_survives_the_round_trip_through_json() -> None:
    alert = AlertSnapshot(
        fingerprint="507a62d79ee76c9a",
        rule="drifting",
        state="resolved",
        severity="critical",
        labels={"alertname": "drifting", "model": "churn"},
        annotations={"summary": "drift share 0.6"},
        value=0.6,
        starts_at=T0,
        ends_at=T0 + dt.timedelta(hours=1),
        url="http://127.0.0.1:8000/alerts/1",
    )
    item = Notification(
        key="k1",
        channel="hook",
        group_key='{}:{model="churn"}',
        group_labels={"model": "churn"},
        status="resolved",
        reason="all alerts resolved",
        alerts=(alert,),
        external_url="http://127.0.0.1:8000",
        created_at=T0,
        common_labels={"model": "churn"},
    )

    assert from_payload("resolved", json.loads(json.dumps(to_payload(item)))) == item


def test_a_retraining_request_survives_the_round_trip_through_json() -> None:
    item = RetrainRequest(
        key="r1",
        channel="airflow",
        rule="drifting",
        model="churn",
        version="3",
        monitor="drift",
        window_start=T0,
        window_end=T0 + dt.timedelta(hours=1),
        findings=({"feature": "age", "method": "ks", "statistic": 0.4, "effect": 0.4},),
        score=0.5,
        links={"model": "http://127.0.0.1:8000/models/churn"},
        created_at=T0,
    )

    assert from_payload(EVENT_RETRAIN, json.loads(json.dumps(to_payload(item)))) == item
