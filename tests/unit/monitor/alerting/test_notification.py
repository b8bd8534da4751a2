"""Alertmanager's notification decisions: group wait, group interval, repeat, resolved."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.alerting.evaluation import AlertRecord
from monitor.alerting.model import AlertSnapshot
from monitor.alerting.notification import (
    Decision,
    GroupLog,
    build_notification,
    muted_alerts,
    notification_key,
    plan,
    snapshot,
)
from monitor.alerting.routing import route
from monitor.alerting.silences import SilenceView, parse_matchers
from monitor.project.alert_rules import AlertingSpec

T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
TIMING = AlertingSpec()  # group_wait 30s, group_interval 5m, repeat_interval 4h
GROUP = '{}:{alertname="drift-high", model="churn"}'


def alert(
    name: str,
    fired: dt.datetime = T,
    resolved: dt.datetime | None = None,
    *,
    severity: str = "warning",
) -> AlertSnapshot:
    labels = {"alertname": "drift-high", "model": "churn", "severity": severity, "id": name}
    return AlertSnapshot(
        fingerprint=name,
        rule="drift-high",
        state="resolved" if resolved is not None else "firing",
        severity=severity,  # type: ignore[arg-type]
        labels=labels,
        annotations={"summary": f"drift on {name}", "runbook": "r"},
        value=0.4,
        starts_at=fired,
        ends_at=resolved,
        url=f"http://127.0.0.1:8000/alerts/{name}",
    )


def decide(
    alerts: Sequence[AlertSnapshot],
    log: GroupLog,
    now: dt.datetime,
    *,
    send_resolved: bool = True,
    muted: frozenset[str] = frozenset(),
) -> Decision:
    return plan(alerts, log, now=now, settings=TIMING, send_resolved=send_resolved, muted=muted)


def sent(decision: Decision) -> list[tuple[str, str]]:
    return [(a.fingerprint, a.state) for a in decision.alerts_to_send]


def notified(alerts: Sequence[AlertSnapshot], now: dt.datetime) -> GroupLog:
    """The log after the first notification of ``alerts`` at ``now`` (a flush tick)."""
    decision = decide(alerts, GroupLog(), now)
    assert decision.notify
    return decision.new_log


def test_group_wait_delays_the_first_notification() -> None:
    waiting = decide([alert("a")], GroupLog(), T + 10 * SECOND)

    assert (waiting.notify, waiting.reason, waiting.next_flush_at) == (False, None, T + 30 * SECOND)
    assert waiting.new_log.first_seen_at == T
    first = decide([alert("a"), alert("b", T + 20 * SECOND)], waiting.new_log, T + 30 * SECOND)
    assert (first.notify, first.reason) == (True, "first notification")
    assert sent(first) == [("a", "firing"), ("b", "firing")]
    assert first.new_log == GroupLog(
        firing=frozenset({"a", "b"}),
        notified_at=T + 30 * SECOND,
        first_seen_at=T,
        flushed_at=T + 30 * SECOND,
        count=1,
    )
    assert first.next_flush_at == T + 30 * SECOND + 5 * MINUTE


def test_an_old_alert_is_notified_at_once() -> None:
    decision = decide([alert("a", T - dt.timedelta(days=2))], GroupLog(), T)

    assert (decision.notify, decision.reason) == (True, "first notification")


def test_an_alert_resolved_before_group_wait_is_never_notified() -> None:
    waiting = decide([alert("a")], GroupLog(), T + 5 * SECOND).new_log
    gone = [alert("a", T, T + 10 * SECOND)]

    at_wait = decide(gone, waiting, T + 30 * SECOND)
    later = decide(gone, at_wait.new_log, T + 10 * MINUTE)

    assert (at_wait.notify, at_wait.reason, later.notify, later.reason) == (
        False,
        None,
        False,
        None,
    )
    assert at_wait.new_log == GroupLog()  # the group is quiet again
    assert at_wait.next_flush_at is None


def test_a_new_alert_is_notified_at_the_next_group_interval_tick() -> None:
    log = notified([alert("a")], T + 30 * SECOND)
    both = [alert("a"), alert("b", T + MINUTE)]

    between = decide(both, log, T + 2 * MINUTE)
    just_before = decide(both, log, T + 30 * SECOND + 5 * MINUTE - SECOND)
    at_tick = decide(both, log, T + 30 * SECOND + 5 * MINUTE)

    assert (between.notify, just_before.notify) == (False, False)
    assert between.next_flush_at == T + 30 * SECOND + 5 * MINUTE
    assert (at_tick.notify, at_tick.reason) == (True, "new alerts added")
    assert sent(at_tick) == [("a", "firing"), ("b", "firing")]
    assert at_tick.new_log.count == 2


def test_a_late_call_flushes_the_missed_tick_once() -> None:
    log = notified([alert("a")], T + 30 * SECOND)
    both = [alert("a"), alert("b", T + MINUTE)]

    late = decide(both, log, T + 12 * MINUTE)  # ticks at 5m30s and 10m30s passed
    again = decide(both, late.new_log, T + 13 * MINUTE)

    assert (late.notify, late.new_log.notified_at) == (True, T + 10 * MINUTE + 30 * SECOND)
    assert (again.notify, again.next_flush_at) == (False, T + 15 * MINUTE + 30 * SECOND)


def test_an_unchanged_group_is_repeated_after_repeat_interval() -> None:
    first_tick = T + 30 * SECOND
    log = notified([alert("a")], first_tick)
    ticks = [first_tick + k * 5 * MINUTE for k in range(1, 49)]

    reasons = []
    for tick in ticks:
        decision = decide([alert("a")], log, tick)
        reasons.append(decision.reason)
        log = decision.new_log

    assert reasons[:47] == [None] * 47
    assert reasons[47] == "repeat interval elapsed"  # at first_tick + 4h
    assert log.notified_at == first_tick + dt.timedelta(hours=4)


def test_repeat_interval_is_rounded_up_to_group_interval_ticks() -> None:
    timing = AlertingSpec(repeat_interval=dt.timedelta(minutes=7))
    first_tick = T + 30 * SECOND
    log = notified([alert("a")], first_tick)

    def at(tick: dt.datetime, log: GroupLog) -> Decision:
        return plan([alert("a")], log, now=tick, settings=timing, send_resolved=True)

    five = at(first_tick + 5 * MINUTE, log)
    ten = at(first_tick + 10 * MINUTE, five.new_log)

    assert (five.reason, ten.reason) == (None, "repeat interval elapsed")


def test_all_alerts_resolved_is_notified_once() -> None:
    log = notified([alert("a"), alert("b")], T + 30 * SECOND)
    resolved = [alert("a", T, T + MINUTE), alert("b", T, T + 2 * MINUTE)]

    tick = decide(resolved, log, T + 5 * MINUTE + 30 * SECOND)
    after = decide(resolved, tick.new_log, T + 10 * MINUTE + 30 * SECOND)

    assert (tick.notify, tick.reason) == (True, "all alerts resolved")
    assert sent(tick) == [("a", "resolved"), ("b", "resolved")]
    assert tick.new_log.firing == frozenset()
    assert tick.new_log.first_seen_at is None  # the episode is over
    assert tick.next_flush_at is None
    assert (after.notify, after.reason) == (False, None)


def test_without_send_resolved_resolutions_are_never_sent() -> None:
    log = notified([alert("a"), alert("b")], T + 30 * SECOND)
    one_left = [alert("a"), alert("b", T, T + MINUTE)]
    none_left = [alert("a", T, T + 6 * MINUTE), alert("b", T, T + MINUTE)]

    some = decide(one_left, log, T + 5 * MINUTE + 30 * SECOND, send_resolved=False)
    all_gone = decide(none_left, some.new_log, T + 10 * MINUTE + 30 * SECOND, send_resolved=False)
    again = decide(none_left, all_gone.new_log, T + 15 * MINUTE + 30 * SECOND, send_resolved=False)

    assert (some.notify, some.reason) == (False, None)
    assert (all_gone.notify, all_gone.reason, sent(all_gone)) == (False, "all alerts resolved", [])
    assert all_gone.new_log.firing == frozenset()  # cleared silently
    assert (again.notify, again.reason) == (False, None)


def test_some_alerts_resolved_and_resolved_alerts_are_announced_once() -> None:
    log = notified([alert("a"), alert("b")], T + 30 * SECOND)
    one_left = [alert("a"), alert("b", T, T + MINUTE)]

    some = decide(one_left, log, T + 5 * MINUTE + 30 * SECOND)
    quiet = decide(one_left, some.new_log, T + 10 * MINUTE + 30 * SECOND)
    with_c = [*one_left, alert("c", T + 11 * MINUTE)]
    added = decide(with_c, quiet.new_log, T + 15 * MINUTE + 30 * SECOND)

    assert (some.reason, sent(some)) == (
        "some alerts resolved",
        [("a", "firing"), ("b", "resolved")],
    )
    assert quiet.reason is None
    assert (added.reason, sent(added)) == ("new alerts added", [("a", "firing"), ("c", "firing")])


def test_firing_then_resolved_between_flushes_is_never_announced() -> None:
    log = notified([alert("a")], T + 30 * SECOND)
    blip = [alert("a"), alert("b", T + MINUTE, T + 2 * MINUTE)]

    tick = decide(blip, log, T + 5 * MINUTE + 30 * SECOND, send_resolved=False)

    assert (tick.notify, tick.reason) == (False, None)


def test_muted_alerts_are_left_out_but_keep_the_log() -> None:
    silenced = frozenset({"b"})
    first = decide([alert("a"), alert("b")], GroupLog(), T + 30 * SECOND, muted=silenced)
    both = frozenset({"a", "b"})
    all_muted = decide([alert("a"), alert("b")], first.new_log, T + 5 * MINUTE, muted=both)

    assert sent(first) == [("a", "firing")]
    assert first.new_log.firing == frozenset({"a"})
    assert (all_muted.notify, all_muted.reason) == (False, None)
    assert all_muted.new_log.firing == frozenset({"a"})  # not announced as resolved
    unmuted = decide([alert("a"), alert("b")], all_muted.new_log, T + 10 * MINUTE + 30 * SECOND)
    assert (unmuted.reason, sent(unmuted)) == (
        "new alerts added",
        [("a", "firing"), ("b", "firing")],
    )


def test_a_group_whose_alerts_are_all_muted_is_never_notified() -> None:
    decision = decide([alert("a")], GroupLog(), T + MINUTE, muted=frozenset({"a"}))

    assert (decision.notify, decision.reason) == (False, None)
    assert decision.new_log.first_seen_at == T  # the episode exists, muted


def test_muted_alerts_from_silences_and_inhibition() -> None:
    critical = alert("c", severity="critical")
    warning, info = alert("w"), alert("i", severity="info")
    silence = SilenceView(1, parse_matchers("id=i"), T, T + dt.timedelta(hours=1))

    muted = muted_alerts(
        [critical, warning, info],
        firing=[critical.labels],
        silences=[silence],
        inhibit_rules=AlertingSpec().inhibitions(),
        now=T + MINUTE,
    )

    assert muted == frozenset({"w", "i"})


def test_replaying_a_decision_gives_the_same_notification() -> None:
    log = notified([alert("a")], T + 30 * SECOND)
    alerts = [alert("a"), alert("b", T + MINUTE)]
    now = T + 6 * MINUTE

    first = decide(alerts, log, now)
    replay = decide(alerts, log, now + 2 * MINUTE)  # same tick
    notes = [
        build_notification(
            d,
            channel="risk-slack",
            group=GROUP,
            group_labels={"alertname": "drift-high", "model": "churn"},
            external_url="http://127.0.0.1:8000",
            created_at=now,
        )
        for d in (first, replay)
    ]

    assert first == replay
    assert notes[0] == notes[1]
    assert notes[0].key == notification_key(GROUP, "risk-slack", first.new_log)
    assert notes[0].key != notification_key(GROUP, "risk-teams", first.new_log)
    assert notes[0].key != notification_key(GROUP, "risk-slack", log)


def test_a_repeat_has_a_new_key() -> None:
    log = notified([alert("a")], T + 30 * SECOND)
    repeat = dataclasses.replace(log, count=log.count + 1)

    assert notification_key(GROUP, "slack", repeat) != notification_key(GROUP, "slack", log)


def test_build_notification() -> None:
    log = notified([alert("a"), alert("b")], T + 30 * SECOND)
    decision = decide([alert("a"), alert("b", T, T + MINUTE)], log, T + 5 * MINUTE + 30 * SECOND)

    note = build_notification(
        decision,
        channel="risk-slack",
        group=GROUP,
        group_labels={"alertname": "drift-high", "model": "churn"},
        external_url="http://127.0.0.1:8000",
        created_at=T + 6 * MINUTE,
    )

    assert (note.status, note.reason, note.group_key) == ("firing", "some alerts resolved", GROUP)
    assert note.common_labels == {
        "alertname": "drift-high",
        "model": "churn",
        "severity": "warning",
    }
    assert note.common_annotations == {"runbook": "r"}
    with pytest.raises(ValueError, match="the decision sends no notification"):
        build_notification(
            decide([alert("a")], GroupLog(), T),
            channel="c",
            group=GROUP,
            group_labels={},
            external_url="http://x",
            created_at=T,
        )


def test_plan_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        decide([alert("a")], GroupLog(), T.replace(tzinfo=None))


def test_snapshot_of_a_record() -> None:
    record = AlertRecord(
        fingerprint="f1",
        rule="drift-high",
        state="resolved",
        labels={"alertname": "drift-high", "severity": "critical"},
        annotations={"summary": "s"},
        value=0.1,
        active_since=T,
        fired_at=T + MINUTE,
        resolved_at=T + 2 * MINUTE,
        last_true_at=T + MINUTE,
        last_evaluated_at=T + 2 * MINUTE,
    )

    shot = snapshot(record, external_url="https://driftline.example.com/")

    assert (shot.state, shot.severity, shot.starts_at, shot.ends_at) == (
        "resolved",
        "critical",
        T + MINUTE,
        T + 2 * MINUTE,
    )
    assert shot.url == "https://driftline.example.com/alerts/f1"
    pending = dataclasses.replace(record, state="pending", fired_at=None, resolved_at=None)
    with pytest.raises(ValueError, match="pending alerts are not sent"):
        snapshot(pending, external_url="http://x")


def test_routing_groups_alerts_per_channel() -> None:
    a, b = alert("a"), alert("b")
    labels = {**alert("c").labels, "alertname": "accuracy-low"}
    other = dataclasses.replace(alert("c"), rule="accuracy-low", labels=labels)

    groups = route(
        [b, a, other],
        {"drift-high": ["slack", "pagerduty"], "accuracy-low": ["slack"]},
        group_by=["alertname", "model"],
    )

    assert [(g.key, g.channel, [x.fingerprint for x in g.alerts]) for g in groups] == [
        ('{}:{alertname="accuracy-low", model="churn"}', "slack", ["c"]),
        (GROUP, "pagerduty", ["a", "b"]),
        (GROUP, "slack", ["a", "b"]),
    ]
    assert groups[1].labels == {"alertname": "drift-high", "model": "churn"}


# --- properties ---------------------------------------------------------------------------

EVENTS = st.lists(
    st.tuples(st.integers(0, 40), st.one_of(st.none(), st.integers(1, 40))), max_size=6
)


@given(EVENTS, st.lists(st.integers(1, 600), min_size=1, max_size=12), st.booleans())
def test_notifications_only_on_ticks_and_never_twice_per_tick(
    lives: list[tuple[int, int | None]], calls: list[int], send_resolved: bool
) -> None:
    """Whatever the alerts and the call times: sends happen at most once per tick, ticks
    are group_wait + k × group_interval after the episode starts, and replays agree."""
    alerts_at = [
        alert(f"x{i}", T + start * MINUTE, None if end is None else T + (start + end) * MINUTE)
        for i, (start, end) in enumerate(lives)
    ]
    log, now, sends = GroupLog(), T, []
    for gap in calls:
        now += gap * 10 * SECOND
        visible = [
            dataclasses.replace(a, state="firing", ends_at=None)
            if a.ends_at is not None and a.ends_at > now
            else a
            for a in alerts_at
            if a.starts_at <= now
        ]
        decision = plan(visible, log, now=now, settings=TIMING, send_resolved=send_resolved)
        assert plan(visible, log, now=now, settings=TIMING, send_resolved=send_resolved) == (
            decision
        )
        if decision.notify:
            tick = decision.new_log.notified_at
            assert tick is not None
            assert tick <= now
            start = decision.new_log.first_seen_at
            assert start is None or (tick - start - TIMING.group_wait) % TIMING.group_interval == (
                dt.timedelta(0)
            )
            sends.append(tick)
        log = decision.new_log
    assert len(sends) == len(set(sends))
