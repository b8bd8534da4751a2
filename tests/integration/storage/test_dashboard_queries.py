"""The dashboard's read queries: overviews, result series and details, alert timelines and
deliveries, each with a number of statements that does not grow with the data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import NotFoundError, create_session_factory, register_model
from storage.repositories.alerting import (
    AlertRow,
    ChannelDraft,
    RuleDraft,
    add_alert_event,
    claim_due_deliveries,
    enqueue_delivery,
    finish_attempt,
    rule_ids,
    save_alert,
    sync_alerting,
)
from storage.repositories.dashboard import (
    ModelOverview,
    ResultPoint,
    details_history,
    feature_history,
    model_overview,
    model_overviews,
    result_detail,
    result_series,
)
from storage.repositories.dashboard_alerts import (
    AlertEvent,
    alerts_by_fingerprint,
    deliveries_for_alerts,
    model_alerts,
)
from storage.repositories.monitors import MonitorDraft, ResultDraft, put_monitor, save_result
from storage.schema import FeatureSpec
from storage.types import FeatureKind

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
FEATURES = [FeatureSpec("x", FeatureKind.NUMERIC)]


def register(engine: Engine, name: str, *versions: str) -> None:
    with create_session_factory(engine).begin() as session:
        for version in versions or ("1",):
            register_model(
                session, name=name, task="regression", version=version, features=FEATURES
            )


def monitor(engine: Engine, name: str, model: str, kind: str, version: str | None = None) -> int:
    config: dict[str, Any] = {"schedule": {"every": "1h"}, "version": version}
    return put_monitor(engine, MonitorDraft(name, model, kind, config)).id


def result(
    monitor_id: int,
    hour: int,
    status: str = "ok",
    *,
    details: dict[str, Any] | None = None,
    hours: int = 1,
) -> ResultDraft:
    """The result of the window ending at ``T0 + hour``, ``hours`` long."""
    return ResultDraft(
        monitor_id=monitor_id,
        window_start=T0 + (hour - hours) * HOUR,
        window_end=T0 + hour * HOUR,
        status=status,  # type: ignore[arg-type]
        score=hour / 10,
        sample_size=100 + hour,
        summary={"hour": hour},
        details=details,
        duration_seconds=0.5,
    )


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block (without SQLite's ``BEGIN``,
    which the engine issues itself)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[2] != "BEGIN":
            seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def rules(engine: Engine, *drafts: tuple[str, str, str]) -> dict[str, int]:
    """Project rules ``(name, monitor, severity)`` and a webhook channel; name -> id."""
    condition = {"metric": "score", "op": ">", "value": 0.5}
    sync_alerting(
        engine,
        [RuleDraft(n, on, condition, 0, sev, {}, {}, ["hook"], {}) for n, on, sev in drafts],
        [ChannelDraft("hook", "webhook", {"url": "http://127.0.0.1:9/"})],
    )
    with engine.connect() as connection:
        return rule_ids(connection)


def alert(
    engine: Engine,
    rule_id: int,
    rule: str,
    *,
    state: str,
    since: dt.datetime,
    resolved: dt.datetime | None = None,
    fired: dt.datetime | None = None,
    model: str | None = "churn",
    fingerprint: str = "f0" * 8,
    events: tuple[tuple[str, dt.datetime, float], ...] = (),
) -> int:
    fired = None if state == "pending" else fired or since
    labels = {"alertname": rule} | ({"model": model} if model is not None else {})
    row = AlertRow(None, rule_id, rule, fingerprint, state, labels, {}, 0.9, since, fired,
                   resolved, since, resolved or since)  # fmt: skip
    with engine.begin() as connection:
        alert_id = save_alert(connection, row)
        for event, at, value in events:
            add_alert_event(connection, alert_id, event, at, value)
    return alert_id


# -- overviews ----------------------------------------------------------------------------


@pytest.fixture
def fleet(engine: Engine) -> dict[str, int]:
    """churn (versions 1, 2; three monitors), fraud (one monitor), idle (none); alerts."""
    register(engine, "churn", "1", "2")
    register(engine, "fraud")
    register(engine, "idle")
    ids = {
        "churn-health": monitor(engine, "churn-health", "churn", "health"),
        "churn-drift": monitor(engine, "churn-drift", "churn", "data_drift", version="2"),
        "churn-perf": monitor(engine, "churn-perf", "churn", "performance"),
        "fraud-fail": monitor(engine, "fraud-fail", "fraud", "failures"),
    }
    for hour in (1, 2, 3):
        save_result(engine, result(ids["churn-drift"], hour, details={"hour": hour}))
    save_result(engine, result(ids["churn-drift"], 2, "alarm", hours=2))  # newest id, older end
    save_result(engine, result(ids["churn-health"], 5, "error"))
    save_result(engine, result(ids["churn-health"], 4))
    save_result(engine, result(ids["fraud-fail"], 1, "warning"))
    rule = rules(
        engine,
        ("drift-critical", "churn-drift", "critical"),
        ("health-warning", "churn-health", "warning"),
        ("fail-info", "fraud-fail", "info"),
    )
    for name, state, model in (
        ("health-warning", "pending", "churn"),
        ("health-warning", "firing", "churn"),
        ("drift-critical", "firing", "churn"),
        ("drift-critical", "resolved", "churn"),
        ("fail-info", "firing", "fraud"),
        ("fail-info", "pending", "idle"),  # labelled with another model than its monitor's
        ("fail-info", "firing", None),  # no model label: nobody's
    ):
        resolved = T0 if state == "resolved" else None
        alert(engine, rule[name], name, state=state, since=T0, resolved=resolved, model=model)
    return ids


def point(monitor_id: int, hour: int, status: str = "ok", hours: int = 1) -> tuple[Any, ...]:
    return (monitor_id, T0 + (hour - hours) * HOUR, T0 + hour * HOUR, status, hour / 10,
            100 + hour, {"hour": hour}, 0.5)  # fmt: skip


def as_tuple(p: ResultPoint) -> tuple[Any, ...]:
    return (p.monitor_id, p.window_start, p.window_end, p.status, p.score, p.sample_size,
            p.summary, p.duration_seconds)  # fmt: skip


def test_overviews_list_models_versions_monitors_and_open_alerts(
    engine: Engine, fleet: dict[str, int]
) -> None:
    churn, fraud, idle = model_overviews(engine)

    assert (churn.name, churn.task, churn.versions) == ("churn", "regression", ("1", "2"))
    assert [(m.name, m.kind, m.version, m.enabled) for m in churn.monitors] == [
        ("churn-drift", "data_drift", "2", True),
        ("churn-health", "health", None, True),
        ("churn-perf", "performance", None, True),
    ]
    assert (churn.open_alerts, churn.firing_severity) == (3, "critical")
    assert (fraud.open_alerts, fraud.firing_severity) == (1, "info")
    assert (idle.monitors, idle.open_alerts, idle.firing_severity) == ((), 1, None)
    assert [m.name for m in fraud.monitors] == ["fraud-fail"]


def test_the_latest_result_is_the_newest_window_end_whatever_its_status(
    engine: Engine, fleet: dict[str, int]
) -> None:
    monitors = {m.name: m for o in model_overviews(engine) for m in o.monitors}

    latest = {name: m.latest for name, m in monitors.items()}
    assert latest["churn-perf"] is None
    assert {n: as_tuple(p) for n, p in latest.items() if p is not None} == {
        "churn-drift": point(fleet["churn-drift"], 3),
        "churn-health": point(fleet["churn-health"], 5, "error"),
        "fraud-fail": point(fleet["fraud-fail"], 1, "warning"),
    }
    drift = latest["churn-drift"]
    assert drift is not None
    assert drift.computed_at.tzinfo == dt.UTC
    assert drift.window_end.tzinfo == dt.UTC


def test_one_model_overview_equals_its_row_of_all_and_unknown_ones_are_not_found(
    engine: Engine, fleet: dict[str, int]
) -> None:
    every = {o.name: o for o in model_overviews(engine)}

    assert model_overview(engine, "churn") == every["churn"]
    assert model_overview(engine, "idle") == ModelOverview(
        "idle", "regression", ("1",), (), 1, None
    )
    with pytest.raises(NotFoundError, match="unknown model 'nope'; registered models: churn, fr"):
        model_overview(engine, "nope")


def test_an_empty_store_has_no_overviews(engine: Engine) -> None:
    assert model_overviews(engine) == []


def seed_model(engine: Engine, n: int) -> None:
    """Model ``m<n>`` with two monitors of three results each and one firing alert."""
    name = f"m{n}"
    register(engine, name, "1", "2")
    ids = [monitor(engine, f"{name}-{kind}", name, kind) for kind in ("data_drift", "health")]
    for monitor_id in ids:
        for hour in (1, 2, 3):
            save_result(engine, result(monitor_id, hour))
    rule = rules(engine, *[(f"r{k}", f"m{k}-data_drift", "warning") for k in range(n + 1)])
    alert(engine, rule[f"r{n}"], f"r{n}", state="firing", since=T0, model=name)


def test_overviews_take_as_many_statements_for_one_model_as_for_five(engine: Engine) -> None:
    seed_model(engine, 0)
    model_overviews(engine)  # the connection pool's first connection is set up here
    with statements(engine) as one:
        model_overviews(engine)
    for n in range(1, 5):
        seed_model(engine, n)
    with statements(engine) as five:
        overviews = model_overviews(engine)

    assert [(o.name, len(o.monitors), o.open_alerts) for o in overviews] == [
        (f"m{n}", 2, 1) for n in range(5)
    ]
    assert all(m.latest is not None and m.latest.window_end == T0 + 3 * HOUR
               for o in overviews for m in o.monitors)  # fmt: skip
    assert len(one) == len(five) == 4


# -- results ------------------------------------------------------------------------------


@pytest.fixture
def results(engine: Engine) -> dict[str, int]:
    """``drift``: windows ending at T0+1h..T0+6h (the one ending at 4h without details, the
    one at 5h an error); ``quiet``: no result."""
    register(engine, "churn")
    ids = {
        "drift": monitor(engine, "drift", "churn", "data_drift"),
        "quiet": monitor(engine, "quiet", "churn", "health"),
    }
    for hour in range(1, 7):
        status = "error" if hour == 5 else "ok"
        details = None if hour in (4, 5) else {"columns": [{"name": "x", "effect": hour / 10}]}
        save_result(engine, result(ids["drift"], hour, status, details=details))
    return ids


def test_series_hold_the_windows_ending_in_the_half_open_range_oldest_first(
    engine: Engine, results: dict[str, int]
) -> None:
    drift, quiet = results["drift"], results["quiet"]

    ranged = result_series(engine, [drift, quiet], start=T0 + 2 * HOUR, end=T0 + 4 * HOUR)
    open_start = result_series(engine, [drift], start=None, end=T0 + 2 * HOUR)
    open_end = result_series(engine, [drift], start=T0 + 5 * HOUR, end=None)

    assert list(ranged) == [drift, quiet]
    assert [as_tuple(p) for p in ranged[drift]] == [point(drift, 3), point(drift, 4)]
    assert ranged[quiet] == []
    assert [p.window_end for p in open_start[drift]] == [T0 + HOUR, T0 + 2 * HOUR]
    assert [(p.window_end, p.status) for p in open_end[drift]] == [(T0 + 6 * HOUR, "ok")]
    assert len(result_series(engine, [drift], start=None, end=None)[drift]) == 6
    assert result_series(engine, [], start=None, end=None) == {}


def test_series_never_read_the_details(engine: Engine, results: dict[str, int]) -> None:
    with statements(engine) as seen:
        series = result_series(engine, [results["drift"]], start=None, end=None)

    assert "details" not in ResultPoint.__dataclass_fields__
    assert not hasattr(series[results["drift"]][0], "details")
    assert seen
    assert all("details" not in statement for statement in seen)


def test_series_of_an_unknown_monitor_are_not_found(
    engine: Engine, results: dict[str, int]
) -> None:
    with pytest.raises(NotFoundError, match="unknown monitors 998, 999"):
        result_series(engine, [results["drift"], 998, 999], start=None, end=None)


def test_the_detail_of_a_window_or_of_the_newest(engine: Engine, results: dict[str, int]) -> None:
    drift, quiet = results["drift"], results["quiet"]

    newest = result_detail(engine, drift)
    third = result_detail(engine, drift, window_end=T0 + 3 * HOUR)
    bare = result_detail(engine, drift, window_end=T0 + 4 * HOUR)

    assert newest is not None
    assert as_tuple(newest.point) == point(drift, 6)
    assert newest.details == {"columns": [{"name": "x", "effect": 0.6}]}
    assert third is not None
    assert (third.point.window_end, third.details) == (
        T0 + 3 * HOUR,
        {"columns": [{"name": "x", "effect": 0.3}]},
    )
    assert bare is not None
    assert bare.details is None
    assert result_detail(engine, drift, window_end=T0 + 90 * HOUR) is None
    assert result_detail(engine, quiet) is None
    with pytest.raises(NotFoundError, match="unknown monitor 999"):
        result_detail(engine, 999)


def test_details_history_is_the_last_results_with_details_oldest_first(
    engine: Engine, results: dict[str, int]
) -> None:
    drift = results["drift"]

    last_three = details_history(engine, drift, until=T0 + 5 * HOUR, limit=3)
    everything = details_history(engine, drift, until=None, limit=100)

    assert [(end, d["columns"][0]["effect"]) for end, d in last_three] == [
        (T0 + 1 * HOUR, 0.1),
        (T0 + 2 * HOUR, 0.2),
        (T0 + 3 * HOUR, 0.3),
    ]  # 4h and 5h have no details
    assert [end for end, _ in everything] == [T0 + h * HOUR for h in (1, 2, 3, 6)]
    assert details_history(engine, drift, until=T0 + 6 * HOUR, limit=1)[0][0] == T0 + 6 * HOUR
    assert details_history(engine, drift, until=T0, limit=5) == []
    assert details_history(engine, results["quiet"], until=None, limit=5) == []
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        details_history(engine, drift, until=None, limit=0)
    with pytest.raises(NotFoundError, match="unknown monitor 999"):
        details_history(engine, 999, until=None, limit=5)


def test_feature_history_is_its_row_in_the_last_results_that_tested_it(engine: Engine) -> None:
    register(engine, "churn")
    drift = monitor(engine, "drift", "churn", "data_drift")
    tested = {1: ["x", "y"], 2: ["y"], 3: ["x"], 4: None, 5: ["x", "y"], 6: ['odd "name"', "x"]}
    for hour, names in tested.items():
        columns = [{"name": n, "effect": hour, "drifted": n == "y"} for n in names or ()]
        details = None if names is None else {"columns": columns, "quality": []}
        save_result(engine, result(drift, hour, details=details))
    save_result(engine, result(drift, 7, details={"note": "no columns"}))
    save_result(engine, result(drift, 8, details={"columns": "not a list"}))

    x = feature_history(engine, drift, "x", until=T0 + 5 * HOUR, limit=2)
    y = feature_history(engine, drift, "y", until=None, limit=10)

    assert x == [
        (T0 + 3 * HOUR, {"name": "x", "effect": 3, "drifted": False}),
        (T0 + 5 * HOUR, {"name": "x", "effect": 5, "drifted": False}),
    ]
    assert [(end, row["effect"], row["drifted"]) for end, row in y] == [
        (T0 + HOUR, 1, True),
        (T0 + 2 * HOUR, 2, True),
        (T0 + 5 * HOUR, 5, True),
    ]
    assert [
        end for end, _ in feature_history(engine, drift, 'odd "name"', until=None, limit=9)
    ] == [T0 + 6 * HOUR]
    assert feature_history(engine, drift, "x", until=None, limit=1)[0][0] == T0 + 6 * HOUR
    assert feature_history(engine, drift, "z", until=None, limit=10) == []
    # Only what ends after ``since``: a range longer than ``limit`` runs is the newest runs.
    since = feature_history(engine, drift, "x", since=T0 + 3 * HOUR, until=None, limit=10)
    assert [end for end, _ in since] == [T0 + 5 * HOUR, T0 + 6 * HOUR]
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        feature_history(engine, drift, "x", until=None, limit=0)
    with pytest.raises(NotFoundError, match="unknown monitor 999"):
        feature_history(engine, 999, "x", until=None, limit=5)


# -- alerts -------------------------------------------------------------------------------


@pytest.fixture
def alerts(engine: Engine) -> dict[str, int]:
    """Episodes of churn: ``early`` [0h, 1h], ``middle`` [1h, 3h] (fired at 2h), ``open``
    from 5h (pending, same fingerprint as middle), ``again`` from 6h (firing); ``other``:
    fraud's, [0h, 9h]."""
    register(engine, "churn")
    register(engine, "fraud")
    monitor(engine, "churn-drift", "churn", "data_drift")
    monitor(engine, "fraud-drift", "fraud", "data_drift")
    rule = rules(
        engine, ("drifting", "churn-drift", "critical"), ("fraud-rule", "fraud-drift", "info")
    )
    h = [T0 + n * HOUR for n in range(10)]
    return {
        "early": alert(engine, rule["drifting"], "drifting", state="resolved", since=h[0],
                       resolved=h[1], events=(("firing", h[0], 0.7), ("resolved", h[1], 0.1))),
        "middle": alert(engine, rule["drifting"], "drifting", state="resolved", since=h[1],
                        resolved=h[3], fired=h[2], fingerprint="ab" * 8,
                        events=(("resolved", h[3], 0.2), ("pending", h[1], 0.6),
                                ("firing", h[2], 0.8))),
        "open": alert(engine, rule["drifting"], "drifting", state="pending", since=h[5],
                      fingerprint="ab" * 8, events=(("pending", h[5], 0.9),)),
        "again": alert(engine, rule["drifting"], "drifting", state="firing", since=h[6]),
        "other": alert(engine, rule["fraud-rule"], "fraud-rule", state="resolved", since=h[0],
                       resolved=h[9], model="fraud"),
    }  # fmt: skip


