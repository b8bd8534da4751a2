"""Fetching the rows of one model version in a window as numpy arrays, per back end.

Rows of one version have a fixed size (see :mod:`storage.schema`), which both fetchers use:
PostgreSQL streams ``COPY (SELECT ...) TO STDOUT (FORMAT BINARY)`` and views the stream as a
numpy structured array, with no per-row Python work; SQLite fetches tuples and joins the
feature blobs into one buffer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg import pq
from sqlalchemy.engine import Connection

from storage.errors import StorageError

__all__ = ["VersionQuery", "fetch_version_rows", "postgres_select"]

_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_PG_HEADER = len(_PG_SIGNATURE) + 8
_PG_TRAILER = 2
_NAN64 = np.array([np.nan], dtype="<f8").tobytes()
_SQLITE_CHUNK = 16_384
_NAN32 = np.array([np.nan], dtype="<f4").tobytes()


@dataclass(frozen=True, slots=True)
class VersionQuery:
    """Which rows to fetch and how wide their vectors are."""

    model_id: int
    version_id: int
    start_us: int
    end_us: int
    #: Keep rows whose sample key is below this (None: all rows).
    sample_cut: float | None
    feature_width: int
    n_classes: int
    embedding_width: int
    with_labels: bool


def fetch_version_rows(connection: Connection, query: VersionQuery) -> dict[str, NDArray[Any]]:
    """Arrays ``timestamp_us, status, latency_seconds, prediction, sample_key`` (n,),
    ``label`` (n,) if asked, ``features`` (n, w), ``probabilities`` (n, k) and
    ``embeddings`` (n, e) float32."""
    if connection.dialect.name == "postgresql":
        return _fetch_postgres(connection, query)
    return _fetch_sqlite(connection, query)


def _blob_columns(query: VersionQuery) -> list[tuple[str, str, int, str]]:
    """(name, column, width, little-endian dtype) of the vector columns to select."""
    columns = [
        ("features", "r.features", query.feature_width, "<f8"),
        ("probabilities", "r.probabilities", query.n_classes, "<f8"),
        ("embeddings", "r.embeddings", query.embedding_width, "<f4"),
    ]
    return [c for c in columns if c[2] > 0]


def _select(query: VersionQuery, *, nan_float: str, nan_blob: Any) -> tuple[str, list[str]]:
    scalars = [
        "r.timestamp_us",
        "r.status",
        f"COALESCE(r.latency_seconds, {nan_float})",
        f"COALESCE(r.prediction, {nan_float})",
        "r.sample_key",
    ]
    names = ["timestamp_us", "status", "latency_seconds", "prediction", "sample_key"]
    if query.with_labels:
        scalars.append(f"COALESCE(l.value, {nan_float})")
        names.append("label")
    for name, column, width, dtype in _blob_columns(query):
        nan = (_NAN32 if dtype == "<f4" else _NAN64) * width
        scalars.append(f"COALESCE({column}, {nan_blob(nan)})")
        names.append(name)
    sql = f"SELECT {', '.join(scalars)} FROM prediction_records r"
    if query.with_labels:
        sql += (
            " LEFT JOIN ground_truth_labels l"
            " ON l.model_id = r.model_id AND l.request_id = r.request_id"
        )
    sql += (
        f" WHERE r.model_id = {int(query.model_id)}"
        f" AND r.model_version_id = {int(query.version_id)}"
        f" AND r.timestamp_us >= {int(query.start_us)} AND r.timestamp_us < {int(query.end_us)}"
    )
    if query.sample_cut is not None:
        sql += f" AND r.sample_key < {float(query.sample_cut)!r}"
    return sql, names


def _fetch_sqlite(connection: Connection, query: VersionQuery) -> dict[str, NDArray[Any]]:
    raw = connection.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):  # pragma: no cover - dispatched on dialect
        raise TypeError("expected a sqlite3 connection")
    sql, names = _select(query, nan_float="NULL", nan_blob=lambda b: f"x'{b.hex()}'")
    cursor = raw.execute(sql)
    scalar_types = {"timestamp_us": np.int64, "status": np.int16}
    widths = {name: (width, dtype) for name, _, width, dtype in _blob_columns(query)}
    scalars: dict[str, list[NDArray[Any]]] = {name: [] for name in names if name not in widths}
    blobs = {name: bytearray() for name in widths}
    # In chunks: one list of a million rows costs more in memory traffic than the rows.
    while rows := cursor.fetchmany(_SQLITE_CHUNK):
        for name, values in zip(names, zip(*rows, strict=True), strict=True):
            if name in blobs:
                blobs[name] += b"".join(values)
            else:
                scalars[name].append(np.array(values, dtype=scalar_types.get(name, np.float64)))
    out: dict[str, NDArray[Any]] = {
        name: np.concatenate(parts) if parts else np.empty(0, scalar_types.get(name, np.float64))
        for name, parts in scalars.items()
    }
    n = len(out["timestamp_us"])
    for name, (width, dtype) in widths.items():
        out[name] = np.frombuffer(blobs[name], dtype=dtype).reshape(n, width)
    return out


def postgres_select(query: VersionQuery) -> tuple[str, list[str]]:
    """The ``SELECT`` PostgreSQL's fetch streams out, and the names of its columns.

    Its bounds are literals, so the planner prunes the time partitions outside the window
    (``EXPLAIN`` it to see which partitions a window reads).
    """
    return _select(query, nan_float="'NaN'::float8", nan_blob=lambda b: f"'\\x{b.hex()}'::bytea")


def _fetch_postgres(connection: Connection, query: VersionQuery) -> dict[str, NDArray[Any]]:
    sql, names = postgres_select(query)
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):  # pragma: no cover - dispatched on dialect
        raise TypeError("expected a psycopg connection")
    data = _copy_out(raw, f"COPY ({sql}) TO STDOUT (FORMAT BINARY)")
    return _parse_binary_copy(data, names, query)


def _copy_out(raw: psycopg.Connection[Any], statement: str) -> bytearray:
    """Run a ``COPY ... TO STDOUT`` and return its whole output.

    Talks to libpq directly: psycopg's ``Copy`` iterator costs several microseconds of
    Python per row, which for a million-row window is most of the read. Appending each row
    to one growing buffer (rather than joining a list of rows) keeps memory at one copy.
    """
    pgconn = raw.pgconn
    pgconn.send_query(statement.encode())
    result = pgconn.get_result()
    if result is None or result.status != pq.ExecStatus.COPY_OUT:
        error = _drain(pgconn) or (result.get_error_message() if result else "no result")
        msg = f"cannot read the window from PostgreSQL: {error}"
        raise StorageError(msg)
    out = bytearray()
    get_copy_data = pgconn.get_copy_data
    while True:
        size, row = get_copy_data(0)
        if size <= 0:
            break
        out += row
    error = _drain(pgconn)
    if error:
        msg = f"cannot read the window from PostgreSQL: {error}"
        raise StorageError(msg)
    return out


def _drain(pgconn: pq.abc.PGconn) -> str:
    """Consume the remaining results; the first error message, if any."""
    error = ""
    while (result := pgconn.get_result()) is not None:
        if result.status == pq.ExecStatus.FATAL_ERROR and not error:
            error = " ".join(result.get_error_message().split())
    return error


def _parse_binary_copy(
    data: bytes | bytearray, names: list[str], query: VersionQuery
) -> dict[str, NDArray[Any]]:
    if not data.startswith(_PG_SIGNATURE):
        raise StorageError("unexpected COPY output from PostgreSQL: bad signature")
    fields: list[tuple[str, str] | tuple[str, str, tuple[int]]] = [("field_count", ">i2")]
    scalar_types = {"timestamp_us": ">i8", "status": ">i2"}
    widths = {name: (width, dtype) for name, _, width, dtype in _blob_columns(query)}
    for name in names:
        fields.append((f"{name}_length", ">i4"))
        if name in widths:
            width, dtype = widths[name]
            fields.append((name, dtype, (width,)))
        else:
            fields.append((name, scalar_types.get(name, ">f8")))
    row_type = np.dtype(fields)
    body = memoryview(data)[_PG_HEADER : len(data) - _PG_TRAILER]
    if len(body) % row_type.itemsize:
        raise StorageError(
            "stored records do not match their version's layout (a feature or probability "
            "vector has the wrong length); was a record written outside Driftline?"
        )
    rows = np.frombuffer(body, dtype=row_type)
    if len(rows) and (rows["field_count"] != len(names)).any():
        raise StorageError("unexpected COPY output from PostgreSQL: wrong field count")
    out: dict[str, NDArray[Any]] = {}
    for name in names:
        expected = row_type.fields[name][0].itemsize  # type: ignore[index]
        if len(rows) and (rows[f"{name}_length"] != expected).any():
            raise StorageError(f"stored records have a {name} value of the wrong length")
        column = rows[name]
        native = column.dtype.base.newbyteorder("=") if column.dtype.base.byteorder == ">" else None
        out[name] = column.astype(native) if native is not None else column.copy()
    out["status"] = out["status"].astype(np.int16)
    return out
