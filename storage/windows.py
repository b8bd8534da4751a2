"""Window reads: a model's records in a time range as numpy columns, sampled to a bound.

Sampling is uniform without replacement and reproducible: every record carries a uniform
random ``sample_key`` drawn once at insert, and a window read to ``limit`` rows keeps the
``limit`` records with the smallest keys. Only about ``limit`` rows leave the database: the
query asks for keys below a cut a few standard deviations above ``limit / total``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine

from storage.categories import decode_categories
from storage.errors import NotFoundError
from storage.models import Model, ModelVersion, PredictionRecord
from storage.schema import FeatureSchema
from storage.window_fetch import VersionQuery, fetch_version_rows

__all__ = ["Window", "read_window", "to_epoch_us"]

_SIGMAS = 6.0


@dataclass(frozen=True, slots=True)
class Window:
    """Records of one model between ``start`` (inclusive) and ``end`` (exclusive).

    Rows are in time order. Classes are indices into ``classes``; categorical columns hold
    dictionary codes (NaN when missing) whose values are in ``categories``.
    """

    model_name: str
    start: dt.datetime
    end: dt.datetime
    #: Records in the window before sampling.
    total_rows: int
    classes: tuple[str, ...]
    timestamps_us: NDArray[np.int64]
    status: NDArray[np.int16]
    latency_seconds: NDArray[np.float64]
    predictions: NDArray[np.float64]
    #: ``(n, n_classes)``; ``(n, 0)`` for regression models.
    probabilities: NDArray[np.float64]
    #: Ground truth joined by request id (NaN where none arrived), if asked for.
    labels: NDArray[np.float64] | None
    version_ids: NDArray[np.int64]
    versions: dict[int, str]
    numeric_names: tuple[str, ...]
    #: ``(n, len(numeric_names))``.
    numeric: NDArray[np.float64]
    categorical_names: tuple[str, ...]
    #: ``(n, len(categorical_names))`` dictionary codes.
    categorical: NDArray[np.float64]
    #: Categorical feature to ``{code: value}`` for the codes in this window.
    categories: dict[str, dict[int, str]] = field(default_factory=dict)
    #: Embedding feature to an ``(n, dims)`` float32 array.
    embeddings: dict[str, NDArray[np.float32]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.timestamps_us)

    @property
    def sampled(self) -> bool:
        """True when the window held more records than were read."""
        return len(self) < self.total_rows

    def timestamps(self) -> NDArray[np.datetime64]:
        """Event times as ``datetime64[us]`` (UTC)."""
        return self.timestamps_us.astype("datetime64[us]")


@dataclass(frozen=True, slots=True)
class _ModelRow:
    id: int
    name: str
    classes: tuple[str, ...]


def to_epoch_us(moment: dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"window bounds must be timezone-aware, got naive {moment.isoformat()}"
        raise ValueError(msg)
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def read_window(
    engine: Engine,
    model_name: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    limit: int | None = None,
    version: str | None = None,
    with_labels: bool = False,
) -> Window:
    """Read a model's records with ``start <= time < end``, at most ``limit`` of them.

    Parameters
    ----------
    limit
        Upper bound on the rows returned; a larger window is sampled uniformly.
    version
        Only records of this model version; by default every version, with features
        aligned by name (NaN where a version lacks a feature).
    with_labels
        Join ground-truth labels by request id.
    """
    if limit is not None and limit < 1:
        msg = f"limit must be a positive number of rows, got {limit}"
        raise ValueError(msg)
    start_us, end_us = to_epoch_us(start), to_epoch_us(end)
    if end_us <= start_us:
        msg = f"window end {end.isoformat()} must be after its start {start.isoformat()}"
        raise ValueError(msg)
    with engine.connect() as connection:
        model, versions = _model(connection, model_name, version)
        version_ids = list(versions) if version is not None else None
        total = 0
        if limit is not None:
            total = _count(connection, model.id, version_ids, start_us, end_us)
        cut = None
        if limit is not None and total > limit:
            cut = min(1.0, (limit + _SIGMAS * math.sqrt(limit) + 20) / total)
        parts = _read_parts(connection, model, versions, start_us, end_us, cut, with_labels)
        if limit is not None and cut is not None and _rows(parts) < limit:
            parts = _read_parts(connection, model, versions, start_us, end_us, None, with_labels)
        if limit is None:
            total = _rows(parts)
        window = _assemble(model, versions, parts, limit, with_labels)
        codes = _codes(window["categorical"])
        categories = _categories(connection, model.id, codes)
    return Window(
        model_name=model.name,
        start=start,
        end=end,
        total_rows=total,
        classes=tuple(model.classes),
        versions={vid: label for vid, (label, _) in versions.items()},
        categories={name: categories.get(name, {}) for name in window["categorical_names"]},
        **window,
    )


def _model(
    connection: Connection, name: str, version: str | None
) -> tuple[_ModelRow, dict[int, tuple[str, FeatureSchema]]]:
    row = connection.execute(
        sa.select(Model.id, Model.name, Model.classes).where(Model.name == name)
    ).one_or_none()
    if row is None:
        msg = f"unknown model {name!r}"
        raise NotFoundError(msg)
    model = _ModelRow(id=row.id, name=row.name, classes=tuple(row.classes))
    query = sa.select(ModelVersion.id, ModelVersion.version, ModelVersion.feature_schema).where(
        ModelVersion.model_id == model.id
    )
    if version is not None:
        query = query.where(ModelVersion.version == version)
    versions = {
        vid: (label, FeatureSchema.from_json(schema))
        for vid, label, schema in connection.execute(query.order_by(ModelVersion.id.desc()))
    }
    if version is not None and not versions:
        msg = f"model {name!r} has no version {version!r}"
        raise NotFoundError(msg)
    return model, versions


def _count(
    connection: Connection,
    model_id: int,
    version_ids: list[int] | None,
    start_us: int,
    end_us: int,
) -> int:
    record = PredictionRecord
    query = sa.select(sa.func.count()).where(
        record.model_id == model_id,
        record.timestamp_us >= start_us,
        record.timestamp_us < end_us,
    )
    if version_ids is not None:
        query = query.where(record.model_version_id.in_(version_ids))
    return int(connection.execute(query).scalar_one())


def _read_parts(
    connection: Connection,
    model: _ModelRow,
    versions: dict[int, tuple[str, FeatureSchema]],
    start_us: int,
    end_us: int,
    cut: float | None,
    with_labels: bool,
) -> list[tuple[int, dict[str, NDArray[Any]]]]:
    parts = []
    for vid, (_, schema) in versions.items():
        query = VersionQuery(
            model_id=model.id,
            version_id=vid,
            start_us=start_us,
            end_us=end_us,
            sample_cut=cut,
            feature_width=schema.packed_width,
            n_classes=len(model.classes),
            embedding_width=schema.embedding_width,
            with_labels=with_labels,
        )
        part = fetch_version_rows(connection, query)
        if len(part["timestamp_us"]):
            parts.append((vid, part))
    return parts


def _rows(parts: list[tuple[int, dict[str, NDArray[Any]]]]) -> int:
    return sum(len(part["timestamp_us"]) for _, part in parts)


def _union(schemas: list[FeatureSchema], attribute: str) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for schema in schemas:
        names.update(dict.fromkeys(getattr(schema, attribute)))
    return tuple(names)


def _assemble(
    model: _ModelRow,
    versions: dict[int, tuple[str, FeatureSchema]],
    parts: list[tuple[int, dict[str, NDArray[Any]]]],
    limit: int | None,
    with_labels: bool,
) -> dict[str, Any]:
    """Concatenate per-version arrays, aligning features by name; sample; sort by time."""
    # Names of every version read (newest first), so even an empty window lists them.
    schemas = [schema for _, schema in versions.values()]
    numeric_names = _union(schemas, "numeric")
    categorical_names = _union(schemas, "categorical")
    n = _rows(parts)
    single = versions[parts[0][0]][1] if len(parts) == 1 else None
    if (
        single is not None
        and (single.numeric, single.categorical)
        == (
            numeric_names,
            categorical_names,
        )
        and set(single.embedding) == set(_union(schemas, "embedding"))
    ):
        # One version: its packed matrix already is the numeric | categorical layout.
        part = parts[0][1]
        features = part.get("features", np.empty((n, 0)))
        numeric = features[:, : len(numeric_names)]
        categorical = features[:, len(numeric_names) :]
        embeddings = {
            name: part["embeddings"][:, where] for name, where in single.embedding_slices().items()
        }
        probabilities = part.get("probabilities", np.empty((n, 0)))
        version_ids = np.full(n, parts[0][0], dtype=np.int64)
    else:
        numeric, categorical, embeddings, probabilities, version_ids = _align(
            model, versions, parts, numeric_names, categorical_names
        )
    scalars = {
        name: _concat([part[name] for _, part in parts], dtype)
        for name, dtype in (
            ("timestamp_us", np.int64),
            ("status", np.int16),
            ("latency_seconds", np.float64),
            ("prediction", np.float64),
            ("sample_key", np.float64),
            ("label", np.float64),
        )
        if name != "label" or with_labels
    }
    keep: NDArray[np.intp] | slice = slice(None)
    if limit is not None and n > limit:
        chosen = np.argpartition(scalars["sample_key"], limit - 1)[:limit]
        keep = chosen[np.argsort(scalars["timestamp_us"][chosen], kind="stable")]
    elif n and (np.diff(scalars["timestamp_us"]) < 0).any():
        keep = np.argsort(scalars["timestamp_us"], kind="stable")
    return {
        "timestamps_us": scalars["timestamp_us"][keep],
        "status": scalars["status"][keep],
        "latency_seconds": scalars["latency_seconds"][keep],
        "predictions": scalars["prediction"][keep],
        "labels": scalars["label"][keep] if with_labels else None,
        "probabilities": probabilities[keep],
        "version_ids": version_ids[keep],
        "numeric_names": numeric_names,
        "numeric": numeric[keep],
        "categorical_names": categorical_names,
        "categorical": categorical[keep],
        "embeddings": {name: values[keep] for name, values in embeddings.items()},
    }


def _align(
    model: _ModelRow,
    versions: dict[int, tuple[str, FeatureSchema]],
    parts: list[tuple[int, dict[str, NDArray[Any]]]],
    numeric_names: tuple[str, ...],
    categorical_names: tuple[str, ...],
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    dict[str, NDArray[np.float32]],
    NDArray[np.float64],
    NDArray[np.int64],
]:
    """Several versions: place each version's columns by feature name, NaN elsewhere."""
    n = _rows(parts)
    numeric = np.full((n, len(numeric_names)), np.nan)
    categorical = np.full((n, len(categorical_names)), np.nan)
    dims = {  # every version's embeddings; the newest version's dims win
        spec.name: spec.dims or 0
        for _, schema in reversed(list(versions.values()))
        for spec in schema.features
        if spec.dims is not None
    }
    embeddings = {name: np.full((n, d), np.nan, dtype=np.float32) for name, d in dims.items()}
    probabilities = np.full((n, len(model.classes)), np.nan)
    version_ids = np.empty(n, dtype=np.int64)
    offset = 0
    for vid, part in parts:
        schema = versions[vid][1]
        rows = slice(offset, offset + len(part["timestamp_us"]))
        offset = rows.stop
        version_ids[rows] = vid
        if "features" in part:
            width = len(schema.numeric)
            numeric[rows, [numeric_names.index(name) for name in schema.numeric]] = part[
                "features"
            ][:, :width]
            columns = [categorical_names.index(name) for name in schema.categorical]
            categorical[rows, columns] = part["features"][:, width:]
        for name, where in schema.embedding_slices().items():
            embeddings[name][rows] = part["embeddings"][:, where]
        if "probabilities" in part:
            probabilities[rows] = part["probabilities"]
    return numeric, categorical, embeddings, probabilities, version_ids


def _concat(arrays: list[NDArray[Any]], dtype: type) -> NDArray[Any]:
    if not arrays:
        return np.empty(0, dtype=dtype)
    return np.concatenate(arrays).astype(dtype, copy=False)


def _codes(categorical: NDArray[np.float64]) -> list[int]:
    values = categorical[~np.isnan(categorical)]
    return [int(code) for code in np.unique(values)]


def _categories(
    connection: Connection, model_id: int, codes: list[int]
) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for code, (feature, value) in decode_categories(connection, model_id, codes).items():
        out.setdefault(feature, {})[code] = value
    return out
