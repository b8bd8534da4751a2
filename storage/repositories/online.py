"""Reads and writes of online learning: joined labels to learn, updates, snapshots, events.

Every function takes the engine and the model's id (and the base version whose line of
snapshots it concerns); writers run in one :func:`~storage.engine.write_transaction` each,
so an update and the outcome of its examples are stored together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.engine import write_transaction
from storage.models import (
    GroundTruthLabel,
    Model,
    ModelVersion,
    OnlineEvent,
    OnlineExample,
    OnlineSnapshot,
    OnlineUpdate,
    PredictionRecord,
)
from storage.types import utc_now

__all__ = [
    "JoinedLabel",
    "LearningActivity",
    "LearningEventRow",
    "SnapshotRow",
    "add_event",
    "add_snapshot",
    "confirm_snapshots",
    "fetch_unlearnt",
    "latest_frozen",
    "learning_activity",
    "list_events",
    "list_snapshots",
    "record_update",
    "replay_after",
    "roll_back",
    "version_schemas",
]

_LABELS = GroundTruthLabel.__table__
_RECORDS = PredictionRecord.__table__
_EXAMPLES = OnlineExample.__table__
_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class JoinedLabel:
    """A label nobody has learnt or refused yet, with its prediction record if it arrived."""

    label_id: int
    request_id: str
    value: float
    received_at: dt.datetime
    version_id: int | None
    status: int | None
    features: bytes | None


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One snapshot of a line."""

    sequence: int
    version: str
    file: str
    sha256: str | None
    status: str
    examples: int


def fetch_unlearnt(
    engine: Engine,
    model_id: int,
    *,
    after_label_id: int,
    limit: int,
    cutoff: dt.datetime,
    max_scan: int = 50_000,
) -> tuple[list[JoinedLabel], int]:
    """Up to ``limit`` labels after ``after_label_id``, oldest first, neither learnt nor
    refused, whose prediction record arrived or that were received before ``cutoff``.

    Labels are read in windows by id, then their outcomes and records by request id (an
    ``IN`` list each, which uses the unique indexes whatever the planner's statistics say);
    at most ``max_scan`` labels are read per call.

    Returns
    -------
    tuple
        The labels, and the new floor: every label up to it is learnt or refused.
    """
    window = max(4 * limit, 256)
    out: list[JoinedLabel] = []
    first: int | None = None
    after, scanned = after_label_id, 0
    with engine.connect() as connection:
        while len(out) < limit and scanned < max_scan:
            labels = connection.execute(
                sa.select(
                    _LABELS.c.id, _LABELS.c.request_id, _LABELS.c.value, _LABELS.c.received_at
                )
                .where(_LABELS.c.model_id == model_id, _LABELS.c.id > after)
                .order_by(_LABELS.c.id)
                .limit(window)
            ).all()
            if not labels:
                break
            scanned, after = scanned + len(labels), labels[-1][0]
            done = set(
                connection.execute(
                    sa.select(_EXAMPLES.c.request_id).where(
                        _EXAMPLES.c.model_id == model_id,
                        _EXAMPLES.c.request_id.in_([row[1] for row in labels]),
                    )
                ).scalars()
            )
            open_labels = [row for row in labels if row[1] not in done]
            if not open_labels:
                continue
            first = open_labels[0][0] if first is None else first
            records: dict[str, tuple[int, int, bytes | None]] = {}
            for request_id, version_id, status, features in connection.execute(
                sa.select(
                    _RECORDS.c.request_id,
                    _RECORDS.c.model_version_id,
                    _RECORDS.c.status,
                    _RECORDS.c.features,
                ).where(
                    _RECORDS.c.model_id == model_id,
                    _RECORDS.c.request_id.in_([row[1] for row in open_labels]),
                )
            ):
                records.setdefault(request_id, (version_id, status, features))
            for label_id, request_id, value, received_at in open_labels:
                record = records.get(request_id)
                if record is None and received_at >= cutoff:
                    continue  # its prediction may still arrive
                version_id, status, features = record if record else (None, None, None)
                out.append(
                    JoinedLabel(
                        label_id, request_id, value, received_at, version_id, status, features
                    )
                )
                if len(out) == limit:
                    break
    floor = first - 1 if first is not None else after
    return out, floor


def version_schemas(engine: Engine, model_id: int) -> dict[int, list[dict[str, Any]]]:
    """Every version's feature schema, by version id."""
    query = sa.select(ModelVersion.id, ModelVersion.feature_schema).where(
        ModelVersion.model_id == model_id
    )
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.execute(query)}


