"""Models, their versions, reference datasets and the category dictionary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, BigIntPK
from storage.types import Task, utc_now

__all__ = ["FeatureCategory", "Model", "ModelVersion", "ReferenceDataset"]


class Model(Base):
    """A model that Driftline observes: its name, task and output classes."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    task: Mapped[Task] = mapped_column(
        Enum(
            Task,
            name="task",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    #: Class labels in a fixed order: records and labels store a class as its index here.
    classes: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    versions: Mapped[list[ModelVersion]] = relationship(
        back_populates="model", cascade="all, delete-orphan", order_by="ModelVersion.id"
    )


class ModelVersion(Base):
    """One version of a model, with the feature schema its records are laid out by."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        # What prediction_records' one foreign key (model, version) refers to.
        Index("ix_model_versions_model_id_id", "model_id", "id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(63))
    #: ``[{"name": ..., "kind": ..., "dims": ...}, ...]`` in declaration order.
    feature_schema: Mapped[list[dict[str, Any]]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    model: Mapped[Model] = relationship(back_populates="versions")


class FeatureCategory(Base):
    """Dictionary encoding of categorical values: records store ``id`` instead of the text."""

    __tablename__ = "feature_categories"
    __table_args__ = (UniqueConstraint("model_id", "feature", "value"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(1024))


class ReferenceDataset(Base):
    """A reference (training) dataset, kept as Parquet bytes."""

    __tablename__ = "reference_datasets"
    __table_args__ = (
        UniqueConstraint("model_id", "name"),
        CheckConstraint("row_count >= 0", name="row_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(127))
    row_count: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
