"""Online learning: a model's snapshots, its updates, each example's outcome, its events.

A model that learns from its delayed labels (``learning: online``) keeps here what makes
its learning auditable and resumable:

- ``online_snapshots``: every saved state, served as a model version; ``good`` once the
  guard's probation passed, ``pending`` before, ``rolled_back`` when a rollback discarded it;
- ``online_updates``: one row per batch learnt (how many examples, when, the prequential
  metric before it), and the snapshot it built on;
- ``online_examples``: one row per labelled request the learner took, learnt or refused
  (and why), so no example is learnt twice;
- ``online_events``: guard alarms and freeze / unfreeze / rollback actions.

Rows are keyed by the model and the *base version* (the version the project file
declares): a new base version starts a new line of snapshots.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigIntPK, JSONValue
from storage.types import utc_now

__all__ = ["OnlineEvent", "OnlineExample", "OnlineSnapshot", "OnlineUpdate"]


class OnlineSnapshot(Base):
    """A saved state of a learning model, served as a model version."""

    __tablename__ = "online_snapshots"
    __table_args__ = (
        UniqueConstraint("model_id", "base_version", "sequence"),
        CheckConstraint("status IN ('good', 'pending', 'rolled_back')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    base_version: Mapped[str] = mapped_column(String(63))
    #: 0 for the base model itself, then 1, 2, ...
    sequence: Mapped[int] = mapped_column(Integer)
    #: The model version it is served as.
    version: Mapped[str] = mapped_column(String(63))
    #: The snapshot file (the base model's file or reference for sequence 0).
    file: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    #: Examples learnt since the base model when it was taken.
    examples: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class OnlineUpdate(Base):
    """One batch of examples learnt (or refused) together."""

    __tablename__ = "online_updates"
    __table_args__ = (
        Index("ix_online_updates_lineage", "model_id", "base_version", "base_sequence"),
        CheckConstraint("status IN ('applied', 'replayed', 'rolled_back')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    base_version: Mapped[str] = mapped_column(String(63))
    #: The snapshot the learning model built on when it learnt this batch.
    base_sequence: Mapped[int] = mapped_column(Integer)
    learnt: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)
    #: ``accuracy`` or ``mae``.
    metric: Mapped[str] = mapped_column(String(16))
    #: The prequential metric over the guard's window just before this update.
    prequential_before: Mapped[float | None] = mapped_column(Double)
    #: The model's metric on this batch, tested before learning it.
    batch_metric: Mapped[float | None] = mapped_column(Double)
    #: ``applied``; ``replayed`` when a restart learnt its examples again into an older
    #: snapshot; ``rolled_back`` when a rollback discarded it.
    status: Mapped[str] = mapped_column(String(16), default="applied")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class OnlineExample(Base):
    """What the learner did with one labelled request: learnt it, or why not."""

    __tablename__ = "online_examples"
    __table_args__ = (UniqueConstraint("model_id", "request_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(255))
    update_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("online_updates.id", ondelete="CASCADE")
    )
    #: ``learnt``, or the refusal: ``unknown_request``, ``failed_request``,
    #: ``out_of_schema``, ``non_finite_features``, ``bad_label``, ``guard``.
    outcome: Mapped[str] = mapped_column(String(32))


class OnlineEvent(Base):
    """A guard alarm or a freeze / unfreeze / rollback."""

    __tablename__ = "online_events"
    __table_args__ = (
        Index("ix_online_events_model", "model_id", "id"),
        CheckConstraint("kind IN ('alarm', 'freeze', 'unfreeze', 'rollback')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    base_version: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    #: Whether learning is frozen after the event.
    frozen: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(255))
    #: The version served after the event.
    version: Mapped[str] = mapped_column(String(63))
    details: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
