"""Monitors and the results of their scheduled runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigIntPK
from storage.types import utc_now

__all__ = ["Monitor", "MonitorResult"]


class Monitor(Base):
    """A scheduled check of one model: detectors, cadence, window and reference."""

    __tablename__ = "monitors"
    __table_args__ = (CheckConstraint("source IN ('project', 'api')", name="source_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    #: Schedule, window, reference, thresholds and detector parameters.
    config: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: ``project`` when declared in the project file, ``api`` when created through the API.
    source: Mapped[str] = mapped_column(String(16), default="api")
    #: Serialised state of streaming detectors, so a run resumes where the last one stopped.
    detector_state: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class MonitorResult(Base):
    """The outcome of one monitor over one window; re-running a window replaces it."""

    __tablename__ = "monitor_results"
    __table_args__ = (
        Index("uq_monitor_results_window", "monitor_id", "window_start", "window_end", unique=True),
        Index("ix_monitor_results_monitor_end", "monitor_id", "window_end"),
        CheckConstraint(
            "status IN ('ok', 'warning', 'alarm', 'insufficient_data', 'error')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    window_start: Mapped[dt.datetime]
    window_end: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(32))
    #: The headline number (drift share, metric drop, failure rate, ...).
    score: Mapped[float | None] = mapped_column(Double)
    sample_size: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]]
    #: Per-feature or per-metric detail for the dashboard.
    details: Mapped[dict[str, Any] | None]
    computed_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: Wall time of the run that computed this result.
    duration_seconds: Mapped[float | None] = mapped_column(Double)
