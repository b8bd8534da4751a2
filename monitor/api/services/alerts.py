"""Alerts through the API: pages walked by id, newest first; one alert with its history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy.engine import Engine

from storage.errors import NotFoundError
from storage.repositories.alerting import AlertRow, alert_history, list_alerts

__all__ = [
    "MAX_ID",
    "AlertDetail",
    "AlertEvent",
    "AlertPage",
    "AlertState",
    "alert_detail",
    "alerts_page",
]

AlertState = Literal["pending", "firing", "resolved"]
#: Largest id an alert (or delivery) can have: the keys are 64-bit.
MAX_ID: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class AlertPage:
    """Alerts, newest first; ``next_cursor`` is the ``before`` of the next page (None: last)."""

    items: list[AlertRow]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One state change of an alert."""

    event: str
    at: dt.datetime
    value: float | None
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AlertDetail:
    """An alert and its state changes, oldest first."""

    alert: AlertRow
    history: list[AlertEvent]


def alerts_page(
    engine: Engine,
    *,
    state: AlertState | None = None,
    rule: str | None = None,
    model: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> AlertPage:
    """One page of alerts, newest (highest id) first, filtered.

    A filter naming a rule or model without alerts gives an empty page: rules come and go
    with the project file, and their alerts with them.
    """
    rows = list_alerts(
        engine, state=state, rule=rule, model=model, limit=limit + 1, before_id=before
    )
    more = len(rows) > limit
    items = rows[:limit]
    return AlertPage(items=items, next_cursor=items[-1].id if more else None)


def alert_detail(engine: Engine, alert_id: int) -> AlertDetail:
    """An alert and its history.

    Raises
    ------
    NotFoundError
        If there is no alert ``alert_id``.
    """
    before = alert_id + 1 if alert_id < MAX_ID else None
    found = list_alerts(engine, limit=1, before_id=before)
    if not found or found[0].id != alert_id:
        raise NotFoundError(f"unknown alert {alert_id}")
    history = [
        AlertEvent(
            event=str(row["event"]),
            at=row["at"],
            value=row["value"],
            recorded_at=row["recorded_at"],
        )
        for row in alert_history(engine, alert_id)
    ]
    return AlertDetail(alert=found[0], history=history)
