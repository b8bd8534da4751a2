"""Alerting in the store: rules and channels, alert states and history, the notification
log, the delivery outbox with its attempts, and silences.

Functions that take a :class:`~sqlalchemy.engine.Connection` run inside the caller's
transaction, so that a state change and the deliveries it causes commit together (the
outbox pattern): either both are stored or neither is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from storage.engine import write_transaction
from storage.errors import ConflictError, NotFoundError
from storage.models import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    Delivery,
    DeliveryAttempt,
    Monitor,
    NotificationLog,
    Silence,
)
from storage.types import utc_now

__all__ = [
    "AlertRow",
    "ChannelDraft",
    "DeliveryRow",
    "LogRow",
    "RuleDraft",
    "RuleInfo",
    "SilenceRow",
    "active_alerts",
    "add_alert_event",
    "alert_history",
    "channel_types",
    "claim_due_deliveries",
    "create_silence",
    "delete_rule",
    "delivery_attempts",
    "enqueue_delivery",
    "expire_silence",
    "finish_attempt",
    "get_log",
    "get_rule",
    "get_silence",
    "list_alerts",
    "list_deliveries",
    "list_rules",
    "list_silences",
    "notifiable_alerts",
    "put_log",
    "put_rule",
    "rule_ids",
    "save_alert",
    "sync_alerting",
]

Outcome = Literal["delivered", "retry", "failed", "dead"]
RuleSource = Literal["project", "api"]
RuleMode = Literal["create", "replace"]


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """An alert rule as declared."""

    name: str
    monitor_name: str | None
    condition: dict[str, Any]
    for_seconds: int
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    channels: list[str]
    config: dict[str, Any]
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ChannelDraft:
    """A channel as declared; ``config`` holds no secret values."""

    name: str
    type: str
    config: dict[str, Any]
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert's stored state; ``id`` is None until saved."""

    id: int | None
    rule_id: int
    rule: str
    fingerprint: str
    state: str
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float | None
    active_since: dt.datetime
    fired_at: dt.datetime | None
    resolved_at: dt.datetime | None
    last_true_at: dt.datetime | None
    last_evaluated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LogRow:
    """What a channel was last told about a group."""

    group_key: str
    channel: str
    firing: tuple[str, ...]
    resolved: tuple[str, ...]
    first_seen_at: dt.datetime | None
    notified_at: dt.datetime | None
    count: int
    flushed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery in the outbox."""

    id: int
    channel: str
    channel_type: str
    event: str
    key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    last_status_code: int | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    alert_id: int | None


@dataclass(frozen=True, slots=True)
class SilenceRow:
    """A silence."""

    id: int
    matchers: list[dict[str, Any]]
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_by: str
    comment: str
    expired_at: dt.datetime | None
    created_at: dt.datetime


def _insert(connection: Connection) -> Any:
    return pg_insert if connection.dialect.name == "postgresql" else sqlite_insert


# -- rules and channels -------------------------------------------------------------------


def sync_alerting(
    engine: Engine, rules: Sequence[RuleDraft], channels: Sequence[ChannelDraft]
) -> None:
    """Make the project's rules and channels in the store exactly these, in one transaction.

    Alerts of deleted rules go with them; deliveries to deleted channels too. Rules
    created through the API are left alone.

    Raises
    ------
    NotFoundError
        If a rule names a monitor the store does not have.
    ConflictError
        If a rule's name is taken by a rule created through the API.
    """
    with write_transaction(engine) as connection:
        monitors = dict(connection.execute(sa.select(Monitor.name, Monitor.id)).all())
        _sync(
            connection,
            Channel,
            [
                {"name": c.name, "type": c.type, "config": c.config, "enabled": c.enabled}
                for c in channels
            ],
        )
        rows = []
        for rule in rules:
            monitor_id = None
            if rule.monitor_name is not None:
                monitor_id = monitors.get(rule.monitor_name)
                if monitor_id is None:
                    msg = f"alert rule {rule.name!r}: unknown monitor {rule.monitor_name!r}"
                    raise NotFoundError(msg)
            rows.append(
                {
                    "name": rule.name,
                    "monitor_id": monitor_id,
                    "condition": rule.condition,
                    "for_seconds": rule.for_seconds,
                    "severity": rule.severity,
                    "labels": rule.labels,
                    "annotations": rule.annotations,
                    "channels": rule.channels,
                    "config": rule.config,
                    "enabled": rule.enabled,
                    "updated_at": utc_now(),
                }
            )
        _sync(connection, AlertRule, rows)


def _sync(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    names = [row["name"] for row in rows]
    connection.execute(sa.delete(table).where(table.source == "project", table.name.not_in(names)))
    query = sa.select(table.name, table.id, table.source)
    existing = {row.name: row for row in connection.execute(query)}
    for row in rows:
        found = existing.get(row["name"])
        if found is not None and found.source != "project":  # the API's own: not the file's
            what = "alert rule" if table is AlertRule else "channel"
            msg = (
                f"{what} {row['name']!r} was created through the API; delete it there first "
                f"or give the project's {what} another name"
            )
            raise ConflictError(msg)
        if found is not None:
            connection.execute(sa.update(table).where(table.id == found.id).values(**row))
        else:
            connection.execute(sa.insert(table).values(source="project", **row))


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A stored rule: its declaration as JSON, where it came from, and its monitor."""

    id: int
    name: str
    monitor_name: str | None
    config: dict[str, Any]
    enabled: bool
    source: str
    updated_at: dt.datetime


