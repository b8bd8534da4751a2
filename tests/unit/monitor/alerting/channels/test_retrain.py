"""Tests of the ``retrain`` channel: signed webhook, Airflow DAG run, GitHub dispatch."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from standardwebhooks import Webhook

from monitor.alerting.channels import retrain
from monitor.alerting.channels.outgoing import USER_AGENT, OutgoingRequest
from monitor.alerting.model import RetrainRequest
from monitor.project.channels import RetrainChannel
from tests.unit.monitor.alerting.channels.items import NOW, SECRET, channel, retrain_request

EXPECTED_DATA = {
    "model": "credit",
    "version": "7",
    "monitor": "credit-features",
    "rule": "credit-drift",
    "window": {"start": "2026-05-01T11:00:00Z", "end": "2026-05-01T12:00:00Z"},
    "findings": [
        {"feature": "age", "method": "ks", "statistic": 0.31, "effect": 0.31},
        {"feature": "income", "method": "psi", "statistic": 0.27, "effect": None},
    ],
    "score": 0.31,
    "links": {
        "model": "https://driftline.example.com/models/credit",
        "alert": "https://driftline.example.com/alerts/credit-drift",
    },
}


def _spec(**fields: Any) -> RetrainChannel:
    spec = channel(type="retrain", **fields)
    assert isinstance(spec, RetrainChannel)
    return spec


def _render(spec: RetrainChannel, item: RetrainRequest | None = None) -> OutgoingRequest:
    return retrain.render(spec, item or retrain_request(), now=NOW)


def test_url_preset_posts_a_signed_standard_webhooks_payload() -> None:
    now = dt.datetime.now(dt.UTC)
    spec = _spec(url="https://ci.example.com/hooks/retrain", secret=SECRET)

    request = retrain.render(spec, retrain_request(), now=now)

    assert request.url == "https://ci.example.com/hooks/retrain"
    assert request.timeout_seconds == 15.0
    assert json.loads(request.body) == {
        "type": "driftline.retrain",
        "timestamp": "2026-05-01T12:00:00Z",
        "data": EXPECTED_DATA,
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["webhook-id"] == "rtr_91xK"
    assert request.headers["Idempotency-Key"] == "rtr_91xK"
    assert request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(SECRET).verify(request.body, request.headers)["data"] == EXPECTED_DATA


def test_airflow_v1_dag_run_with_basic_auth() -> None:
    spec = _spec(
        preset="airflow",
        url="https://airflow.example.com/",
        dag_id="retrain_credit",
        username="driftline",
        password="s3cr3t",
    )

    request = _render(spec)

    assert request.url == "https://airflow.example.com/api/v1/dags/retrain_credit/dagRuns"
    expected = base64.b64encode(b"driftline:s3cr3t").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert json.loads(request.body) == {"dag_run_id": "rtr_91xK", "conf": EXPECTED_DATA}
    assert "webhook-signature" not in request.headers
    assert "s3cr3t" not in repr(request)


def test_airflow_v2_dag_run_with_a_token_and_a_signature() -> None:
    spec = _spec(
        preset="airflow",
        url="https://airflow.example.com/prefix",
        dag_id="retrain_credit",
        api_version=2,
        token="jwt-s3cr3t",
        secret=SECRET,
    )

    request = _render(spec)

    assert request.url == "https://airflow.example.com/prefix/api/v2/dags/retrain_credit/dagRuns"
    assert request.headers["Authorization"] == "Bearer jwt-s3cr3t"
    assert json.loads(request.body) == {
        "dag_run_id": "rtr_91xK",
        "logical_date": None,
        "conf": EXPECTED_DATA,
    }
    assert request.headers["webhook-id"] == "rtr_91xK"
    assert request.headers["webhook-signature"].startswith("v1,")


def test_github_repository_dispatch() -> None:
    spec = _spec(preset="github", repository="acme/credit-model", token="ghp_s3cr3t")

    request = _render(spec)

    assert request.url == "https://api.github.com/repos/acme/credit-model/dispatches"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["Authorization"] == "Bearer ghp_s3cr3t"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    body = json.loads(request.body)
    assert body == {
        "event_type": "driftline.retrain",
        "client_payload": {"id": "rtr_91xK", **EXPECTED_DATA},
    }
    assert len(body["client_payload"]) <= 10


def test_github_payload_is_cut_to_64_kb_and_10_keys() -> None:
    findings = tuple(
        {"feature": f"feature_{index:05d}", "method": "ks", "statistic": 0.5, "note": "n" * 100}
        for index in range(2000)
    )
    spec = _spec(
        preset="github",
        repository="acme/credit-model",
        token="ghp_s3cr3t",
        event_type="retrain-credit",
        api_url="https://github.example.com/api/v3/",
    )

    request = _render(spec, retrain_request(findings=findings))

    assert request.url == "https://github.example.com/api/v3/repos/acme/credit-model/dispatches"
    body = json.loads(request.body)
    payload = body["client_payload"]
    assert body["event_type"] == "retrain-credit"
    assert len(payload) == 10
    assert len(json.dumps(payload, separators=(",", ":")).encode()) <= 64_000
    kept = len(payload["findings"])
    assert kept + payload["findings_omitted"] == 2000
    assert payload["findings"] == [dict(finding) for finding in findings[:kept]]
    # The next finding would not have fitted.
    grown = {**payload, "findings": [dict(f) for f in findings[: kept + 1]]}
    assert len(json.dumps(grown, separators=(",", ":")).encode()) > 64_000


def test_non_json_values_in_findings_become_json() -> None:
    findings = ({"feature": "age", "statistic": float("inf"), "when": NOW, "bins": (1, 2)},)
    spec = _spec(url="https://ci.example.com/hook", secret=SECRET)

    body = json.loads(_render(spec, retrain_request(findings=findings)).body)

    assert body["data"]["findings"] == [
        {"feature": "age", "statistic": None, "when": "2026-05-01T12:00:05Z", "bins": [1, 2]}
    ]


def test_numpy_scalars_in_findings_become_json() -> None:
    np = pytest.importorskip("numpy")
    findings = ({"statistic": np.float64(0.5), "n": np.int64(3), "drifted": np.bool_(True)},)
    spec = _spec(url="https://ci.example.com/hook", secret=SECRET)

    body = json.loads(_render(spec, retrain_request(findings=findings)).body)

    assert body["data"]["findings"] == [{"statistic": 0.5, "n": 3, "drifted": True}]