def record_update(
    engine: Engine,
    model_id: int,
    base_version: str,
    *,
    base_sequence: int,
    learnt: Sequence[str],
    refused: Sequence[tuple[str, str]],
    metric: str,
    prequential_before: float | None,
    batch_metric: float | None,
) -> int:
    """Store one update and the outcome of each of its examples; returns the update's id."""
    with write_transaction(engine) as connection:
        update_id = connection.execute(
            sa.insert(OnlineUpdate).returning(OnlineUpdate.id),
            {
                "model_id": model_id,
                "base_version": base_version,
                "base_sequence": base_sequence,
                "learnt": len(learnt),
                "refused": len(refused),
                "metric": metric,
                "prequential_before": prequential_before,
                "batch_metric": batch_metric,
                "status": "applied",
                "created_at": utc_now(),
            },
        ).scalar_one()
        outcomes = [(request_id, "learnt") for request_id in learnt] + list(refused)
        rows = [
            {"model_id": model_id, "request_id": r, "update_id": update_id, "outcome": o}
            for r, o in outcomes
        ]
        for start in range(0, len(rows), _CHUNK):
            connection.execute(sa.insert(OnlineExample), rows[start : start + _CHUNK])
    return int(update_id)


def list_snapshots(engine: Engine, model_id: int, base_version: str) -> list[SnapshotRow]:
    """The line's snapshots, oldest first."""
    query = (
        sa.select(
            OnlineSnapshot.sequence,
            OnlineSnapshot.version,
            OnlineSnapshot.file,
            OnlineSnapshot.sha256,
            OnlineSnapshot.status,
            OnlineSnapshot.examples,
        )
        .where(OnlineSnapshot.model_id == model_id, OnlineSnapshot.base_version == base_version)
        .order_by(OnlineSnapshot.sequence)
    )
    with engine.connect() as connection:
        return [SnapshotRow(*row) for row in connection.execute(query)]


def add_snapshot(engine: Engine, model_id: int, base_version: str, snapshot: SnapshotRow) -> None:
    """Record a snapshot."""
    with write_transaction(engine) as connection:
        connection.execute(
            sa.insert(OnlineSnapshot),
            {
                "model_id": model_id,
                "base_version": base_version,
                "sequence": snapshot.sequence,
                "version": snapshot.version,
                "file": snapshot.file,
                "sha256": snapshot.sha256,
                "status": snapshot.status,
                "examples": snapshot.examples,
                "created_at": utc_now(),
            },
        )


def confirm_snapshots(
    engine: Engine, model_id: int, base_version: str, sequences: Sequence[int]
) -> None:
    """Mark pending snapshots good."""
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(OnlineSnapshot)
            .where(
                OnlineSnapshot.model_id == model_id,
                OnlineSnapshot.base_version == base_version,
                OnlineSnapshot.sequence.in_(list(sequences)),
                OnlineSnapshot.status == "pending",
            )
            .values(status="good")
        )


def roll_back(engine: Engine, model_id: int, base_version: str, sequence: int) -> None:
    """Discard the snapshots after ``sequence`` and the updates made since it."""
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(OnlineSnapshot)
            .where(
                OnlineSnapshot.model_id == model_id,
                OnlineSnapshot.base_version == base_version,
                OnlineSnapshot.sequence > sequence,
            )
            .values(status="rolled_back")
        )
        connection.execute(
            sa.update(OnlineUpdate)
            .where(
                OnlineUpdate.model_id == model_id,
                OnlineUpdate.base_version == base_version,
                OnlineUpdate.base_sequence >= sequence,
                OnlineUpdate.status == "applied",
            )
            .values(status="rolled_back")
        )


def replay_after(engine: Engine, model_id: int, base_version: str, sequence: int) -> int:
    """Make the examples learnt since snapshot ``sequence`` unlearnt again (a restart from
    it learns them once more); returns how many."""
    with write_transaction(engine) as connection:
        updates = (
            sa.select(OnlineUpdate.id)
            .where(
                OnlineUpdate.model_id == model_id,
                OnlineUpdate.base_version == base_version,
                OnlineUpdate.base_sequence == sequence,
                OnlineUpdate.status == "applied",
            )
            .scalar_subquery()
        )
        deleted = connection.execute(
            sa.delete(OnlineExample).where(
                OnlineExample.update_id.in_(updates), OnlineExample.outcome == "learnt"
            )
        ).rowcount
        connection.execute(
            sa.update(OnlineUpdate)
            .where(
                OnlineUpdate.model_id == model_id,
                OnlineUpdate.base_version == base_version,
                OnlineUpdate.base_sequence == sequence,
                OnlineUpdate.status == "applied",
            )
            .values(status="replayed")
        )
    return int(deleted or 0)