def list_rules(
    connection: Connection, *, monitor_name: str | None = None, enabled: bool | None = None
) -> list[RuleInfo]:
    """Rules by name, optionally of one monitor or only enabled (or disabled) ones."""
    query = (
        sa.select(
            AlertRule.id,
            AlertRule.name,
            Monitor.name.label("monitor_name"),
            AlertRule.config,
            AlertRule.enabled,
            AlertRule.source,
            AlertRule.updated_at,
        )
        .outerjoin(Monitor, Monitor.id == AlertRule.monitor_id)
        .order_by(AlertRule.name)
    )
    if monitor_name is not None:
        query = query.where(Monitor.name == monitor_name)
    if enabled is not None:
        query = query.where(AlertRule.enabled.is_(enabled))
    return [
        RuleInfo(
            id=row.id,
            name=row.name,
            monitor_name=row.monitor_name,
            config=dict(row.config or {}),
            enabled=bool(row.enabled),
            source=row.source,
            updated_at=row.updated_at,
        )
        for row in connection.execute(query)
    ]


def rule_ids(connection: Connection) -> dict[str, int]:
    """Rule name to id."""
    return dict(connection.execute(sa.select(AlertRule.name, AlertRule.id)).all())


# -- alerts -------------------------------------------------------------------------------


def alert_row(row: Any) -> AlertRow:
    return AlertRow(
        id=row.id,
        rule_id=row.rule_id,
        rule=row.rule,
        fingerprint=row.fingerprint,
        state=row.state,
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        value=row.value,
        active_since=row.active_since,
        fired_at=row.fired_at,
        resolved_at=row.resolved_at,
        last_true_at=row.last_true_at,
        last_evaluated_at=row.last_evaluated_at,
    )


def select_alerts() -> sa.Select[Any]:
    return sa.select(
        Alert.id,
        Alert.rule_id,
        AlertRule.name.label("rule"),
        Alert.fingerprint,
        Alert.state,
        Alert.labels,
        Alert.annotations,
        Alert.value,
        Alert.active_since,
        Alert.fired_at,
        Alert.resolved_at,
        Alert.last_true_at,
        Alert.last_evaluated_at,
    ).join(AlertRule, AlertRule.id == Alert.rule_id)


def active_alerts(connection: Connection, rule_id: int) -> dict[str, AlertRow]:
    """The rule's pending and firing alerts, by fingerprint."""
    query = select_alerts().where(Alert.rule_id == rule_id, Alert.state.in_(("pending", "firing")))
    return {row.fingerprint: alert_row(row) for row in connection.execute(query)}


