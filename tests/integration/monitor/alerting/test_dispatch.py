"""The dispatcher against real HTTP receivers on loopback, on SQLite and PostgreSQL.

A receiver that is down for a while gets the notification exactly once in effect (every
attempt carries the same ``webhook-id``, and only one is accepted); a dispatcher that dies
after claiming loses nothing (the lease runs out and the delivery is sent again, same key);
tries run out into a dead letter; a private address is refused, never contacted.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
from pydantic import TypeAdapter
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from monitor.alerting.backoff import RetryPolicy
from monitor.alerting.dispatch import Dispatcher
from monitor.alerting.egress import EgressPolicy
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.alerting.payloads import to_payload
from monitor.alerting.signing import new_secret
from monitor.project.channels import Channel
from storage import create_session_factory, register_model
from storage.repositories.alerting import (
    ChannelDraft,
    claim_due_deliveries,
    delivery_attempts,
    enqueue_delivery,
    list_deliveries,
)
from storage.schema import FeatureSpec
from storage.types import FeatureKind, utc_now
from tests.integration.monitor.alerting.channels.receivers import Received, Reply, running

pytestmark = pytest.mark.integration

FAST = RetryPolicy(base_seconds=0.02, cap_seconds=0.1, max_attempts=5)
LOOPBACK = EgressPolicy(["127.0.0.1"])


@pytest.fixture
def store(engine: Engine) -> Engine:
    from storage.repositories.alerting import sync_alerting

    with create_session_factory(engine).begin() as session:
        register_model(
            session,
            name="churn",
            task="regression",
            version="1",
            features=[FeatureSpec("x", FeatureKind.NUMERIC)],
        )
    sync_alerting(engine, [], [ChannelDraft("hook", "webhook", {})])
    return engine


def channel(url: str, secret: str | None = None) -> dict[str, Channel]:
    spec = {"name": "hook", "type": "webhook", "url": url}
    if secret is not None:
        spec["secret"] = secret
    return {"hook": TypeAdapter(Channel).validate_python(spec)}


def notify(engine: Engine, key: str = "n-1") -> None:
    now = utc_now()
    alert = AlertSnapshot(
        fingerprint="507a62d79ee76c9a",
        rule="drifting",
        state="firing",
        severity="warning",
        labels={"alertname": "drifting", "model": "churn"},
        annotations={"summary": "drift share 0.6"},
        value=0.6,
        starts_at=now,
        ends_at=None,
        url="http://127.0.0.1:8000/alerts/1",
    )
    item = Notification(
        key=key,
        channel="hook",
        group_key='{}:{model="churn"}',
        group_labels={"model": "churn"},
        status="firing",
        reason="first notification",
        alerts=(alert,),
        external_url="http://127.0.0.1:8000",
        created_at=now,
    )
    with engine.begin() as connection:
        enqueue_delivery(
            connection, channel="hook", event="firing", key=key, payload=to_payload(item)
        )


def until(condition: Callable[[], bool], step: Callable[[], object], passes: int = 200) -> None:
    for _ in range(passes):
        if condition():
            return
        step()
        time.sleep(0.03)
    pytest.fail("the dispatcher did not get there")


def test_a_receiver_down_for_a_while_gets_the_notification_once(store: Engine) -> None:
    secret = new_secret()
    accepted: list[Received] = []

    def script(request: Received) -> Reply:
        if len([r for r in receiver.requests if r is not request]) < 3:
            return Reply(503, {"Retry-After": "0"}, b"down for maintenance")
        accepted.append(request)
        return Reply(200)

    with running(script) as receiver:
        dispatcher = Dispatcher(store, channel(receiver.url, secret), policy=LOOPBACK, retry=FAST)
        notify(store)
        until(lambda: bool(accepted), dispatcher.run_once)
        dispatcher.drain()

    (delivery,) = list_deliveries(store)
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert len(receiver.requests) == 4
    assert {r.headers["webhook-id"] for r in receiver.requests} == {"n-1"}
    assert len(accepted) == 1
    for request in receiver.requests:  # each attempt signed afresh, each verifiable
        Webhook(secret).verify(request.body, request.headers)
    outcomes = [(a["outcome"], a["status_code"]) for a in delivery_attempts(store, delivery.id)]
    assert outcomes == [("retry", 503)] * 3 + [("delivered", 200)]


def test_a_dispatcher_that_dies_after_claiming_loses_nothing(store: Engine) -> None:
    with running(Reply(200)) as receiver:
        dispatcher = Dispatcher(
            store, channel(receiver.url), policy=LOOPBACK, lease=dt.timedelta(seconds=0.3)
        )
        notify(store)
        # Another dispatcher claims the delivery and dies before sending it.
        claimed = claim_due_deliveries(
            store, now=utc_now(), limit=10, lease=dt.timedelta(seconds=0.3)
        )
        assert [d.key for d in claimed] == ["n-1"]
        assert dispatcher.run_once() == 0  # leased: not sent twice at once
        time.sleep(0.35)
        assert dispatcher.run_once() == 1

    (delivery,) = list_deliveries(store)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [r.headers["webhook-id"] for r in receiver.requests] == ["n-1"]


def test_tries_run_out_into_a_dead_letter(store: Engine) -> None:
    with running(Reply(503, {}, b"still down")) as receiver:
        dispatcher = Dispatcher(store, channel(receiver.url), policy=LOOPBACK, retry=FAST)
        notify(store)
        until(lambda: list_deliveries(store)[0].status == "dead", dispatcher.run_once)

    (delivery,) = list_deliveries(store)
    assert delivery.attempts == 5
    assert len(receiver.requests) == 5
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("gave up after 5 attempts")
    assert dispatcher.run_once() == 0


def test_a_private_address_is_refused_and_never_contacted(store: Engine) -> None:
    dispatcher = Dispatcher(store, channel("http://10.1.2.3:9/hook"), policy=LOOPBACK, retry=FAST)
    notify(store)

    dispatcher.run_once()

    (delivery,) = list_deliveries(store)
    assert delivery.status == "failed"
    assert delivery.last_error is not None
    assert "10.1.2.3" in delivery.last_error
    assert "private" in delivery.last_error
    assert "DRIFTLINE_EGRESS_ALLOW" in delivery.last_error


def test_a_channel_no_longer_declared_fails_the_delivery_clearly(store: Engine) -> None:
    dispatcher = Dispatcher(store, {}, policy=LOOPBACK, retry=FAST)
    notify(store)

    dispatcher.run_once()

    (delivery,) = list_deliveries(store)
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "channel 'hook' is no longer declared",
    )
