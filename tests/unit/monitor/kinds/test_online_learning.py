"""The ``online_learning`` kind: statuses from the learner's activity, params, alert metrics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from monitor.alerting.conditions import metric_value
from monitor.kinds import MonitorParamsError, run_learning, validate_params
from monitor.project.monitors import MonitorSpec
from storage.repositories.online import LearningActivity, LearningEventRow

AT = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def _spec(**params: Any) -> MonitorSpec:
    return MonitorSpec.model_validate(
        {
            "name": "learning",
            "model": "m",
            "kind": "online_learning",
            "schedule": {"every": "1h"},
            "window": {"type": "tumbling", "size": "1h"},
            "params": params,
        }
    )


def _activity(*kinds: str, frozen: bool = False, learnt: int = 90) -> LearningActivity:
    events = tuple(
        LearningEventRow(kind, "prequential_drop" if kind == "alarm" else "manual",
                         kind in ("alarm", "freeze"), "1-s2", AT, {})
        for kind in kinds
    )  # fmt: skip
    return LearningActivity(
        events=events,
        alarms=sum(kind == "alarm" for kind in kinds),
        frozen=frozen,
        updates=3,
        learnt=learnt,
        refused=6,
        metric="accuracy",
        prequential=0.91,
    )


@dataclass(frozen=True)
class _Result:
    """A stored result as alert conditions read it."""

    summary: dict[str, Any]
    status: str
    score: float | None
    kind: str = "online_learning"
    monitor_name: str = "learning"
    model_name: str = "m"
    window_start: dt.datetime = AT
    window_end: dt.datetime = AT
    sample_size: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("activity", "params", "status"),
    [
        (_activity(), {}, "ok"),
        (_activity(learnt=0), {}, "ok"),  # nothing learnt is no problem: labels come late
        (_activity("alarm", frozen=True), {}, "alarm"),
        (_activity("alarm", "unfreeze", frozen=False), {}, "alarm"),  # alarmed in the window
        (_activity(frozen=True), {}, "warning"),  # frozen before the window
        (_activity("freeze", frozen=True), {"frozen_status": "alarm"}, "alarm"),
        (_activity(frozen=True), {"frozen_status": "ok"}, "ok"),
    ],
)
def test_the_status_follows_alarms_then_frozen(
    activity: LearningActivity, params: dict[str, Any], status: str
) -> None:
    outcome = run_learning(_spec(**params), activity)
    assert outcome.status == status
    assert outcome.score == float(activity.alarms)


def test_the_summary_carries_what_alert_rules_read() -> None:
    outcome = run_learning(_spec(), _activity("alarm", "rollback", frozen=True))
    result = _Result(outcome.summary, outcome.status, outcome.score)
    read = {
        name: metric_value(name, result)
        for name in ("guard_alarms", "frozen", "examples_learnt", "examples_refused",
                     "updates", "prequential_metric", "alarm", "score")
    }  # fmt: skip
    assert read == {
        "guard_alarms": 1.0,
        "frozen": 1.0,
        "examples_learnt": 90.0,
        "examples_refused": 6.0,
        "updates": 3.0,
        "prequential_metric": 0.91,
        "alarm": 1.0,
        "score": 1.0,
    }
    assert outcome.summary["last_alarm"] == {
        "reason": "prequential_drop",
        "at": AT.isoformat(),
        "version": "1-s2",
    }
    assert [e["kind"] for e in outcome.details["events"]] == ["alarm", "rollback"]


def test_params_are_checked_with_their_names() -> None:
    with pytest.raises(MonitorParamsError, match=r"params.frozen_status.*warning, alarm, ok"):
        validate_params(
            "online_learning", {"frozen_status": "page"}, task="regression", has_reference=False
        )
    with pytest.raises(MonitorParamsError, match=r"unknown parameter.*frozen_status"):
        validate_params(
            "online_learning", {"frozen": "alarm"}, task="regression", has_reference=False
        )


def test_another_kind_is_refused() -> None:
    spec = _spec().model_copy(update={"kind": "health"})
    with pytest.raises(ValueError, match="a health monitor, not online_learning"):
        run_learning(spec, _activity())