def save_alert(connection: Connection, alert: AlertRow) -> int:
    """Insert (``id`` None) or update an alert; returns its id."""
    values = {
        "rule_id": alert.rule_id,
        "fingerprint": alert.fingerprint,
        "state": alert.state,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "value": alert.value,
        "active_since": alert.active_since,
        "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at,
        "last_true_at": alert.last_true_at,
        "last_evaluated_at": alert.last_evaluated_at,
    }
    if alert.id is None:
        return int(
            connection.execute(sa.insert(Alert).values(**values).returning(Alert.id)).scalar_one()
        )
    connection.execute(sa.update(Alert).where(Alert.id == alert.id).values(**values))
    return alert.id


def add_alert_event(
    connection: Connection, alert_id: int, event: str, at: dt.datetime, value: float | None
) -> None:
    """Append a state change to the alert's history."""
    connection.execute(
        sa.insert(AlertEvent).values(alert_id=alert_id, event=event, at=at, value=value)
    )


def notifiable_alerts(connection: Connection, *, resolved_since: dt.datetime) -> list[AlertRow]:
    """Firing alerts, and alerts resolved since ``resolved_since`` (to announce)."""
    query = select_alerts().where(
        sa.or_(
            Alert.state == "firing",
            sa.and_(
                Alert.state == "resolved",
                Alert.resolved_at >= resolved_since,
                Alert.fired_at.is_not(None),
            ),
        )
    )
    return [alert_row(row) for row in connection.execute(query.order_by(Alert.id))]


def list_alerts(
    engine: Engine,
    *,
    state: str | None = None,
    rule: str | None = None,
    model: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AlertRow]:
    """Alerts, newest first; ``before_id`` pages.

    The ``model`` label is matched in Python (labels are JSON, read the same way on both
    back ends), so rows are read in bounded chunks until the page is full.
    """
    query = select_alerts()
    if state is not None:
        query = query.where(Alert.state == state)
    if rule is not None:
        query = query.where(AlertRule.name == rule)
    chunk = limit if model is None else max(4 * limit, 200)
    found: list[AlertRow] = []
    cursor = before_id
    with engine.connect() as connection:
        while len(found) < limit:
            page = query if cursor is None else query.where(Alert.id < cursor)
            rows = [
                alert_row(row)
                for row in connection.execute(page.order_by(Alert.id.desc()).limit(chunk))
            ]
            found += [r for r in rows if model is None or r.labels.get("model") == model]
            if len(rows) < chunk:
                break
            cursor = rows[-1].id
    return found[:limit]


def alert_history(engine: Engine, alert_id: int) -> list[dict[str, Any]]:
    """The alert's state changes, oldest first."""
    query = (
        sa.select(AlertEvent.event, AlertEvent.at, AlertEvent.value, AlertEvent.recorded_at)
        .where(AlertEvent.alert_id == alert_id)
        .order_by(AlertEvent.id)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


# -- the notification log -----------------------------------------------------------------


def get_log(connection: Connection, group_key: str, channel: str) -> LogRow | None:
    """What ``channel`` was last told about the group."""
    log = NotificationLog
    row = connection.execute(
        sa.select(
            log.group_key,
            log.channel,
            log.firing,
            log.resolved,
            log.first_seen_at,
            log.notified_at,
            log.count,
            log.flushed_at,
        ).where(log.group_key == group_key, log.channel == channel)
    ).one_or_none()
    if row is None:
        return None
    return LogRow(
        group_key=row.group_key,
        channel=row.channel,
        firing=tuple(row.firing),
        resolved=tuple(row.resolved),
        first_seen_at=row.first_seen_at,
        notified_at=row.notified_at,
        count=int(row._mapping["count"]),
        flushed_at=row.flushed_at,
    )


def put_log(connection: Connection, log: LogRow) -> None:
    """Replace the group's log entry for the channel."""
    values = {
        "group_key": log.group_key,
        "channel": log.channel,
        "firing": list(log.firing),
        "resolved": list(log.resolved),
        "first_seen_at": log.first_seen_at,
        "notified_at": log.notified_at,
        "count": log.count,
        "flushed_at": log.flushed_at,
    }
    statement = _insert(connection)(NotificationLog).values(**values)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["group_key", "channel"],
            set_={k: statement.excluded[k] for k in values if k not in ("group_key", "channel")},
        )
    )


