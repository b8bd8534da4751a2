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
    ConflictError,
    DatabaseConnectionError,
    DatabaseURLError,
    InvalidBatchError,
    InvalidTokenError,
    MigrationError,
    NotFoundError,
    ScopeError,
    StorageError,
    TokenError,
    TokenSpecError,
)
from storage.labels import upsert_labels
from storage.repositories.models import ModelHandle, get_model_version, register_model
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import (
    IssuedToken,
    Scope,
    TokenInfo,
    create_token,
    list_tokens,
    revoke_token,
    verify_token,
)
from storage.retention import PruneCounts, PruneResult, count_prunable, prune_records
from storage.schema import FeatureSchema, FeatureSpec
from storage.types import FeatureKind, RecordStatus, Task
from storage.windows import Window, read_window

__all__ = [
    "ConflictError",
    "DatabaseConnectionError",
    "DatabaseURLError",
    "FeatureKind",
    "FeatureSchema",
    "FeatureSpec",
    "InsertResult",
    "InvalidBatchError",
    "InvalidTokenError",
    "IssuedToken",
    "MigrationError",
    "ModelHandle",
    "NotFoundError",
    "PredictionBatch",
    "PruneCounts",
    "PruneResult",
    "RecordStatus",
    "Scope",
    "ScopeError",
    "StorageError",
    "Task",
    "TokenError",
    "TokenInfo",
    "TokenSpecError",
    "TokenVerifier",
    "Window",
    "check_connection",
    "count_prunable",
    "create_engine",
    "create_session_factory",
    "create_token",
    "display_url",
    "get_model_version",
    "insert_predictions",
    "list_tokens",
    "prune_records",
    "read_window",
    "register_model",
    "revoke_token",
    "sqlite_url",
    "upsert_labels",
    "verify_token",
]