def test_model_alerts_are_those_active_in_the_closed_range_newest_first(
    engine: Engine, alerts: dict[str, int]
) -> None:
    def ids(start: int | None, end: int | None) -> list[int | None]:
        found = model_alerts(
            engine,
            "churn",
            start=None if start is None else T0 + start * HOUR,
            end=None if end is None else T0 + end * HOUR,
        )
        return [t.alert.id for t in found]

    a = alerts
    assert ids(3, 5) == [a["open"], a["middle"]]  # resolved at the start, active from the end
    assert ids(4, 4) == []
    assert ids(None, 0) == [a["early"]]
    assert ids(7, None) == [a["again"], a["open"]]
    assert ids(None, None) == [a["again"], a["open"], a["middle"], a["early"]]


def test_model_alerts_carry_their_severity_and_events_in_three_statements(
    engine: Engine, alerts: dict[str, int]
) -> None:
    with statements(engine) as seen:
        timelines = model_alerts(engine, "churn", start=None, end=None)

    middle = next(t for t in timelines if t.alert.id == alerts["middle"])
    assert (middle.alert.rule, middle.alert.state, middle.severity) == (
        "drifting",
        "resolved",
        "critical",
    )
    assert middle.alert.labels == {"alertname": "drifting", "model": "churn"}
    assert middle.events == (
        AlertEvent("pending", T0 + HOUR, 0.6),
        AlertEvent("firing", T0 + 2 * HOUR, 0.8),
        AlertEvent("resolved", T0 + 3 * HOUR, 0.2),
    )
    assert [len(t.events) for t in timelines] == [0, 1, 3, 2]
    assert len(seen) == 3
    (fraud,) = model_alerts(engine, "fraud", start=None, end=None)
    assert (fraud.alert.id, fraud.severity) == (alerts["other"], "info")
    with pytest.raises(NotFoundError, match="unknown model 'ghost'"):
        model_alerts(engine, "ghost", start=None, end=None)