# -- the outbox ---------------------------------------------------------------------------


def enqueue_delivery(
    connection: Connection,
    *,
    channel: str,
    event: str,
    key: str,
    payload: dict[str, Any],
    alert_id: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Add a delivery unless one with ``key`` exists; True when added.

    Raises
    ------
    NotFoundError
        If the channel is not in the store.
    """
    channel_id = connection.execute(sa.select(Channel.id).where(Channel.name == channel)).scalar()
    if channel_id is None:
        raise NotFoundError(f"unknown channel {channel!r}")
    moment = utc_now() if now is None else now
    statement = (
        _insert(connection)(Delivery)
        .values(
            channel_id=channel_id,
            alert_id=alert_id,
            event=event,
            idempotency_key=key,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=moment,
            created_at=moment,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Delivery.id)
    )
    return connection.execute(statement).scalar() is not None


DELIVERY_COLUMNS = (
    Delivery.id,
    Channel.name.label("channel"),
    Channel.type.label("channel_type"),
    Delivery.event,
    Delivery.idempotency_key.label("key"),
    Delivery.payload,
    Delivery.status,
    Delivery.attempts,
    Delivery.next_attempt_at,
    Delivery.last_error,
    Delivery.last_status_code,
    Delivery.created_at,
    Delivery.delivered_at,
    Delivery.alert_id,
)


def delivery_row(row: Any) -> DeliveryRow:
    return DeliveryRow(**{k: row._mapping[k] for k in DeliveryRow.__dataclass_fields__})


def claim_due_deliveries(
    engine: Engine, *, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[DeliveryRow]:
    """Take up to ``limit`` deliveries that are due, for ``lease``.

    Claimed deliveries become ``in_flight`` until ``now + lease``; one whose sender dies
    before finishing becomes due again when the lease ends, and is re-sent with the same
    idempotency key. On PostgreSQL concurrent dispatchers skip each other's rows.
    """
    with write_transaction(engine) as connection:
        due = (
            sa.select(Delivery.id)
            .where(
                Delivery.status.in_(("pending", "in_flight")),
                Delivery.next_attempt_at <= now,
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(connection.execute(due).scalars())
        if not ids:
            return []
        connection.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(
                status="in_flight",
                next_attempt_at=now + lease,
                attempts=Delivery.attempts + 1,
            )
        )
        query = (
            sa.select(*DELIVERY_COLUMNS)
            .join(Channel, Channel.id == Delivery.channel_id)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        )
        return [delivery_row(row) for row in connection.execute(query)]


def finish_attempt(
    engine: Engine,
    delivery: DeliveryRow,
    *,
    outcome: Outcome,
    now: dt.datetime,
    status_code: int | None = None,
    error: str | None = None,
    seconds: float | None = None,
    retry_at: dt.datetime | None = None,
) -> None:
    """Record an attempt and move the delivery on.

    ``delivered``: done. ``retry``: pending again at ``retry_at``. ``failed`` / ``dead``: no
    more attempts (``dead`` once the tries ran out).
    """
    status = {"delivered": "delivered", "retry": "pending", "failed": "failed", "dead": "dead"}
    values: dict[str, Any] = {
        "status": status[outcome],
        "last_error": error,
        "last_status_code": status_code,
    }
    if outcome == "delivered":
        values["delivered_at"] = now
    if outcome == "retry":
        if retry_at is None:
            raise ValueError("a retry needs retry_at")
        values["next_attempt_at"] = retry_at
    with write_transaction(engine) as connection:
        connection.execute(sa.update(Delivery).where(Delivery.id == delivery.id).values(**values))
        connection.execute(
            sa.insert(DeliveryAttempt).values(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                at=now,
                outcome=outcome,
                status_code=status_code,
                seconds=seconds,
                error=error,
            )
        )


def list_deliveries(
    engine: Engine,
    *,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[DeliveryRow]:
    """Deliveries, newest first."""
    query = sa.select(*DELIVERY_COLUMNS).join(Channel, Channel.id == Delivery.channel_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Channel.name == channel)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    query = query.order_by(Delivery.id.desc()).limit(limit)
    with engine.connect() as connection:
        return [delivery_row(row) for row in connection.execute(query)]


def delivery_attempts(engine: Engine, delivery_id: int) -> list[dict[str, Any]]:
    """The attempts of a delivery, oldest first."""
    query = (
        sa.select(
            DeliveryAttempt.attempt,
            DeliveryAttempt.at,
            DeliveryAttempt.outcome,
            DeliveryAttempt.status_code,
            DeliveryAttempt.seconds,
            DeliveryAttempt.error,
        )
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.id)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


# -- silences -----------------------------------------------------------------------------


def _silence_row(row: Any) -> SilenceRow:
    return SilenceRow(**{k: row._mapping[k] for k in SilenceRow.__dataclass_fields__})


_SILENCE_COLUMNS = (
    Silence.id,
    Silence.matchers,
    Silence.starts_at,
    Silence.ends_at,
    Silence.created_by,
    Silence.comment,
    Silence.expired_at,
    Silence.created_at,
)


def create_silence(
    engine: Engine,
    *,
    matchers: list[dict[str, Any]],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    created_by: str,
    comment: str,
) -> SilenceRow:
    """Store a silence (validated by the caller)."""
    with write_transaction(engine) as connection:
        silence_id = connection.execute(
            sa.insert(Silence)
            .values(
                matchers=matchers,
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=created_by,
                comment=comment,
            )
            .returning(Silence.id)
        ).scalar_one()
        row = connection.execute(sa.select(*_SILENCE_COLUMNS).where(Silence.id == silence_id)).one()
    return _silence_row(row)


def list_silences(
    engine: Engine | Connection, *, now: dt.datetime, include_expired: bool = False
) -> list[SilenceRow]:
    """Silences, newest first; without ``include_expired`` only pending and active ones."""
    query = sa.select(*_SILENCE_COLUMNS).order_by(Silence.id.desc())
    if not include_expired:
        query = query.where(Silence.expired_at.is_(None), Silence.ends_at >= now)
    if isinstance(engine, Connection):
        return [_silence_row(row) for row in engine.execute(query)]
    with engine.connect() as connection:
        return [_silence_row(row) for row in connection.execute(query)]


def get_silence(engine: Engine, silence_id: int) -> SilenceRow:
    """One silence; :class:`NotFoundError` if there is none."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(*_SILENCE_COLUMNS).where(Silence.id == silence_id)
        ).one_or_none()
    if row is None:
        raise NotFoundError(f"unknown silence {silence_id}")
    return _silence_row(row)


