"""The demo's webhook receiver, over loopback: it keeps and verifies what it gets."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from monitor.alerting.signing import new_secret, signature_headers
from monitor.demo.receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration

ALERT, RETRAIN = new_secret(), new_secret()
NOTIFICATION = {
    "version": "4",
    "status": "firing",
    "alerts": [
        {"status": "firing", "labels": {"alertname": "covariate-shift", "model": "m"}},
        {"status": "resolved", "labels": {"alertname": "error-burst", "model": "m"}},
    ],
}
RETRAIN_REQUEST = {"type": "driftline.retrain", "data": {"rule": "accuracy-drop", "model": "m"}}


def signed(secret: str, document: object, msg_id: str = "msg_1") -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(document)
    headers = signature_headers(secret, msg_id, int(time.time()), body)
    return body, {**headers, "content-type": "application/json"}


def test_signed_notifications_and_retraining_requests_are_kept_in_order() -> None:
    receiver = Receiver(alert_secret=ALERT, retrain_secret=RETRAIN)
    with running_receiver(receiver) as url:
        body, headers = signed(ALERT, NOTIFICATION)
        first = httpx.post(f"{url}/alerts", content=body, headers=headers)
        body, headers = signed(RETRAIN, RETRAIN_REQUEST, "rtr_1")
        second = httpx.post(f"{url}/retrain", content=body, headers=headers)

    assert (first.status_code, second.status_code) == (200, 200)
    alert, retrain = receiver.deliveries()
    assert alert.route == "alert"
    assert alert.verified
    assert alert.alerts == (("covariate-shift", "firing"), ("error-burst", "resolved"))
    assert retrain.route == "retrain"
    assert retrain.verified
    assert retrain.alerts == (("accuracy-drop", "retrain"),)
    assert alert.received_at <= retrain.received_at


def test_a_request_signed_with_the_wrong_secret_is_refused_and_reported() -> None:
    receiver = Receiver(alert_secret=ALERT, retrain_secret=RETRAIN)
    with running_receiver(receiver) as url:
        body, headers = signed(RETRAIN, NOTIFICATION)  # the retrain secret on the alert route
        answer = httpx.post(f"{url}/alerts", content=body, headers=headers)
        unsigned = httpx.post(f"{url}/retrain", json=RETRAIN_REQUEST)

    assert (answer.status_code, unsigned.status_code) == (401, 401)
    bad, missing = receiver.deliveries()
    assert bad.signature_problem == "no v1 signature matches the body"
    assert missing.signature_problem is not None
    assert missing.signature_problem.startswith("missing webhook-id")


def test_a_body_that_is_not_a_json_object_is_refused_and_not_kept() -> None:
    receiver = Receiver(alert_secret=ALERT, retrain_secret=RETRAIN)
    with running_receiver(receiver) as url:
        not_json = httpx.post(f"{url}/alerts", content=b"{oops", headers=signed(ALERT, {})[1])
        a_list = httpx.post(f"{url}/alerts", content=b"[1]")

    assert (not_json.status_code, a_list.status_code) == (400, 400)
    assert "not JSON" in not_json.json()["error"]
    assert receiver.deliveries() == []
