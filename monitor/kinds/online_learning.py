"""``online_learning``: what a model that learns online (``learning: online``) did in a window.

It reads the learner's own records (guard alarms, freezes, rollbacks, updates), not the
prediction records, so that the guard's alarms reach alert rules, channels and retraining
webhooks like any other monitor's:

- ``alarm`` when the guard raised an alarm in the window (it then rolled back, froze, or
  only recorded it, as the model's ``guard.action`` says);
- ``frozen_status`` (``warning`` by default) when learning is frozen at the window's end
  without an alarm in the window (frozen earlier, by the guard or by hand);
- ``ok`` otherwise, even when nothing was learnt (labels may be days late).

Score: the number of guard alarms in the window.

Params
------
frozen_status
    The status of a window that ends frozen without a new alarm: ``warning`` (default),
    ``alarm`` or ``ok``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from monitor.kinds._outcome import KindOutcome, KindStatus, finite_or_none, jsonable
from monitor.kinds._params import ParamReader
from monitor.project.monitors import ParamValue
from storage.repositories.online import LearningActivity

__all__ = ["PARAMS", "OnlineLearningParams", "read_params", "run"]

PARAMS = ("frozen_status",)
FrozenStatus = Literal["warning", "alarm", "ok"]


@dataclass(frozen=True, slots=True)
class OnlineLearningParams:
    """The params of an online-learning monitor, checked, with defaults applied."""

    frozen_status: FrozenStatus = "warning"


def read_params(
    params: Mapping[str, ParamValue], *, monitor: str | None = None
) -> OnlineLearningParams:
    """Check ``params`` (module notes) and apply the defaults."""
    reader = ParamReader("online_learning", params, PARAMS, monitor=monitor)
    options: tuple[FrozenStatus, ...] = ("warning", "alarm", "ok")
    return OnlineLearningParams(frozen_status=reader.choice("frozen_status", options, "warning"))


def run(params: OnlineLearningParams, activity: LearningActivity) -> KindOutcome:
    """Judge the window's learning activity (module notes)."""
    status: KindStatus = "ok"
    if activity.alarms:
        status = "alarm"
    elif activity.frozen:
        status = params.frozen_status
    alarm = next((e for e in reversed(activity.events) if e.kind == "alarm"), None)
    summary = {
        "guard_alarms": activity.alarms,
        "frozen": activity.frozen,
        "updates": activity.updates,
        "examples_learnt": activity.learnt,
        "examples_refused": activity.refused,
        "metric": activity.metric,
        "prequential": finite_or_none(activity.prequential),
        "last_alarm": None
        if alarm is None
        else {"reason": alarm.reason, "at": alarm.at.isoformat(), "version": alarm.version},
    }
    details = {
        "events": [
            {
                "kind": event.kind,
                "reason": event.reason,
                "frozen": event.frozen,
                "version": event.version,
                "at": event.at.isoformat(),
                "details": event.details,
            }
            for event in activity.events
        ]
    }
    return KindOutcome(
        status=status,
        score=float(activity.alarms),
        summary=jsonable(summary),
        details=jsonable(details),
    )
