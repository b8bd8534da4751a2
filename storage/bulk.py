"""The bulk insert path for prediction records, idempotent on (model, request id).

PostgreSQL: the partitions the batch's times need are made sure of first
(:func:`storage.partitions.ensure_covered`, free when they exist), then a binary ``COPY``
into a temporary staging table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
(COPY itself cannot skip duplicates). The table is partitioned by time there, so the
conflict key is (model, request id, timestamp): a replayed record, which carries the time
it was first accepted with, is still skipped (see ``docs/architecture.md``).
SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` in one transaction.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import psycopg
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from storage.batch import PackedBatch, PredictionBatch, pack_batch
from storage.categories import encode_categories
from storage.engine import write_transaction
from storage.partitions import ensure_covered, forget_partitions, is_missing_partition
from storage.repositories.models import ModelHandle

__all__ = ["InsertResult", "insert_predictions"]

_COLUMNS = (
    "model_id",
    "model_version_id",
    "request_id",
    "timestamp_us",
    "sample_key",
    "status",
    "latency_seconds",
    "prediction",
    "probabilities",
    "features",
    "embeddings",
    "text_features",
    "error_type",
    "error_message",
)
_PG_TYPES = (
    "int4", "int4", "text", "int8", "float8", "int2", "float8", "float8",
    "bytea", "bytea", "bytea", "jsonb", "text", "text",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class InsertResult:
    """How many records a batch held and how many were new."""

    received: int
    inserted: int

    @property
    def duplicates(self) -> int:
        """Records skipped because their request id was already stored."""
        return self.received - self.inserted


def insert_predictions(
    engine: Engine,
    model: ModelHandle,
    batch: PredictionBatch,
    *,
    rng: np.random.Generator | None = None,
) -> InsertResult:
    """Validate, encode and store ``batch`` in one transaction.

    Records whose (model, request id) is already stored, or repeated within the batch
    (the first wins), are skipped, so a replayed batch stores nothing twice. On PostgreSQL
    the key also holds the timestamp (the table is partitioned by it): a record sent again
    with another timestamp is stored again.

    Raises
    ------
    InvalidBatchError
        If the batch does not fit the model version; nothing is written.
    """
    packed = pack_batch(model, batch)
    sample_keys = (rng or np.random.default_rng()).random(len(packed.request_ids))
    try:
        inserted = _insert(engine, model, packed, sample_keys, fresh_catalog=False)
    except (IntegrityError, psycopg.IntegrityError) as error:
        # Another process dropped a partition this connection had cached as existing.
        if not is_missing_partition(error):
            raise
        inserted = _insert(engine, model, packed, sample_keys, fresh_catalog=True)
    return InsertResult(received=len(packed.request_ids), inserted=inserted)


def _insert(
    engine: Engine,
    model: ModelHandle,
    packed: PackedBatch,
    sample_keys: np.ndarray[Any, Any],
    *,
    fresh_catalog: bool,
) -> int:
    with write_transaction(engine) as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            if fresh_catalog:
                forget_partitions(connection)
            ensure_covered(connection, packed.timestamps_us)
        _encode(connection, model, packed)
        rows = _rows(model, packed, sample_keys, text_as_json=not postgres)
        if postgres:
            return _copy_postgres(connection, rows)
        return _executemany_sqlite(connection, rows)


def _encode(connection: Connection, model: ModelHandle, packed: PackedBatch) -> None:
    offset = len(model.schema.numeric)
    for j, name in enumerate(model.schema.categorical):
        packed.features[:, offset + j] = encode_categories(
            connection, model.model_id, name, packed.categories[name]
        )


def _blobs(matrix: np.ndarray[Any, Any] | None, n: int) -> list[bytes | None]:
    if matrix is None:
        return [None] * n
    data = np.ascontiguousarray(matrix, dtype=matrix.dtype.newbyteorder("<")).tobytes()
    width = len(data) // n
    return [data[i * width : (i + 1) * width] for i in range(n)]


def _optional(values: np.ndarray[Any, Any]) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]


def _rows(
    model: ModelHandle, packed: PackedBatch, keys: np.ndarray[Any, Any], *, text_as_json: bool
) -> list[tuple[Any, ...]]:
    """One tuple per record in ``_COLUMNS`` order (text as a JSON string for SQLite)."""
    n = len(packed.request_ids)
    texts: list[Any] = [None] * n if packed.text is None else list(packed.text)
    if text_as_json and packed.text is not None:
        texts = [orjson.dumps(t).decode() for t in packed.text]
    return list(
        zip(
            [model.model_id] * n,
            [model.version_id] * n,
            packed.request_ids,
            packed.timestamps_us.tolist(),
            keys.tolist(),
            packed.status.tolist(),
            _optional(packed.latency_seconds),
            _optional(packed.predictions),
            _blobs(packed.probabilities, n),
            _blobs(packed.features, n),
            _blobs(packed.embeddings, n),
            texts,
            packed.error_types,
            packed.error_messages,
            strict=True,
        )
    )


def _executemany_sqlite(connection: Connection, rows: list[tuple[Any, ...]]) -> int:
    raw = connection.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):  # pragma: no cover - dialect checked above
        raise TypeError("expected a sqlite3 connection")
    placeholders = ", ".join("?" * len(_COLUMNS))
    cursor = raw.executemany(
        f"INSERT INTO prediction_records ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "
        "ON CONFLICT (model_id, request_id) DO NOTHING",
        rows,
    )
    return cursor.rowcount


def _copy_postgres(connection: Connection, rows: list[tuple[Any, ...]]) -> int:
    raw = connection.connection.driver_connection
    columns = ", ".join(_COLUMNS)
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(
            "CREATE TEMP TABLE _driftline_stage_records "
            "(LIKE prediction_records INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with cursor.copy(
            f"COPY _driftline_stage_records ({columns}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(list(_PG_TYPES))
            for row in rows:
                copy.write_row(row)
        # The first record of each request id in the batch (DISTINCT ON), in batch order.
        # No conflict target: the one unique key besides the primary key (fresh ids never
        # clash) is (model_id, request_id) unpartitioned and (model_id, request_id,
        # timestamp_us) partitioned, so the same statement serves both layouts.
        cursor.execute(
            f"INSERT INTO prediction_records ({columns}) "
            f"SELECT {columns} FROM (SELECT DISTINCT ON (request_id) * "
            "FROM _driftline_stage_records ORDER BY request_id, id) AS firsts ORDER BY id "
            "ON CONFLICT DO NOTHING"
        )
        inserted = cursor.rowcount
    return int(inserted)
