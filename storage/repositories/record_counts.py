"""How many prediction records and labels a model has: totals for summaries and progress."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.models import GroundTruthLabel, Model, PredictionRecord
from storage.types import RecordStatus

__all__ = ["RecordCounts", "record_counts"]


@dataclass(frozen=True, slots=True)
class RecordCounts:
    """A model's stored records (all versions), those that failed, and its labels."""

    records: int
    failed: int
    labels: int


def record_counts(engine: Engine, model_name: str) -> RecordCounts:
    """The counts of ``model_name``; all zero when the model is not registered."""
    model_id = sa.select(Model.id).where(Model.name == model_name).scalar_subquery()
    record = PredictionRecord
    records = sa.select(
        sa.func.count(),
        sa.func.count().filter(record.status != int(RecordStatus.OK)),
    ).where(record.model_id == model_id)
    labels = sa.select(sa.func.count()).where(GroundTruthLabel.model_id == model_id)
    with engine.connect() as connection:
        total, failed = connection.execute(records).one()
        labelled = connection.execute(labels).scalar_one()
    return RecordCounts(int(total), int(failed), int(labelled))