def test_alerts_by_fingerprint_are_every_episode_newest_first(
    engine: Engine, alerts: dict[str, int]
) -> None:
    episodes = alerts_by_fingerprint(engine, "ab" * 8)

    assert [(t.alert.id, t.alert.state) for t in episodes] == [
        (alerts["open"], "pending"),
        (alerts["middle"], "resolved"),
    ]
    assert [e.event for e in episodes[0].events] == ["pending"]
    assert alerts_by_fingerprint(engine, "00" * 8) == []


# -- deliveries ---------------------------------------------------------------------------


def enqueue(
    engine: Engine, key: str, payload: dict[str, Any], *, event: str = "firing", **more: Any
) -> None:
    with engine.begin() as connection:
        enqueue_delivery(connection, channel="hook", event=event, key=key, payload=payload,
                         now=T0, **more)  # fmt: skip


def notification(*alerts: tuple[str, dt.datetime]) -> dict[str, Any]:
    return {
        "status": "firing",
        "alerts": [{"fingerprint": f, "starts_at": at.isoformat()} for f, at in alerts],
    }


def test_deliveries_are_matched_to_episodes_with_their_attempts(
    engine: Engine, alerts: dict[str, int]
) -> None:
    fp, h1, h2, h5 = "ab" * 8, T0 + HOUR, T0 + 2 * HOUR, T0 + 5 * HOUR
    enqueue(engine, "both", notification((fp, h2), ("cd" * 8, h2)))  # middle fired at 2h
    enqueue(engine, "first-episode-time", notification((fp, h1)))  # not when it fired
    enqueue(engine, "other-fingerprint", notification(("f0" * 8, h2)))
    retrain = {"rule": "drifting", "model": "churn", "window_end": h2.isoformat()}
    enqueue(engine, "retrain", retrain, event="retrain")
    enqueue(engine, "retrain-other-window", retrain | {"window_end": h5.isoformat()},
            event="retrain")  # fmt: skip
    enqueue(engine, "linked", {"note": "no alerts listed"}, alert_id=alerts["open"])
    enqueue(engine, "odd-alerts", {"alerts": ["x", None, fp], "starts_at": h2.isoformat()})
    enqueue(engine, "odd-retrain", retrain | {"window_end": "2026-03-01"}, event="retrain")
    lease = 10 * HOUR
    claimed = {d.key: d for d in claim_due_deliveries(engine, now=T0, limit=10, lease=lease)}
    finish_attempt(engine, claimed["both"], outcome="retry", now=T0, status_code=503,
                   error="busy", retry_at=T0 + HOUR)  # fmt: skip
    (again,) = claim_due_deliveries(engine, now=T0 + HOUR, limit=10, lease=lease)
    finish_attempt(engine, again, outcome="delivered", now=T0 + HOUR, status_code=200)
    finish_attempt(engine, claimed["retrain"], outcome="dead", now=T0, error="gone")

    with statements(engine) as seen:
        views = deliveries_for_alerts(engine, [alerts["middle"], alerts["open"], 999])

    assert [(v.delivery.key, v.alert_ids) for v in views] == [
        ("both", (alerts["middle"],)),
        ("retrain", (alerts["middle"],)),
        ("linked", (alerts["open"],)),
    ]
    both, dead, linked = views
    assert (both.channel, both.channel_type, both.delivery.status) == (
        "hook",
        "webhook",
        "delivered",
    )
    assert [(a["attempt"], a["outcome"], a["status_code"], a["error"]) for a in both.attempts] == [
        (1, "retry", 503, "busy"),
        (2, "delivered", 200, None),
    ]
    assert both.attempts[0]["at"] == T0
    assert [a["outcome"] for a in dead.attempts] == ["dead"]
    assert linked.attempts == ()
    assert len(seen) == 3
    assert deliveries_for_alerts(engine, []) == []


def test_a_fingerprint_in_another_field_is_no_match(engine: Engine, alerts: dict[str, int]) -> None:
    fp = "ab" * 8
    enqueue(engine, "mention", {"group_key": f'"{fp}"', "alerts": []})

    assert deliveries_for_alerts(engine, [alerts["middle"]]) == []
