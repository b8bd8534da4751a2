"""Column types shared by the ORM models.

Timestamps of the metadata tables are timezone-aware UTC datetimes on every back end
(SQLite stores naive ISO strings, so the aware value is rebuilt on the way out). Prediction
records keep their event time as integer microseconds since the epoch instead: see
``docs/architecture.md`` for why.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["FeatureKind", "RecordStatus", "Task", "UTCDateTime", "utc_now"]


def utc_now() -> dt.datetime:
    """The current time as a timezone-aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A ``DateTime(timezone=True)`` that only accepts and always returns aware UTC values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            msg = f"timestamps must be timezone-aware, got naive {value.isoformat()}"
            raise ValueError(msg)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):  # pragma: no cover - drivers return datetimes
            msg = f"expected a datetime from the database, got {type(value).__name__}"
            raise TypeError(msg)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Task(enum.StrEnum):
    """What a model predicts."""

    BINARY_CLASSIFICATION = "binary_classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION


class FeatureKind(enum.StrEnum):
    """How a feature's values are stored and compared."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"
    EMBEDDING = "embedding"


class RecordStatus(enum.IntEnum):
    """Outcome of one prediction request, stored as a small integer."""

    OK = 0
    ERROR = 1
    BAD_INPUT = 2
    TIMEOUT = 3
