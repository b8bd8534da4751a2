"""The alert half of the dashboard's read queries: alert timelines and their deliveries.

:func:`model_alerts` and :func:`alerts_by_fingerprint` return alert episodes with their
rule's severity and their state changes, in three statements whatever their number;
:func:`deliveries_for_alerts` finds what was sent about given alerts (see its notes on how
notifications name the alerts they carry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from storage.models import Alert, AlertRule, Channel, Delivery, DeliveryAttempt
from storage.models import AlertEvent as AlertEventRow
from storage.repositories.alerting import (
    DELIVERY_COLUMNS,
    AlertRow,
    DeliveryRow,
    alert_row,
    delivery_row,
    select_alerts,
)
from storage.repositories.monitors import find_model_id

__all__ = [
    "AlertEvent",
    "AlertTimeline",
    "DeliveryView",
    "alerts_by_fingerprint",
    "deliveries_for_alerts",
    "model_alerts",
]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One state change of an alert: ``pending``, ``firing``, ``resolved`` or ``cleared``."""

    event: str
    #: The end of the window whose result caused the change.
    at: dt.datetime
    value: float | None


@dataclass(frozen=True, slots=True)
class AlertTimeline:
    """One alert episode, the severity of its rule and its state changes, oldest first."""

    alert: AlertRow
    severity: str
    events: tuple[AlertEvent, ...]


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery about some of the alerts asked for, with its attempts, oldest first."""

    delivery: DeliveryRow
    channel: str
    channel_type: str
    #: ``attempt``, ``at``, ``outcome``, ``status_code``, ``seconds``, ``error``.
    attempts: tuple[dict[str, Any], ...]
    #: The ids, among those asked for, of the alerts the delivery is about.
    alert_ids: tuple[int, ...] = ()


# -- alerts -------------------------------------------------------------------------------


def model_alerts(
    engine: Engine, model: str, *, start: dt.datetime | None, end: dt.datetime | None
) -> list[AlertTimeline]:
    """Alerts labelled with ``model`` that were active at some time in ``[start, end]``.

    Active: ``active_since <= end`` and not resolved before ``start`` (None leaves that side
    open). Newest first (by ``active_since``), each with its events; three statements.

    Raises
    ------
    NotFoundError
        If no model is called ``model``.
    """
    where: list[sa.ColumnElement[bool]] = [Alert.labels["model"].as_string() == model]
    if end is not None:
        where.append(Alert.active_since <= end)
    if start is not None:
        where.append(sa.or_(Alert.resolved_at.is_(None), Alert.resolved_at >= start))
    with engine.connect() as connection:
        find_model_id(connection, model)
        return _timelines(connection, where)


def alerts_by_fingerprint(engine: Engine, fingerprint: str) -> list[AlertTimeline]:
    """Every episode of the alert with ``fingerprint``, newest first; [] when there is none."""
    with engine.connect() as connection:
        return _timelines(connection, [Alert.fingerprint == fingerprint])


def _timelines(
    connection: Connection, where: Sequence[sa.ColumnElement[bool]]
) -> list[AlertTimeline]:
    """The alerts matching ``where`` with their rule's severity and their events."""
    query = (
        select_alerts()
        .add_columns(AlertRule.severity.label("severity"))
        .where(*where)
        .order_by(Alert.active_since.desc(), Alert.id.desc())
    )
    alerts = [(alert_row(row), row.severity) for row in connection.execute(query)]
    if not alerts:
        return []
    events_query = (
        sa.select(
            AlertEventRow.alert_id, AlertEventRow.event, AlertEventRow.at, AlertEventRow.value
        )
        .where(AlertEventRow.alert_id.in_(sa.select(Alert.id).where(*where)))
        .order_by(AlertEventRow.alert_id, AlertEventRow.at, AlertEventRow.id)
    )
    events: dict[int, list[AlertEvent]] = {}
    for row in connection.execute(events_query):
        events.setdefault(row.alert_id, []).append(AlertEvent(row.event, row.at, row.value))
    return [
        AlertTimeline(alert, severity, tuple(events.get(alert.id or 0, ())))
        for alert, severity in alerts
    ]


# -- deliveries ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Episode:
    id: int
    fingerprint: str
    rule: str
    model: str | None
    fired_at: dt.datetime | None


