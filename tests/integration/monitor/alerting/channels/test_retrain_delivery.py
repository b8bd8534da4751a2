"""Retraining requests delivered to real receivers that check them as a pipeline would."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from monitor.alerting.channels import OutgoingRequest, render_any
from monitor.alerting.egress import EgressPolicy, send
from tests.integration.monitor.alerting.channels.receivers import Received, Reply, running
from tests.unit.monitor.alerting.channels.items import SECRET, channel, retrain_request

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

LOOPBACK = EgressPolicy(["127.0.0.1"])


class VerifyingReceiver:
    """Answers 204 to requests that ``standardwebhooks`` verifies, 401 to the others."""

    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.verified: list[dict[str, object]] = []

    def __call__(self, request: Received) -> Reply:
        try:
            payload = self.webhook.verify(request.body, request.headers)
        except WebhookVerificationError as exc:
            return Reply(401, body=str(exc).encode())
        self.verified.append(payload)
        return Reply(204, body=b"")


def _render(**declaration: object) -> OutgoingRequest:
    request = render_any(
        channel(type="retrain", **declaration), retrain_request(), now=dt.datetime.now(dt.UTC)
    )
    assert isinstance(request, OutgoingRequest)
    return request


def test_the_receiver_verifies_a_signed_retraining_webhook() -> None:
    pipeline = VerifyingReceiver(SECRET)
    with running(pipeline) as receiver:
        result = send(_render(url=f"{receiver.url}/retrain", secret=SECRET), policy=LOOPBACK)

    assert (result.outcome, result.status_code) == ("delivered", 204)
    (payload,) = pipeline.verified
    assert payload["type"] == "driftline.retrain"
    assert payload["timestamp"] == "2026-05-01T12:00:00Z"
    data = payload["data"]
    assert isinstance(data, dict)
    assert data["model"] == "credit"
    assert data["links"] == {
        "model": "https://driftline.example.com/models/credit",
        "alert": "https://driftline.example.com/alerts/credit-drift",
    }
    assert receiver.requests[0].headers["webhook-id"] == "rtr_91xK"


def test_a_receiver_with_another_secret_refuses_it() -> None:
    other = "whsec_" + base64.b64encode(b"another secret of 24 byte").decode()
    with running(VerifyingReceiver(other)) as receiver:
        result = send(_render(url=receiver.url, secret=SECRET), policy=LOOPBACK)

    assert (result.outcome, result.status_code) == ("failed", 401)
    assert result.response_excerpt == "No matching signature found"


def test_airflow_receives_a_dag_run() -> None:
    def airflow(request: Received) -> Reply:
        expected = "Basic " + base64.b64encode(b"driftline:s3cr3t").decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, body=b'{"title": "Unauthorized"}')
        run = json.loads(request.body)
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(run).encode())

    with running(airflow) as receiver:
        request = _render(
            preset="airflow",
            url=receiver.url,
            dag_id="retrain_credit",
            username="driftline",
            password="s3cr3t",
        )
        result = send(request, policy=LOOPBACK)

    assert (result.outcome, result.status_code) == ("delivered", 200)
    (received,) = receiver.requests
    assert received.path == "/api/v1/dags/retrain_credit/dagRuns"
    body = json.loads(received.body)
    assert body["dag_run_id"] == "rtr_91xK"
    assert body["conf"]["monitor"] == "credit-features"


def test_a_repeated_airflow_trigger_is_refused_not_rerun() -> None:
    with running(Reply(409, body=b'{"title": "DAGRun already exists"}')) as receiver:
        request = _render(preset="airflow", url=receiver.url, dag_id="d", token="t")
        result = send(request, policy=LOOPBACK)

    assert (result.outcome, result.status_code) == ("failed", 409)
    assert result.response_excerpt == '{"title": "DAGRun already exists"}'


def test_github_receives_a_repository_dispatch() -> None:
    with running(Reply(204, body=b"")) as receiver:
        request = _render(
            preset="github", repository="acme/credit", token="ghp_s3cr3t", api_url=receiver.url
        )
        result = send(request, policy=LOOPBACK)

    assert result.outcome == "delivered"
    (received,) = receiver.requests
    assert received.path == "/repos/acme/credit/dispatches"
    assert received.headers["authorization"] == "Bearer ghp_s3cr3t"
    assert json.loads(received.body)["client_payload"]["id"] == "rtr_91xK"
