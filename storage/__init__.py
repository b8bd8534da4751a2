"""Driftline's SQL store: models, migrations, the bulk insert path and window reads.

Knows nothing of HTTP or of the other Driftline packages; callers build an engine with
:func:`create_engine` and pass it to the functions here.
"""

from __future__ import annotations

from storage.batch import PredictionBatch
from storage.bulk import InsertResult, insert_predictions
from storage.engine import (
    check_connection,
    create_engine,
    create_session_factory,
    display_url,
    sqlite_url,
)
from storage.errors import (
    DatabaseConnectionError,
    DatabaseURLError,
    InvalidBatchError,
    MigrationError,
    NotFoundError,
    StorageError,
)
from storage.labels import upsert_labels
from storage.repositories.models import ModelHandle, get_model_version, register_model
from storage.schema import FeatureSchema, FeatureSpec
from storage.types import FeatureKind, RecordStatus, Task
from storage.windows import Window, read_window

__all__ = [
    "DatabaseConnectionError",
    "DatabaseURLError",
    "FeatureKind",
    "FeatureSchema",
    "FeatureSpec",
    "InsertResult",
    "InvalidBatchError",
    "MigrationError",
    "ModelHandle",
    "NotFoundError",
    "PredictionBatch",
    "RecordStatus",
    "StorageError",
    "Task",
    "Window",
    "check_connection",
    "create_engine",
    "create_session_factory",
    "display_url",
    "get_model_version",
    "insert_predictions",
    "read_window",
    "register_model",
    "sqlite_url",
    "upsert_labels",
]