def deliveries_for_alerts(engine: Engine, alert_ids: Sequence[int]) -> list[DeliveryView]:
    """The deliveries about any of the alerts, oldest first, each with its attempts.

    A delivery is about an alert when it is linked to it (``alert_id``), when it is a
    notification whose payload lists the alert's fingerprint with ``starts_at`` equal to
    the alert's ``fired_at`` (notifications go to groups of alerts and are not linked), or
    when it is the retraining request of the alert's rule and model for the window in which
    the alert fired. Unknown ids are ignored. Three statements.
    """
    ids = list(dict.fromkeys(alert_ids))
    if not ids:
        return []
    with engine.connect() as connection:
        episodes = _episodes(connection, ids)
        candidates = _candidate_deliveries(connection, ids, episodes)
        matched = [(row, _about(row, episodes)) for row in candidates]
        kept = [(row, about) for row, about in matched if about]
        attempts = _attempts(connection, [row.id for row, _ in kept])
    return [
        DeliveryView(
            delivery=row,
            channel=row.channel,
            channel_type=row.channel_type,
            attempts=tuple(attempts.get(row.id, ())),
            alert_ids=about,
        )
        for row, about in kept
    ]


def _episodes(connection: Connection, ids: Sequence[int]) -> list[_Episode]:
    query = (
        sa.select(
            Alert.id,
            Alert.fingerprint,
            AlertRule.name.label("rule"),
            Alert.labels["model"].as_string().label("model"),
            Alert.fired_at,
        )
        .join(AlertRule, AlertRule.id == Alert.rule_id)
        .where(Alert.id.in_(ids))
    )
    return [
        _Episode(row.id, row.fingerprint, row.rule, row.model, row.fired_at)
        for row in connection.execute(query)
    ]


def _candidate_deliveries(
    connection: Connection, ids: Sequence[int], episodes: Sequence[_Episode]
) -> list[DeliveryRow]:
    """Deliveries linked to the alerts, or whose payload text names a fingerprint or rule."""
    text = sa.cast(Delivery.payload, sa.Text)
    fired = [e for e in episodes if e.fired_at is not None]
    fingerprints = sorted({e.fingerprint for e in fired})
    mentions = [text.contains(f'"{f}"', autoescape=True) for f in fingerprints]
    mentions += [
        sa.and_(Delivery.event == "retrain", text.contains(f'"{rule}"', autoescape=True))
        for rule in sorted({e.rule for e in fired})
    ]
    query = (
        sa.select(*DELIVERY_COLUMNS)
        .join(Channel, Channel.id == Delivery.channel_id)
        .where(sa.or_(Delivery.alert_id.in_(ids), *mentions))
        .order_by(Delivery.id)
    )
    return [delivery_row(row) for row in connection.execute(query)]


def _about(delivery: DeliveryRow, episodes: Iterable[_Episode]) -> tuple[int, ...]:
    """The ids of the episodes ``delivery`` is about (see :func:`deliveries_for_alerts`)."""
    payload = delivery.payload if isinstance(delivery.payload, dict) else {}
    listed = set()
    for item in payload.get("alerts") or ():
        if isinstance(item, dict):
            listed.add((item.get("fingerprint"), _moment(item.get("starts_at"))))
    about = []
    for episode in episodes:
        if delivery.alert_id == episode.id:
            about.append(episode.id)
        elif episode.fired_at is None:
            continue
        elif delivery.event == "retrain":
            if (
                payload.get("rule") == episode.rule
                and payload.get("model") == episode.model
                and _moment(payload.get("window_end")) == episode.fired_at
            ):
                about.append(episode.id)
        elif (episode.fingerprint, episode.fired_at) in listed:
            about.append(episode.id)
    return tuple(sorted(about))


def _moment(value: object) -> dt.datetime | None:
    """An ISO-8601 time with an offset from a payload; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _attempts(connection: Connection, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    if not ids:
        return {}
    query = (
        sa.select(
            DeliveryAttempt.delivery_id,
            DeliveryAttempt.attempt,
            DeliveryAttempt.at,
            DeliveryAttempt.outcome,
            DeliveryAttempt.status_code,
            DeliveryAttempt.seconds,
            DeliveryAttempt.error,
        )
        .where(DeliveryAttempt.delivery_id.in_(ids))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in connection.execute(query):
        attempt = dict(row._mapping)
        found.setdefault(attempt.pop("delivery_id"), []).append(attempt)
    return found
