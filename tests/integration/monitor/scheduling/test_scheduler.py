"""The scheduler over seeded records, on SQLite and PostgreSQL.

Records are generated with a known change (a shifted feature, a burst of errors) at known
hours; the tests check which windows the monitors flag, not the statistics themselves
(those are checked against scipy and Evidently in the detector tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from monitor.project import Project
from monitor.project.monitors import MonitorSpec
from monitor.scheduling.backfill import plan_backfill, run_backfill
from monitor.scheduling.runner import MonitorRunner
from monitor.scheduling.scheduler import MonitorScheduler
from monitor.scheduling.sync import monitor_draft, sync_project
from storage import PredictionBatch, create_session_factory, get_model_version, insert_predictions
from storage.repositories.monitors import ResultInfo, list_results, put_monitor
from storage.types import RecordStatus

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

PROJECT: dict[str, Any] = {
    "version": 1,
    "models": [
        {
            "name": "churn",
            "task": "binary_classification",
            "classes": ["stay", "leave"],
            "features": [
                {"name": "age", "kind": "numeric"},
                {"name": "income", "kind": "numeric"},
                {"name": "plan", "kind": "categorical"},
            ],
        }
    ],
}


def monitor(name: str, kind: str, window: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model": "churn",
        "kind": kind,
        "schedule": {"every": "1h"},
        "window": window,
        "min_samples": 50,
        **more,
    }


HOURLY = {"type": "tumbling", "size": "1h"}


def seed(
    engine: Engine,
    rng: np.random.Generator,
    *,
    start: dt.datetime,
    hours: int,
    per_hour: int,
    shift_from: int | None = None,
    errors_at: int | None = None,
) -> None:
    """``per_hour`` records each hour; ``age`` shifts by 3 sd from hour ``shift_from`` on."""
    with create_session_factory(engine)() as session:
        handle = get_model_version(session, "churn")
    for hour in range(hours):
        n = per_hour
        begin = start + hour * HOUR
        offsets = np.sort(rng.uniform(0, 3600e6, n)).astype(np.int64)
        age = rng.normal(40, 10, n)
        if shift_from is not None and hour >= shift_from:
            age = age + 30
        status = np.full(n, int(RecordStatus.OK), dtype=np.int16)
        if errors_at is not None and hour == errors_at:
            status[: n // 2] = int(RecordStatus.ERROR)
        stamp = (begin - EPOCH) // dt.timedelta(microseconds=1)
        proba = rng.uniform(size=n)
        insert_predictions(
            engine,
            handle,
            PredictionBatch(
                request_ids=[f"{stamp}-{i}" for i in range(n)],
                timestamps_us=stamp + offsets,
                features={
                    "age": age,
                    "income": rng.lognormal(10, 0.5, n),
                    "plan": rng.choice(["basic", "pro", "team"], n).tolist(),
                },
                predictions=np.where(proba > 0.5, "leave", "stay").tolist(),
                probabilities=np.column_stack([1 - proba, proba]),
                latency_seconds=rng.gamma(2.0, 0.01, n),
                status=status,
            ),
            rng=rng,
        )


def project(*monitors: dict[str, Any]) -> Project:
    return Project.model_validate({**PROJECT, "monitors": list(monitors)})


def scheduler(engine: Engine) -> MonitorScheduler:
    runner = MonitorRunner(engine)
    return MonitorScheduler(engine, runner, settle=dt.timedelta(0), workers=2)


def results(engine: Engine, name: str) -> list[ResultInfo]:
    items = list_results(engine, monitor_name=name, limit=1000, with_details=True).items
    return sorted(items, key=lambda r: r.window_start)


def hour_of(result: ResultInfo) -> int:
    return (result.window_start - T0) // HOUR


def test_each_window_gets_the_verdict_its_records_deserve(
    engine: Engine, rng: np.random.Generator
) -> None:
    sync_project(
        engine,
        project(
            monitor("drift", "data_drift", HOURLY, reference={"type": "fixed_window",
                    "start": T0.isoformat(), "end": (T0 + 2 * HOUR).isoformat()},
                    params={"drift_share": 0.3}),
            monitor("errors", "failures", HOURLY, params={"slo_rate": 0.05}),
        ),
    )  # fmt: skip
    seed(engine, rng, start=T0, hours=6, per_hour=300, shift_from=4, errors_at=3)
    schedule = scheduler(engine)

    for hour in range(1, 7):  # a run at the end of every hour
        schedule.run_all_due(now=T0 + hour * HOUR)

    drift = results(engine, "drift")
    errors = results(engine, "errors")
    assert [hour_of(r) for r in drift] == [0, 1, 2, 3, 4, 5]
    assert [r.status for r in drift] == ["ok", "ok", "ok", "ok", "alarm", "alarm"]
    drifted = {c["name"] for c in drift[4].details["columns"] if c["drifted"]}  # type: ignore[index]
    assert drifted == {"age"}
    assert [r.status == "alarm" for r in errors] == [h == 3 for h in range(6)]
    assert all(r.sample_size == 300 for r in drift + errors)
    assert all(r.duration_seconds is not None and r.duration_seconds > 0 for r in drift)


def test_a_window_below_min_samples_is_insufficient_data(
    engine: Engine, rng: np.random.Generator
) -> None:
    sync_project(engine, project(monitor("errors", "failures", HOURLY, min_samples=100)))
    seed(engine, rng, start=T0, hours=1, per_hour=99)

    scheduler(engine).run_all_due(now=T0 + HOUR)

    (only,) = results(engine, "errors")
    assert only.status == "insufficient_data"
    assert only.score is None
    assert "99 records in the window" in only.summary["reason"]
    assert "at least 100" in only.summary["reason"]


def test_a_missing_reference_dataset_is_an_error_result_saying_so(
    engine: Engine, rng: np.random.Generator
) -> None:
    sync_project(
        engine,
        project(
            monitor(
                "drift", "data_drift", HOURLY, reference={"type": "dataset", "dataset": "training"}
            )
        ),
    )
    seed(engine, rng, start=T0, hours=1, per_hour=100)

    scheduler(engine).run_all_due(now=T0 + HOUR)

    (only,) = results(engine, "drift")
    assert only.status == "error"
    assert "training" in only.summary["error"]


def test_rerunning_a_window_replaces_its_result(engine: Engine, rng: np.random.Generator) -> None:
    sync_project(engine, project(monitor("errors", "failures", HOURLY)))
    seed(engine, rng, start=T0, hours=2, per_hour=100)
    schedule = scheduler(engine)
    schedule.run_all_due(now=T0 + HOUR)
    schedule.run_all_due(now=T0 + HOUR)  # nothing new is due
    plan = plan_backfill(engine, "churn", start=T0, end=T0 + HOUR, recompute=True)
    run_backfill(schedule.runner, plan)

    assert [hour_of(r) for r in results(engine, "errors")] == [0]


def test_a_backfill_over_30_days_matches_the_schedule(
    engine: Engine, rng: np.random.Generator
) -> None:
    daily = {"type": "tumbling", "size": "1d"}
    specs = [
        monitor(f"{prefix}-drift", "data_drift", daily, schedule={"every": "6h"},
                reference={"type": "previous_window"}, params={"drift_share": 0.3})
        for prefix in ("live", "past")
    ] + [
        monitor(f"{prefix}-errors", "failures", daily, schedule={"every": "6h"})
        for prefix in ("live", "past")
    ]  # fmt: skip
    sync_project(engine, project(*specs))
    seed(engine, rng, start=T0 - DAY, hours=31 * 24, per_hour=8, shift_from=20 * 24, errors_at=300)
    live = scheduler(engine)
    # The live monitors: a first run on day 0, then one every 6 hours for 30 days.
    live_only = [m for m in live_monitors(engine) if m.name.startswith("live")]
    now = T0
    while now <= T0 + 30 * DAY:
        for m in live_only:
            live.run_due(m, now=now)
        now += 6 * HOUR
    past_names = ("past-drift", "past-errors")
    for name in past_names:
        plan = plan_backfill(engine, "churn", start=T0 - DAY, end=T0 + 30 * DAY, monitor_name=name)
        assert len(plan) == 31
        run_backfill(MonitorRunner(engine), plan)

    for kind in ("drift", "errors"):
        got = [(r.window_start, r.status, r.score) for r in results(engine, f"live-{kind}")]
        want = [(r.window_start, r.status, r.score) for r in results(engine, f"past-{kind}")]
        assert len(got) == 31
        assert got == want
    statuses = [r.status for r in results(engine, "past-drift")]
    assert "alarm" in statuses[20:22]
    assert statuses[:19].count("alarm") <= 2


def live_monitors(engine: Engine) -> list[Any]:
    from storage.repositories.monitors import list_monitors

    return list_monitors(engine, enabled=True)


def test_a_monitor_created_through_the_store_is_picked_up(
    engine: Engine, rng: np.random.Generator
) -> None:
    sync_project(engine, project())
    seed(engine, rng, start=T0, hours=1, per_hour=60)
    spec = MonitorSpec.model_validate(monitor("later", "failures", HOURLY))
    put_monitor(engine, monitor_draft(spec))

    reports = scheduler(engine).run_all_due(now=T0 + HOUR + dt.timedelta(minutes=5))

    assert [(r.monitor, r.status) for r in reports] == [("later", "ok")]


def test_an_uploaded_training_set_is_the_reference(
    engine: Engine, rng: np.random.Generator
) -> None:
    from monitor.references import upload_reference

    spec = monitor("drift", "data_drift", HOURLY, params={"drift_share": 0.3},
                   reference={"type": "dataset", "dataset": "training"})  # fmt: skip
    sync_project(engine, project(spec))
    n = 2000
    lines = ["age,income,plan,target"] + [
        f"{a:.3f},{i:.2f},{p},{t}"
        for a, i, p, t in zip(
            rng.normal(40, 10, n), rng.lognormal(10, 0.5, n),
            rng.choice(["basic", "pro", "team"], n), rng.choice(["stay", "leave"], n), strict=True,
        )
    ]  # fmt: skip
    upload_reference(engine, "churn", "\n".join(lines).encode(), name="training", file_format="csv")
    seed(engine, rng, start=T0, hours=2, per_hour=400, shift_from=1)
    schedule = scheduler(engine)

    schedule.run_all_due(now=T0 + HOUR)
    schedule.run_all_due(now=T0 + 2 * HOUR)

    quiet, shifted = results(engine, "drift")
    assert (quiet.status, shifted.status) == ("ok", "alarm")
    assert [c["name"] for c in shifted.details["columns"] if c["drifted"]] == ["age"]  # type: ignore[index]
    assert {c["name"] for c in quiet.details["columns"]} == {"age", "income", "plan"}  # type: ignore[index]


def test_runs_are_counted_and_timed_in_prometheus(engine: Engine, rng: np.random.Generator) -> None:
    from prometheus_client import CollectorRegistry

    from monitor.scheduling.metrics import SchedulerMetrics

    sync_project(engine, project(monitor("errors", "failures", HOURLY, min_samples=150)))
    seed(engine, rng, start=T0, hours=2, per_hour=100)
    seed(engine, rng, start=T0 + 2 * HOUR, hours=1, per_hour=200)
    registry = CollectorRegistry()
    metrics = SchedulerMetrics(registry)
    clock_now = T0 + 3 * HOUR + dt.timedelta(minutes=2)
    runner = MonitorRunner(engine, metrics=metrics, clock=lambda: clock_now)
    schedule = MonitorScheduler(engine, runner, settle=dt.timedelta(0), metrics=metrics)

    schedule.run_all_due(now=T0 + HOUR)
    schedule.run_all_due(now=T0 + 3 * HOUR)

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("driftline_monitor_runs_total", monitor="errors", status="insufficient_data") == 2
    assert sample("driftline_monitor_runs_total", monitor="errors", status="ok") == 1
    assert sample("driftline_monitor_run_duration_seconds_count", kind="failures") == 3
    assert sample("driftline_monitor_lag_seconds", monitor="errors") == pytest.approx(120)
    assert (sample("driftline_monitor_last_cycle_duration_seconds") or 0) > 0
    scored = {"monitor": "errors", "model": "churn", "kind": "failures"}
    assert sample("driftline_monitor_score", **scored) == 0.0  # no failures in hour 3

    # A backfilled past window leaves the newest window's score on the gauge.
    metrics.observe_score("errors", "churn", "failures", T0 + HOUR, 0.5)
    assert sample("driftline_monitor_score", **scored) == 0.0
    # A newest window without a score removes the series rather than keep a stale one.
    metrics.observe_score("errors", "churn", "failures", T0 + 4 * HOUR, None)
    assert sample("driftline_monitor_score", **scored) is None


def test_the_after_result_hook_commits_with_the_result_or_not_at_all(
    engine: Engine, rng: np.random.Generator
) -> None:
    sync_project(engine, project(monitor("errors", "failures", HOURLY)))
    seed(engine, rng, start=T0, hours=2, per_hour=100)
    seen: list[tuple[str, str]] = []

    def record(connection: Any, info: Any, draft: Any) -> None:
        seen.append((info.name, draft.status))

    def explode(connection: Any, info: Any, draft: Any) -> None:
        raise RuntimeError("alert evaluation failed")

    failing = MonitorScheduler(
        engine, MonitorRunner(engine, after_result=explode), settle=dt.timedelta(0)
    )
    with pytest.raises(RuntimeError, match="alert evaluation failed"):
        failing.run_all_due(now=T0 + HOUR)
    assert results(engine, "errors") == []  # rolled back with the hook: the window is retried

    working = MonitorScheduler(
        engine, MonitorRunner(engine, after_result=record), settle=dt.timedelta(0)
    )
    working.run_all_due(now=T0 + HOUR)
    assert seen == [("errors", "ok")]
    assert [hour_of(r) for r in results(engine, "errors")] == [0]
