"""The HTTP sender against real receivers on 127.0.0.1: outcomes, redirects, timeouts, pinning."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from collections.abc import Sequence
from email.utils import format_datetime

import httpx
import pytest
import trustme

from monitor.alerting.channels import OutgoingRequest, render_any
from monitor.alerting.egress import EgressPolicy, send
from tests.integration.monitor.alerting.channels.receivers import Reply, running
from tests.unit.monitor.alerting.channels.items import channel, notification

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

LOOPBACK = EgressPolicy(["127.0.0.1"])


def _request(url: str, *, timeout_seconds: float = 5.0) -> OutgoingRequest:
    body = b'{"hello":"receiver"}'
    headers = {"Content-Type": "application/json", "webhook-id": "ntf_1"}
    return OutgoingRequest("POST", url, headers, body, timeout_seconds)


def test_delivered_on_200() -> None:
    with running(Reply(200, body=b"ok")) as receiver:
        result = send(_request(f"{receiver.url}/hook?x=1"), policy=LOOPBACK)

    assert (result.outcome, result.status_code, result.error) == ("delivered", 200, None)
    (received,) = receiver.requests
    assert received.method == "POST"
    assert received.path == "/hook?x=1"
    assert received.body == b'{"hello":"receiver"}'
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"] == "ntf_1"
    assert received.headers["host"] == f"127.0.0.1:{receiver.port}"


def test_a_rendered_webhook_arrives_intact() -> None:
    with running(Reply(202, body=b"")) as receiver:
        spec = channel(type="webhook", url=f"{receiver.url}/am", headers={"X-Team": "risk"})
        now = dt.datetime.now(dt.UTC)
        request = render_any(spec, notification(), now=now)
        assert isinstance(request, OutgoingRequest)
        result = send(request, policy=LOOPBACK)

    assert result.outcome == "delivered"
    (received,) = receiver.requests
    assert json.loads(received.body)["version"] == "4"
    assert received.headers["x-team"] == "risk"
    assert received.headers["idempotency-key"] == "ntf_7Hq2"


def test_retry_after_seconds_on_503() -> None:
    reply = Reply(503, {"Retry-After": "120"}, b"maintenance")
    with running(reply) as receiver:
        result = send(_request(receiver.url), policy=LOOPBACK)

    assert result.outcome == "retry"
    assert result.status_code == 503
    assert result.retry_after_seconds == 120.0
    assert result.response_excerpt == "maintenance"
    assert result.error == "receiver answered 503 Service Unavailable; retry later"


def test_retry_after_http_date_on_503() -> None:
    now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    later = format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    with running(Reply(503, {"Retry-After": later})) as receiver:
        result = send(_request(receiver.url), policy=LOOPBACK, clock=lambda: now)

    assert result.outcome == "retry"
    assert result.retry_after_seconds == 90.0


def test_retry_on_429_without_retry_after() -> None:
    with running(Reply(429, body=b"rate_limited")) as receiver:
        result = send(_request(receiver.url), policy=LOOPBACK)

    assert (result.outcome, result.status_code, result.retry_after_seconds) == ("retry", 429, None)


def test_failed_on_400_with_an_excerpt() -> None:
    body = b'{"status":"invalid event","message":"Event object is invalid","errors":["x"]}' * 10
    with running(Reply(400, body=body)) as receiver:
        result = send(_request(receiver.url), policy=LOOPBACK)

    assert result.outcome == "failed"
    assert result.status_code == 400
    assert result.response_excerpt is not None
    assert len(result.response_excerpt) == 300
    assert result.response_excerpt.startswith('{"status":"invalid event","message":"Event object')
    assert (
        result.error
        == f"receiver refused the request with 400 Bad Request: {result.response_excerpt}"
    )


def test_failed_on_410_gone() -> None:
    with running(Reply(410, body=b"channel_is_archived")) as receiver:
        result = send(_request(receiver.url), policy=LOOPBACK)

    assert result.outcome == "failed"
    assert result.error is not None
    assert "410 Gone: the endpoint no longer exists" in result.error


def test_a_redirect_to_the_metadata_service_is_not_followed() -> None:
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    with running(Reply(302, {"Location": metadata}, b"")) as receiver:
        result = send(_request(receiver.url), policy=LOOPBACK)

    assert result.outcome == "failed"
    assert result.status_code == 302
    assert result.error == (
        f"receiver answered 302 Found redirecting to {metadata}; redirects are not followed: "
        "point the channel at the final URL"
    )
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed_even_by_a_client_that_would() -> None:
    with (
        running(Reply(200)) as target,
        running(Reply(307, {"Location": target.url})) as hop,
        httpx.Client(follow_redirects=True) as client,
    ):
        result = send(_request(hop.url), policy=LOOPBACK, client=client)

    assert (result.outcome, result.status_code) == ("failed", 307)
    assert target.requests == []


def test_a_timeout_is_a_retry() -> None:
    with running(Reply(200, delay_seconds=10)) as receiver:
        result = send(_request(receiver.url, timeout_seconds=0.3), policy=LOOPBACK)

    assert result.outcome == "retry"
    assert result.status_code is None
    assert result.error == f"no answer from {receiver.url} within 0.3 s (ReadTimeout)"


def test_a_refused_connection_is_a_retry() -> None:
    with running(Reply(200)) as receiver:
        url = receiver.url
    # The receiver is stopped: nothing listens on its port any more.
    result = send(_request(url), policy=LOOPBACK)

    assert result.outcome == "retry"
    assert result.error is not None
    assert result.error.startswith(f"cannot reach {url}: ")


def test_loopback_is_refused_without_the_allow_list() -> None:
    with running(Reply(200)) as receiver:
        result = send(_request(f"{receiver.url}/s3cr3t-path"), policy=EgressPolicy())

    assert result.outcome == "failed"
    assert result.error == (
        f"webhook URL {receiver.url}/... resolves to 127.0.0.1, a loopback address; refused "
        "unless allow-listed in DRIFTLINE_EGRESS_ALLOW"
    )
    assert receiver.requests == []


def test_an_unresolvable_host_is_a_retry() -> None:
    result = send(_request("http://driftline-test.invalid/hook"), policy=LOOPBACK)

    assert result.outcome == "retry"
    assert result.error is not None
    assert "cannot resolve 'driftline-test.invalid'" in result.error


class _Rebinding:
    """DNS that answers an allowed address first and the metadata service afterwards."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls += 1
        return ["127.0.0.1"] if self.calls == 1 else ["169.254.169.254"]