def expire_silence(engine: Engine, silence_id: int, *, now: dt.datetime) -> SilenceRow:
    """End a silence now.

    Raises
    ------
    NotFoundError
        If there is no such silence.
    """
    with write_transaction(engine) as connection:
        connection.execute(  # one that expired or ended already keeps its end
            sa.update(Silence)
            .where(Silence.id == silence_id, Silence.expired_at.is_(None), Silence.ends_at > now)
            .values(expired_at=now)
        )
        row = connection.execute(
            sa.select(*_SILENCE_COLUMNS).where(Silence.id == silence_id)
        ).one_or_none()
    if row is None:
        raise NotFoundError(f"unknown silence {silence_id}")
    return _silence_row(row)


# -- rules through the API ----------------------------------------------------------------


def _select_rules() -> sa.Select[Any]:
    return sa.select(
        AlertRule.id,
        AlertRule.name,
        Monitor.name.label("monitor_name"),
        AlertRule.config,
        AlertRule.enabled,
        AlertRule.source,
        AlertRule.updated_at,
    ).outerjoin(Monitor, Monitor.id == AlertRule.monitor_id)


def _declared_where(source: str) -> str:
    return "declared in the project file" if source == "project" else "created through the API"


def put_rule(
    engine: Engine, draft: RuleDraft, *, source: RuleSource = "api", mode: RuleMode
) -> RuleInfo:
    """Create a rule (``mode="create"``) or replace one of the same source (``"replace"``).

    The checks and the write are one transaction; a concurrent create of the same name
    loses on the unique name with :class:`ConflictError`. The rule's monitor, channels and
    condition are the caller's to check.

    Raises
    ------
    NotFoundError
        If the rule's monitor does not exist, or (``replace``) the rule does not.
    ConflictError
        If (``create``) a rule of that name exists, or it comes from the other source (a
        rule declared in the project file is changed there).
    """
    try:
        with write_transaction(engine) as connection:
            monitor_id = None
            if draft.monitor_name is not None:
                query = sa.select(Monitor.id).where(Monitor.name == draft.monitor_name)
                monitor_id = connection.execute(query).scalar()
                if monitor_id is None:
                    msg = f"alert rule {draft.name!r}: unknown monitor {draft.monitor_name!r}"
                    raise NotFoundError(msg)
            existing = connection.execute(
                sa.select(AlertRule.id, AlertRule.source).where(AlertRule.name == draft.name)
            ).one_or_none()
            if existing is None and mode == "replace":
                raise NotFoundError(f"unknown alert rule {draft.name!r}")
            if existing is not None and existing.source == "project" and source != "project":
                msg = f"alert rule {draft.name!r} is declared in the project file; change it there"
                raise ConflictError(msg)
            if existing is not None and (mode == "create" or existing.source != source):
                where = _declared_where(existing.source)
                raise ConflictError(f"alert rule {draft.name!r} already exists ({where})")
            now = utc_now()
            values = {
                "monitor_id": monitor_id,
                "condition": draft.condition,
                "for_seconds": draft.for_seconds,
                "severity": draft.severity,
                "labels": draft.labels,
                "annotations": draft.annotations,
                "channels": draft.channels,
                "config": draft.config,
                "enabled": draft.enabled,
                "updated_at": now,
            }
            if existing is None:
                connection.execute(
                    sa.insert(AlertRule).values(
                        name=draft.name, source=source, created_at=now, **values
                    )
                )
            else:
                connection.execute(
                    sa.update(AlertRule).where(AlertRule.id == existing.id).values(**values)
                )
    except sa.exc.IntegrityError:
        raise ConflictError(f"alert rule {draft.name!r} was created at the same time") from None
    return get_rule(engine, draft.name)


