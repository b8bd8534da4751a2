"""The bulk insert path for prediction records, idempotent on (model, request id).

PostgreSQL: the partitions the batch's times need are made sure of first
(:func:`storage.partitions.ensure_covered`, free when they exist), and repeats of a request
id within the batch are dropped (the first wins). Then a binary ``COPY`` (payload built by
:mod:`storage.pg_copy`) goes straight into the table under a savepoint: the usual case, where
no record is stored yet. COPY cannot skip duplicates, so if one is (a replay, a retried
request, another writer storing the same record at the same time) the unique key fails the
COPY, the savepoint is rolled back, and the batch goes the careful way: COPY into a temporary
staging table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``. The table is
partitioned by time there, so the conflict key is (model, request id, timestamp): a replayed
record, which carries the time it was first accepted with, is still skipped (see
``docs/architecture.md``). Both ways the ids follow the batch's order.
SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` in one transaction.
"""

from __future__ import annotations

import dataclasses
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
from storage.pg_copy import (
    Field,
    blob_field,
    constant_field,
    copy_chunks,
    float_field,
    integer_field,
    jsonb_field,
    text_field,
)
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
_STAGE = "_driftline_stage_records"
_SAVEPOINT = "driftline_copy"


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
        if postgres:
            return _copy_postgres(connection, _fields(model, packed, sample_keys))
        return _executemany_sqlite(connection, _rows(model, packed, sample_keys))


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
    model: ModelHandle, packed: PackedBatch, keys: np.ndarray[Any, Any]
) -> list[tuple[Any, ...]]:
    """One tuple per record in ``_COLUMNS`` order, text as a JSON string (for SQLite)."""
    n = len(packed.request_ids)
    texts: list[Any] = [None] * n
    if packed.text is not None:
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


def _fields(model: ModelHandle, packed: PackedBatch, keys: np.ndarray[Any, Any]) -> list[Field]:
    """The batch as binary COPY fields in ``_COLUMNS`` order, each request id's first
    record only (what ``DISTINCT ON`` kept before; ids then follow the batch order)."""
    first = _first_occurrences(packed.request_ids)
    if first is not None:
        packed = _take(packed, first)
        keys = keys[first]
    n = len(packed.request_ids)
    return [
        constant_field(model.model_id, n, ">i4"),
        constant_field(model.version_id, n, ">i4"),
        text_field(packed.request_ids),
        integer_field(packed.timestamps_us, ">i8"),
        float_field(keys, nan_is_null=False),
        integer_field(packed.status, ">i2"),
        float_field(packed.latency_seconds, nan_is_null=True),
        float_field(packed.predictions, nan_is_null=True),
        blob_field(packed.probabilities, n),
        blob_field(packed.features, n),
        blob_field(packed.embeddings, n),
        jsonb_field(packed.text, n),
        text_field(packed.error_types),
        text_field(packed.error_messages),
    ]


def _first_occurrences(request_ids: list[str]) -> list[int] | None:
    """Indices of each request id's first record, or None when every id is unique."""
    if len(set(request_ids)) == len(request_ids):
        return None
    first: dict[str, int] = {}
    for i, request_id in enumerate(request_ids):
        first.setdefault(request_id, i)
    return sorted(first.values())


def _take(packed: PackedBatch, rows: list[int]) -> PackedBatch:
    index = np.asarray(rows, dtype=np.intp)

    def matrix(values: np.ndarray[Any, Any] | None) -> Any:
        return None if values is None else values[index]

    return dataclasses.replace(
        packed,
        request_ids=[packed.request_ids[i] for i in rows],
        timestamps_us=packed.timestamps_us[index],
        status=packed.status[index],
        latency_seconds=packed.latency_seconds[index],
        predictions=packed.predictions[index],
        features=packed.features[index],
        probabilities=matrix(packed.probabilities),
        embeddings=matrix(packed.embeddings),
        text=None if packed.text is None else [packed.text[i] for i in rows],
        error_types=[packed.error_types[i] for i in rows],
        error_messages=[packed.error_messages[i] for i in rows],
    )


def _copy_postgres(connection: Connection, fields: list[Field]) -> int:
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):  # pragma: no cover - dialect checked above
        raise TypeError("expected a psycopg connection")
    with raw.cursor() as cursor:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            copied = _copy(cursor, "prediction_records", fields)
        except psycopg.errors.UniqueViolation:
            # Some record is stored already: skip those the careful way.
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            return _stage_and_insert(cursor, fields)
        cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return copied


def _copy(cursor: psycopg.Cursor[Any], table: str, fields: list[Field]) -> int:
    """COPY ``fields`` into ``table``; the ids come from the table's sequence, in order."""
    with cursor.copy(f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        for chunk in copy_chunks(fields):
            copy.write(chunk)
    return cursor.rowcount


def _stage_and_insert(cursor: psycopg.Cursor[Any], fields: list[Field]) -> int:
    """Stage the batch, then insert the records not stored yet; returns how many."""
    cursor.execute(
        f"CREATE TEMP TABLE {_STAGE} (LIKE prediction_records INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    _copy(cursor, _STAGE, fields)
    # The staged ids (drawn in batch order) are kept. No conflict target: the one unique
    # key besides the primary key (fresh ids never clash) is (model_id, request_id)
    # unpartitioned and (model_id, request_id, timestamp_us) partitioned, so the same
    # statement serves both layouts.
    columns = ", ".join(_COLUMNS)
    cursor.execute(
        f"INSERT INTO prediction_records (id, {columns}) SELECT id, {columns} FROM {_STAGE} "
        "ON CONFLICT DO NOTHING"
    )
    return cursor.rowcount