def add_event(
    engine: Engine,
    model_id: int,
    base_version: str,
    *,
    kind: str,
    frozen: bool,
    reason: str,
    version: str,
    details: dict[str, Any],
) -> None:
    """Record a guard alarm or a control action."""
    with write_transaction(engine) as connection:
        connection.execute(
            sa.insert(OnlineEvent),
            {
                "model_id": model_id,
                "base_version": base_version,
                "kind": kind,
                "frozen": frozen,
                "reason": reason[:255],
                "version": version,
                "details": details,
                "created_at": utc_now(),
            },
        )


def latest_frozen(engine: Engine, model_id: int, base_version: str) -> bool:
    """Whether the line's newest event left learning frozen (False without events)."""
    query = (
        sa.select(OnlineEvent.frozen)
        .where(OnlineEvent.model_id == model_id, OnlineEvent.base_version == base_version)
        .order_by(OnlineEvent.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        return bool(connection.execute(query).scalar())


def list_events(engine: Engine, model_id: int, *, limit: int = 100) -> list[OnlineEvent]:
    """The model's newest events, newest first."""
    with Session(engine) as session:
        query = (
            sa.select(OnlineEvent)
            .where(OnlineEvent.model_id == model_id)
            .order_by(OnlineEvent.id.desc())
            .limit(limit)
        )
        events = list(session.scalars(query))
        session.expunge_all()
    return events


@dataclass(frozen=True, slots=True)
class LearningEventRow:
    """An event of :class:`LearningActivity`."""

    kind: str
    reason: str
    frozen: bool
    version: str
    at: dt.datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LearningActivity:
    """What a model's online learning did in a time window, every base version included.

    Attributes
    ----------
    events
        Alarms, freezes, unfreezes and rollbacks created in the window, oldest first (the
        newest ``max_events`` of them).
    alarms
        Guard alarms in the window (all of them, even past ``max_events``).
    frozen
        Whether learning was frozen at the window's end (the newest event before it says;
        False without events).
    updates, learnt, refused
        Batches recorded in the window, and the examples they learnt and refused.
    metric
        ``accuracy`` or ``mae``, from the newest update in the window (None without one).
    prequential
        The prequential metric before the newest update in the window.
    """

    events: tuple[LearningEventRow, ...]
    alarms: int
    frozen: bool
    updates: int
    learnt: int
    refused: int
    metric: str | None
    prequential: float | None


def learning_activity(
    engine: Engine, model: str, start: dt.datetime, end: dt.datetime, *, max_events: int = 50
) -> LearningActivity:
    """What model ``model`` learnt, refused and was told in ``[start, end)``.

    A model that never learnt online has no activity (zeros, not frozen).
    """
    model_id = sa.select(Model.id).where(Model.name == model).scalar_subquery()
    in_window = (OnlineEvent.created_at >= start, OnlineEvent.created_at < end)
    with engine.connect() as connection:
        events = connection.execute(
            sa.select(
                OnlineEvent.kind,
                OnlineEvent.reason,
                OnlineEvent.frozen,
                OnlineEvent.version,
                OnlineEvent.created_at,
                OnlineEvent.details,
            )
            .where(OnlineEvent.model_id == model_id, *in_window)
            .order_by(OnlineEvent.id.desc())
            .limit(max_events)
        ).all()
        alarms = connection.execute(
            sa.select(sa.func.count())
            .select_from(OnlineEvent)
            .where(OnlineEvent.model_id == model_id, OnlineEvent.kind == "alarm", *in_window)
        ).scalar_one()
        frozen = connection.execute(
            sa.select(OnlineEvent.frozen)
            .where(OnlineEvent.model_id == model_id, OnlineEvent.created_at < end)
            .order_by(OnlineEvent.id.desc())
            .limit(1)
        ).scalar()
        totals = connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(OnlineUpdate.learnt), 0),
                sa.func.coalesce(sa.func.sum(OnlineUpdate.refused), 0),
            ).where(
                OnlineUpdate.model_id == model_id,
                OnlineUpdate.created_at >= start,
                OnlineUpdate.created_at < end,
            )
        ).one()
        newest = connection.execute(
            sa.select(OnlineUpdate.metric, OnlineUpdate.prequential_before)
            .where(
                OnlineUpdate.model_id == model_id,
                OnlineUpdate.created_at >= start,
                OnlineUpdate.created_at < end,
            )
            .order_by(OnlineUpdate.id.desc())
            .limit(1)
        ).first()
    return LearningActivity(
        events=tuple(
            LearningEventRow(
                row.kind,
                row.reason,
                bool(row.frozen),
                row.version,
                row.created_at,
                dict(row.details or {}),
            )
            for row in reversed(events)
        ),
        alarms=int(alarms),
        frozen=bool(frozen),
        updates=int(totals[0]),
        learnt=int(totals[1]),
        refused=int(totals[2]),
        metric=newest.metric if newest is not None else None,
        prequential=newest.prequential_before if newest is not None else None,
    )
