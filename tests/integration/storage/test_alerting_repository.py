"""Alerting in the store: the outbox's claim, lease and retries; alerts; the log; silences."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from storage import NotFoundError, create_session_factory, register_model
from storage.repositories.alerting import (
    AlertRow,
    ChannelDraft,
    LogRow,
    RuleDraft,
    active_alerts,
    add_alert_event,
    alert_history,
    claim_due_deliveries,
    create_silence,
    delivery_attempts,
    enqueue_delivery,
    expire_silence,
    finish_attempt,
    get_log,
    list_deliveries,
    list_silences,
    notifiable_alerts,
    put_log,
    rule_ids,
    save_alert,
    sync_alerting,
)
from storage.repositories.monitors import MonitorDraft, put_monitor
from storage.schema import FeatureSpec
from storage.types import FeatureKind

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


@pytest.fixture
def store(engine: Engine) -> Engine:
    with create_session_factory(engine).begin() as session:
        register_model(
            session,
            name="churn",
            task="regression",
            version="1",
            features=[FeatureSpec("x", FeatureKind.NUMERIC)],
        )
    put_monitor(engine, MonitorDraft("drift", "churn", "data_drift", {}), source="project")
    sync_alerting(
        engine,
        [rule("drifting")],
        [
            ChannelDraft("hook", "webhook", {"url": "http://127.0.0.1:9/"}),
            ChannelDraft("pd", "pagerduty", {}),
        ],
    )
    return engine


def rule(name: str) -> RuleDraft:
    return RuleDraft(
        name=name,
        monitor_name="drift",
        condition={"metric": "drift_share", "op": ">", "value": 0.3},
        for_seconds=0,
        severity="warning",
        labels={},
        annotations={},
        channels=["hook"],
        config={},
    )


def enqueue(engine: Engine, key: str, channel: str = "hook", at: dt.datetime = T0) -> bool:
    with engine.begin() as connection:
        return enqueue_delivery(
            connection, channel=channel, event="firing", key=key, payload={"k": key}, now=at
        )


def test_a_key_is_enqueued_once(store: Engine) -> None:
    assert enqueue(store, "n-1") is True
    assert enqueue(store, "n-1") is False
    assert [d.key for d in list_deliveries(store)] == ["n-1"]


def test_an_unknown_channel_is_refused(store: Engine) -> None:
    with pytest.raises(NotFoundError, match="unknown channel 'nope'"):
        enqueue(store, "n-1", channel="nope")


def test_a_claim_leases_the_delivery_until_it_is_finished_or_the_lease_ends(store: Engine) -> None:
    enqueue(store, "n-1")

    (claimed,) = claim_due_deliveries(store, now=T0, limit=10, lease=LEASE)
    during = claim_due_deliveries(store, now=T0 + LEASE / 2, limit=10, lease=LEASE)
    (again,) = claim_due_deliveries(store, now=T0 + LEASE, limit=10, lease=LEASE)

    assert (claimed.key, claimed.attempts, claimed.status) == ("n-1", 1, "in_flight")
    assert claimed.payload == {"k": "n-1"}
    assert (claimed.channel, claimed.channel_type) == ("hook", "webhook")
    assert during == []
    assert (again.key, again.attempts) == ("n-1", 2)  # the sender died: re-sent, same key


def test_retry_then_delivered_with_every_attempt_logged(store: Engine) -> None:
    enqueue(store, "n-1")
    (first,) = claim_due_deliveries(store, now=T0, limit=1, lease=LEASE)
    later = T0 + dt.timedelta(seconds=30)
    finish_attempt(
        store, first, outcome="retry", now=T0, status_code=503, error="busy", retry_at=later
    )

    assert (
        claim_due_deliveries(store, now=later - dt.timedelta(seconds=1), limit=1, lease=LEASE) == []
    )
    (second,) = claim_due_deliveries(store, now=later, limit=1, lease=LEASE)
    finish_attempt(store, second, outcome="delivered", now=later, status_code=200, seconds=0.01)

    (done,) = list_deliveries(store, status="delivered")
    assert (done.attempts, done.delivered_at, done.last_status_code) == (2, later, 200)
    attempts = delivery_attempts(store, done.id)
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in attempts] == [
        (1, "retry", 503),
        (2, "delivered", 200),
    ]
    assert claim_due_deliveries(store, now=later + LEASE * 10, limit=1, lease=LEASE) == []


def test_dead_and_failed_deliveries_are_not_claimed_again(store: Engine) -> None:
    enqueue(store, "a")
    enqueue(store, "b")
    one, two = claim_due_deliveries(store, now=T0, limit=5, lease=LEASE)
    finish_attempt(store, one, outcome="dead", now=T0, error="tries ran out")
    finish_attempt(store, two, outcome="failed", now=T0, status_code=400, error="bad payload")

    assert claim_due_deliveries(store, now=T0 + LEASE * 10, limit=5, lease=LEASE) == []
    assert {d.status for d in list_deliveries(store)} == {"dead", "failed"}


def test_claims_take_the_oldest_due_first_and_respect_the_limit(store: Engine) -> None:
    for minute in (3, 1, 2):
        enqueue(store, f"n-{minute}", at=T0 + dt.timedelta(minutes=minute))

    claimed = claim_due_deliveries(store, now=T0 + dt.timedelta(minutes=5), limit=2, lease=LEASE)

    assert [d.key for d in claimed] == ["n-1", "n-2"]


def test_alerts_states_history_and_what_is_notifiable(store: Engine) -> None:
    with store.begin() as connection:
        rule_id = rule_ids(connection)["drifting"]
        alert = AlertRow(None, rule_id, "drifting", "ab" * 8, "firing", {"model": "churn"}, {},
                         0.5, T0, T0, None, T0, T0)  # fmt: skip
        alert_id = save_alert(connection, alert)
        add_alert_event(connection, alert_id, "firing", T0, 0.5)
        assert list(active_alerts(connection, rule_id)) == ["ab" * 8]
        resolved_at = T0 + dt.timedelta(hours=1)
        resolved = AlertRow(alert_id, rule_id, "drifting", "ab" * 8, "resolved", {"model": "churn"},
                            {}, 0.1, T0, T0, resolved_at, T0, resolved_at)  # fmt: skip
        save_alert(connection, resolved)
        add_alert_event(connection, alert_id, "resolved", resolved_at, 0.1)
        assert active_alerts(connection, rule_id) == {}
        recent = notifiable_alerts(connection, resolved_since=T0)
        old = notifiable_alerts(connection, resolved_since=resolved_at + dt.timedelta(seconds=1))

    assert [a.state for a in recent] == ["resolved"]
    assert old == []
    assert [(e["event"], e["value"]) for e in alert_history(store, alert_id)] == [
        ("firing", 0.5),
        ("resolved", 0.1),
    ]


def test_the_notification_log_is_replaced_per_group_and_channel(store: Engine) -> None:
    entry = LogRow('{}:{model="churn"}', "hook", ("f1",), (), T0, T0, 1)
    with store.begin() as connection:
        put_log(connection, entry)
        put_log(connection, LogRow(entry.group_key, "hook", ("f1", "f2"), ("f0",), T0, T0, 2))
        put_log(connection, LogRow(entry.group_key, "pd", (), (), None, None, 0))
        got = get_log(connection, entry.group_key, "hook")
        missing = get_log(connection, "other", "hook")

    assert got is not None
    assert (got.firing, got.resolved, got.count) == (("f1", "f2"), ("f0",), 2)
    assert missing is None


def test_silences_expire_once_and_leave_the_active_list(store: Engine) -> None:
    silence = create_silence(
        store,
        matchers=[{"name": "model", "value": "churn", "op": "="}],
        starts_at=T0,
        ends_at=T0 + dt.timedelta(hours=2),
        created_by="ana",
        comment="deploy",
    )
    assert [s.id for s in list_silences(store, now=T0)] == [silence.id]

    expired = expire_silence(store, silence.id, now=T0 + dt.timedelta(minutes=5))
    again = expire_silence(store, silence.id, now=T0 + dt.timedelta(minutes=9))

    assert expired.expired_at == again.expired_at == T0 + dt.timedelta(minutes=5)
    assert list_silences(store, now=T0) == []
    assert len(list_silences(store, now=T0, include_expired=True)) == 1
    with pytest.raises(NotFoundError, match="unknown silence 999"):
        expire_silence(store, 999, now=T0)


def test_sync_replaces_project_rules_and_channels(store: Engine) -> None:
    sync_alerting(store, [rule("other")], [ChannelDraft("hook", "webhook", {"url": "x"})])

    with store.connect() as connection:
        assert list(rule_ids(connection)) == ["other"]
    with pytest.raises(NotFoundError, match="unknown channel 'pd'"):
        enqueue(store, "k", channel="pd")
    with pytest.raises(NotFoundError, match="alert rule 'bad': unknown monitor 'ghost'"):
        sync_alerting(store, [RuleDraft("bad", "ghost", {}, 0, "info", {}, {}, [], {})], [])
