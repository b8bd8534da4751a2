"""Prediction records and the ground-truth labels that arrive after them.

The physical layout is chosen for the two hot paths, bulk insert and window read (see
``docs/architecture.md``): per-row scalars are plain columns; the numeric and categorical
feature values of a row are one little-endian float64 vector in the order of the version's
feature schema (categories as their dictionary code), so a window decodes with a single
``numpy.frombuffer`` instead of parsing JSON per row.

On PostgreSQL ``prediction_records`` is range-partitioned on ``timestamp_us`` (migration
``0004``; partitions are managed by :mod:`storage.partitions`). PostgreSQL requires every
unique constraint of a partitioned table to include the partition key, so there records
are unique on (model, request id, event time) and the primary key is ``(id, timestamp_us)``;
SQLite keeps one table, unique on (model, request id), with the primary key ``id``. The ORM
maps ``id`` alone as the identity on both (ids come from one sequence). See
``docs/architecture.md`` (Storage) for why the event time joins the key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigIntPK, JSONValue, only_on
from storage.types import utc_now

__all__ = ["GroundTruthLabel", "PredictionRecord"]


class PredictionRecord(Base):
    """One prediction request: inputs, outputs, latency and outcome."""

    __tablename__ = "prediction_records"
    __table_args__ = (
        only_on("sqlite", UniqueConstraint("model_id", "request_id")),
        only_on("postgresql", UniqueConstraint("model_id", "request_id", "timestamp_us")),
        Index("ix_prediction_records_model_time", "model_id", "timestamp_us"),
        CheckConstraint("status IN (0, 1, 2, 3)", name="status_known"),
        # One key, one lookup per inserted row (two keys cost PostgreSQL two); the version
        # must be the model's. Deleting a model cascades through its versions.
        ForeignKeyConstraint(
            ["model_id", "model_version_id"],
            ["model_versions.model_id", "model_versions.id"],
            ondelete="CASCADE",
        ),
        {"postgresql_partition_by": "RANGE (timestamp_us)"},
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_id: Mapped[int] = mapped_column(Integer)
    model_version_id: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(255))
    #: Event time, microseconds since the Unix epoch (UTC).
    timestamp_us: Mapped[int] = mapped_column(BigInteger)
    #: Uniform in [0, 1): a window sampled to ``n`` rows keeps the ``n`` smallest keys.
    sample_key: Mapped[float] = mapped_column(Double)
    #: :class:`storage.types.RecordStatus` value.
    status: Mapped[int] = mapped_column(SmallInteger)
    latency_seconds: Mapped[float | None] = mapped_column(Double)
    #: Regression value, or the index of the predicted class in ``Model.classes``.
    prediction: Mapped[float | None] = mapped_column(Double)
    #: float64 vector, one probability per class of ``Model.classes``.
    probabilities: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: float64 vector: numeric features, then categorical codes, in schema order.
    features: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: float32 vectors of the embedding features, concatenated in schema order.
    embeddings: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: ``{"feature": "text", ...}`` for text features.
    text_features: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    error_type: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)


class GroundTruthLabel(Base):
    """The true outcome of a prediction, joined to its record by request id."""

    __tablename__ = "ground_truth_labels"
    __table_args__ = (
        UniqueConstraint("model_id", "request_id"),
        # Labels in arrival order, per model: what online learning reads (migration 0005).
        Index("ix_ground_truth_labels_model_arrival", "model_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(255))
    #: Regression target, or the index of the true class in ``Model.classes``.
    value: Mapped[float] = mapped_column(Double)
    #: When the outcome happened, if the sender said; microseconds since the epoch.
    event_timestamp_us: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    #: How many times this label was written (an upsert of a known request id adds one).
    revision: Mapped[int] = mapped_column(Integer, default=1)
