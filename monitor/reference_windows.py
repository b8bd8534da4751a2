"""A stored reference dataset as a :class:`storage.Window`, built once and cached.

Monitors compare a production window with a reference every few minutes, so the reference
side is built once per content and kept: :func:`reference_window` asks the store only for
the reference's description (no bytes) and serves the cached window while the
reference's SHA-256 is unchanged. Uploading a new version of the reference changes the key,
so the next call rebuilds; the old entry ages out of the LRU.

The cache key is (database URL without password, model name and id, reference name and id,
SHA-256, sample limit): the ids make sure a model or reference deleted and made again, whose
category codes may have been made anew, is not served from an older entry. A cache hit
costs one small query (:func:`storage.repositories.references.reference_digest`), which
reads no blob. Entries are bounded by count and by the bytes of their arrays. Cached
windows are shared: their arrays are read-only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from monitor.reference_validation import METADATA_KEY, ReferenceDataError
from storage import ModelHandle, Window, create_session_factory, get_model_version
from storage.categories import encode_categories
from storage.engine import write_transaction
from storage.repositories.references import (
    ReferenceInfo,
    load_reference_data,
    reference_digest,
)
from storage.types import Task

__all__ = ["ReferenceWindowCache", "build_reference_window", "reference_window"]

#: Entries and array bytes a cache holds by default: a 500-model fleet's references at the
#: usual sample limits (10k rows x 50 features is 4 MB).
DEFAULT_MAX_ENTRIES = 1024
DEFAULT_MAX_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class _Key:
    database: str
    model_name: str
    model_id: int
    name: str
    reference_id: int
    sha256: str
    sample_limit: int | None


class ReferenceWindowCache:
    """Least-recently-used reference windows, bounded by entries and by array bytes.

    Safe to share between threads. Two threads missing the same key at once both build
    the window; the second one stored wins, and both are equal.
    """

    def __init__(
        self, *, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        for what, value in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[_Key, tuple[Window, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays of every cached window."""
        return self._bytes

    def get(self, key: _Key) -> Window | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: _Key, window: Window) -> None:
        size = _nbytes(window)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (window, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


#: The cache :func:`reference_window` uses unless given one. Its entries are pure
#: functions of their keys (content-addressed by SHA-256), so sharing it changes no result.
_SHARED_CACHE = ReferenceWindowCache()


def reference_window(
    engine: Engine,
    model_name: str,
    name: str,
    *,
    sample_limit: int | None = None,
    cache: ReferenceWindowCache | None = None,
) -> Window:
    """The reference dataset ``name`` of a model as a window, from the cache when unchanged.

    Parameters
    ----------
    sample_limit
        At most this many rows, a uniform sample seeded by the data's SHA-256 (so the same
        data gives the same sample).
    cache
        Where built windows are kept (default: one cache shared by the process).

    Raises
    ------
    storage.NotFoundError
        The model or the reference does not exist.
    ReferenceDataError
        The stored data is damaged or no longer fits the model.
    """
    if sample_limit is not None and (
        isinstance(sample_limit, bool) or not isinstance(sample_limit, int) or sample_limit < 1
    ):
        msg = f"sample_limit must be a positive number of rows, got {sample_limit!r}"
        raise ReferenceDataError(msg)
    cache = _SHARED_CACHE if cache is None else cache
    digest = reference_digest(engine, model_name, name)
    key = _Key(
        database=engine.url.render_as_string(hide_password=True),
        model_name=model_name,
        model_id=digest.model_id,
        name=name,
        reference_id=digest.reference_id,
        sha256=digest.sha256,
        sample_limit=sample_limit,
    )
    window = cache.get(key)
    if window is not None:
        return window
    info, data = load_reference_data(engine, model_name, name)
    window = build_reference_window(engine, info, data, sample_limit=sample_limit)
    if (info.id, info.sha256) == (key.reference_id, key.sha256):  # not replaced meanwhile
        cache.put(key, window)
    return window


def build_reference_window(
    engine: Engine, info: ReferenceInfo, data: bytes, *, sample_limit: int | None = None
) -> Window:
    """Decode stored reference bytes into a window (no cache).

    Columns follow the schema of the version the data was checked against (the model's
    newest version if that one was deleted); categorical values are encoded with the
    model's dictionary, creating codes for values production has not sent yet, so codes
    compare equal with production windows. Records have no time, status or latency:
    ``timestamps_us`` and ``status`` are zeros, ``latency_seconds`` NaN, and the window
    starts and ends at the upload time. Without a label column ``labels`` is None; without
    predictions or probabilities those are NaN (probabilities are ``(n, 0)`` for
    regression models).
    """
    where = f"reference {info.name!r} of model {info.model_name!r}"
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise ReferenceDataError(f"{where}: stored data does not match its sha256; upload it again")
    table, roles = _read(data, where)
    with create_session_factory(engine)() as session:
        handle = get_model_version(session, info.model_name, info.version)
    _check_columns(table, handle, roles, where)
    if sample_limit is not None and table.num_rows > sample_limit:
        rng = np.random.default_rng(int(info.sha256[:16], 16))
        table = table.take(np.sort(rng.choice(table.num_rows, sample_limit, replace=False)))
    n = table.num_rows
    categorical, categories = _categorical(engine, handle, table)
    window = Window(
        model_name=info.model_name,
        start=info.created_at,
        end=info.created_at,
        total_rows=info.row_count,
        classes=handle.classes,
        timestamps_us=np.zeros(n, dtype=np.int64),
        status=np.zeros(n, dtype=np.int16),
        latency_seconds=np.full(n, np.nan),
        predictions=_target(table, roles.get("prediction"), handle, n),
        probabilities=_probabilities(table, roles.get("probabilities"), handle, n),
        labels=_target(table, roles["label"], handle, n) if roles.get("label") else None,
        version_ids=np.full(n, handle.version_id, dtype=np.int64),
        versions={handle.version_id: handle.version},
        numeric_names=handle.schema.numeric,
        numeric=_matrix([_floats(table, name) for name in handle.schema.numeric], n),
        categorical_names=handle.schema.categorical,
        categorical=categorical,
        categories=categories,
        embeddings={name: _embedding(table, name, n) for name in handle.schema.embedding},
    )
    _freeze(window)
    return window


def _read(data: bytes, where: str) -> tuple[pa.Table, dict[str, Any]]:
    try:
        table = pq.read_table(pa.BufferReader(data))
        roles = json.loads((table.schema.metadata or {})[METADATA_KEY])
    except (pa.ArrowException, KeyError, ValueError):
        msg = f"{where}: stored data is not a reference written by Driftline; upload it again"
        raise ReferenceDataError(msg) from None
    return table, roles


def _check_columns(table: pa.Table, handle: ModelHandle, roles: dict[str, Any], where: str) -> None:
    wanted = [spec.name for spec in handle.schema.features]
    wanted += [roles[r] for r in ("label", "prediction") if roles.get(r)]
    wanted += roles.get("probabilities") or []
    missing = [name for name in wanted if name not in table.column_names]
    if missing:
        msg = (
            f"{where}: stored data lacks column(s) {', '.join(map(repr, missing))} of model "
            f"version {handle.version!r}; upload the reference again for this version"
        )
        raise ReferenceDataError(msg)


def _floats(table: pa.Table, name: str) -> NDArray[np.float64]:
    column = table.column(name)
    return np.asarray(column.to_numpy(), dtype=np.float64)


def _matrix(columns: list[NDArray[np.float64]], n: int) -> NDArray[np.float64]:
    return np.column_stack(columns) if columns else np.empty((n, 0))


def _categorical(
    engine: Engine, handle: ModelHandle, table: pa.Table
) -> tuple[NDArray[np.float64], dict[str, dict[int, str]]]:
    """Dictionary codes of each categorical column, encoding only its distinct values."""
    names = handle.schema.categorical
    n = table.num_rows
    if not names:
        return np.empty((n, 0)), {}
    out = np.full((n, len(names)), np.nan)
    categories: dict[str, dict[int, str]] = {}
    with write_transaction(engine) as connection:
        for j, name in enumerate(names):
            encoded = pc.dictionary_encode(table.column(name)).combine_chunks()
            values = encoded.dictionary.to_pylist()
            codes = encode_categories(connection, handle.model_id, name, values)
            indices = encoded.indices.fill_null(-1).to_numpy()
            present = indices >= 0
            out[present, j] = codes[indices[present]]
            categories[name] = {int(code): value for code, value in zip(codes, values, strict=True)}
    return out, categories


def _target(
    table: pa.Table, column: str | None, handle: ModelHandle, n: int
) -> NDArray[np.float64]:
    """Class labels as class indices (NaN when missing), or regression values."""
    if column is None:
        return np.full(n, np.nan)
    if handle.task is Task.REGRESSION:
        return _floats(table, column)
    encoded = pc.dictionary_encode(table.column(column)).combine_chunks()
    index = handle.class_index()
    lookup = np.array([index[label] for label in encoded.dictionary.to_pylist()], dtype=float)
    indices = encoded.indices.fill_null(-1).to_numpy()
    out = np.full(n, np.nan)
    out[indices >= 0] = lookup[indices[indices >= 0]]
    return out


def _probabilities(
    table: pa.Table, columns: list[str] | None, handle: ModelHandle, n: int
) -> NDArray[np.float64]:
    if columns is None:
        return np.full((n, len(handle.classes)), np.nan)
    return _matrix([_floats(table, name) for name in columns], n)


def _embedding(table: pa.Table, name: str, n: int) -> NDArray[np.float32]:
    column = table.column(name).combine_chunks()
    values = np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    return values.reshape(n, column.type.list_size)


def _arrays(window: Window) -> list[NDArray[Any]]:
    arrays: list[NDArray[Any]] = [
        window.timestamps_us,
        window.status,
        window.latency_seconds,
        window.predictions,
        window.probabilities,
        window.version_ids,
        window.numeric,
        window.categorical,
        *window.embeddings.values(),
    ]
    return arrays if window.labels is None else [*arrays, window.labels]


def _freeze(window: Window) -> None:
    for array in _arrays(window):
        array.flags.writeable = False


def _nbytes(window: Window) -> int:
    return sum(array.nbytes for array in _arrays(window))