def test_the_checked_address_is_the_one_connected_to() -> None:
    dns = _Rebinding()
    policy = EgressPolicy(["127.0.0.1"], resolver=dns)
    with running(Reply(200)) as receiver:
        result = send(_request(f"http://hooks.rebind.test:{receiver.port}/x"), policy=policy)

    assert result.outcome == "delivered"
    assert dns.calls == 1
    (received,) = receiver.requests
    assert received.headers["host"] == f"hooks.rebind.test:{receiver.port}"


@pytest.fixture
def tls_receiver_ca() -> tuple[trustme.CA, ssl.SSLContext]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.pinned.test").configure_cert(server)
    return ca, server


def test_https_to_a_pinned_address_verifies_the_host_name(
    tls_receiver_ca: tuple[trustme.CA, ssl.SSLContext],
) -> None:
    ca, server = tls_receiver_ca
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    policy = EgressPolicy(["127.0.0.1"], resolver=lambda host, port: ["127.0.0.1"])
    with running(Reply(200), tls=server) as receiver, httpx.Client(verify=client_context) as client:
        good = send(
            _request(f"https://hooks.pinned.test:{receiver.port}/"), policy=policy, client=client
        )
        wrong = send(
            _request(f"https://other.pinned.test:{receiver.port}/"), policy=policy, client=client
        )

    assert good.outcome == "delivered"
    assert receiver.requests[0].headers["host"] == f"hooks.pinned.test:{receiver.port}"
    # The certificate names hooks.pinned.test: a request for another name must not pass.
    assert wrong.outcome == "failed"
    assert wrong.error is not None
    assert wrong.error.startswith(
        f"TLS certificate of https://other.pinned.test:{receiver.port} could not be verified"
    )
    assert len(receiver.requests) == 1
