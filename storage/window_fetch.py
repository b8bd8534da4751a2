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
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from storage.errors import StorageError

__all__ = ["VersionQuery", "fetch_version_rows"]

_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_PG_HEADER = len(_PG_SIGNATURE) + 8
_PG_TRAILER = 2
_NAN64 = np.array([np.nan], dtype="<f8").tobytes()
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
    rows = raw.execute(sql).fetchall()
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    out: dict[str, NDArray[Any]] = {}
    scalar_types = {"timestamp_us": np.int64, "status": np.int16}
    widths = {name: (width, dtype) for name, _, width, dtype in _blob_columns(query)}
    for name, values in zip(names, columns, strict=True):
        if name in widths:
            width, dtype = widths[name]
            flat = np.frombuffer(b"".join(values), dtype=dtype)
            out[name] = flat.reshape(len(rows), width)
        else:
            out[name] = np.array(values, dtype=scalar_types.get(name, np.float64))
    return out


def _fetch_postgres(connection: Connection, query: VersionQuery) -> dict[str, NDArray[Any]]:
    sql, names = _select(
        query, nan_float="'NaN'::float8", nan_blob=lambda b: f"'\\x{b.hex()}'::bytea"
    )
    raw = connection.connection.driver_connection
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)") as copy:  # type: ignore[union-attr]
        for chunk in copy:
            buffer += chunk
    return _parse_binary_copy(bytes(buffer), names, query)


def _parse_binary_copy(
    data: bytes, names: list[str], query: VersionQuery
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