def get_rule(engine: Engine, name: str) -> RuleInfo:
    """The rule called ``name``; :class:`NotFoundError` if there is none."""
    with engine.connect() as connection:
        row = connection.execute(_select_rules().where(AlertRule.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(f"unknown alert rule {name!r}")
    return RuleInfo(
        id=row.id,
        name=row.name,
        monitor_name=row.monitor_name,
        config=dict(row.config or {}),
        enabled=bool(row.enabled),
        source=row.source,
        updated_at=row.updated_at,
    )


def delete_rule(engine: Engine, name: str, *, source: RuleSource = "api") -> None:
    """Delete a rule of ``source`` with its alerts (their deliveries stay, unlinked).

    Raises
    ------
    NotFoundError
        If there is no such rule.
    ConflictError
        If it comes from the other source (a project rule is removed from the file).
    """
    with write_transaction(engine) as connection:
        found = connection.execute(
            sa.select(AlertRule.id, AlertRule.source).where(AlertRule.name == name)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"unknown alert rule {name!r}")
        if found.source != source:
            msg = (
                f"alert rule {name!r} is declared in the project file; change it there"
                if found.source == "project"
                else f"alert rule {name!r} was created through the API; delete it there"
            )
            raise ConflictError(msg)
        connection.execute(sa.delete(AlertRule).where(AlertRule.id == found.id))


def channel_types(connection: Connection) -> dict[str, str]:
    """Every stored channel's type, by name."""
    query = sa.select(Channel.name, Channel.type).order_by(Channel.name)
    return {row.name: row.type for row in connection.execute(query)}
