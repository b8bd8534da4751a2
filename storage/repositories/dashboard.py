"""The read queries behind the web dashboard: overviews, result series, details, alert timelines.

Each function runs a fixed number of statements, whatever the number of models, monitors,
results or alerts it returns: the latest result of every monitor comes from one statement
(a correlated subquery per monitor that the index ``(monitor_id, window_end)`` answers), and
the events of many alerts, or the attempts of many deliveries, from one more. Result series
never read ``details``, the large per-feature JSON; only :func:`result_detail` and
:func:`details_history` do.

A ``details`` of None is stored as JSON ``null`` (SQLAlchemy's default for JSON columns), so
"has details" is tested against both SQL NULL and JSON null. Summaries and details are read
as JSON text and parsed with orjson, several times faster than the standard library's
parser on the large per-feature details.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import aliased

from storage.errors import NotFoundError
from storage.models import (
    Alert,
    AlertRule,
    Model,
    ModelVersion,
    Monitor,
    MonitorResult,
)
from storage.repositories.monitors import find_model_id

__all__ = [
    "ModelOverview",
    "MonitorOverview",
    "ResultDetail",
    "ResultPoint",
    "details_history",
    "feature_history",
    "model_overview",
    "model_overviews",
    "result_detail",
    "result_series",
]

#: Severities from the most to the least urgent.
SEVERITIES: Final = ("critical", "warning", "info")
_OPEN_STATES: Final = ("pending", "firing")


@dataclass(frozen=True, slots=True)
class ResultPoint:
    """One monitor result without its details: a point of a time series."""

    monitor_id: int
    window_start: dt.datetime
    window_end: dt.datetime
    status: str
    score: float | None
    sample_size: int
    summary: dict[str, Any]
    computed_at: dt.datetime
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class ResultDetail:
    """One monitor result with its details (None when the run stored none)."""

    point: ResultPoint
    details: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class MonitorOverview:
    """A monitor of a model and its newest result (by window end, whatever its status)."""

    id: int
    name: str
    #: ``data_drift``, ``prediction_drift``, ``performance``, ``failures`` or ``health``.
    kind: str
    #: The model version the monitor reads; None for every version.
    version: str | None
    enabled: bool
    latest: ResultPoint | None


@dataclass(frozen=True, slots=True)
class ModelOverview:
    """A model, its versions (oldest first), its monitors (by name) and its open alerts."""

    name: str
    task: str
    versions: tuple[str, ...]
    monitors: tuple[MonitorOverview, ...]
    #: Alerts labelled with this model that are pending or firing.
    open_alerts: int
    #: The most urgent severity of its firing alerts (critical > warning > info), or None.
    firing_severity: str | None


# -- overviews ----------------------------------------------------------------------------

_POINT_COLUMNS = (
    MonitorResult.monitor_id,
    MonitorResult.window_start,
    MonitorResult.window_end,
    MonitorResult.status,
    MonitorResult.score,
    MonitorResult.sample_size,
    sa.cast(MonitorResult.summary, sa.Text).label("summary"),
    MonitorResult.computed_at,
    MonitorResult.duration_seconds,
)
_DETAILS_TEXT = sa.cast(MonitorResult.details, sa.Text).label("details")


def _loads(text: str | None) -> Any:
    """Parsed JSON text (None for SQL NULL); the standard parser takes what orjson refuses
    (``NaN``, which SQLite may hold)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _point(values: Sequence[Any]) -> ResultPoint:
    """The point of the values of :data:`_POINT_COLUMNS`, in their order (positional: the
    series read thousands)."""
    monitor_id, start, end, status, score, size, summary, computed_at, seconds = values
    return ResultPoint(
        monitor_id, start, end, status, score, size, _loads(summary) or {}, computed_at, seconds
    )


def model_overviews(engine: Engine) -> list[ModelOverview]:
    """Every model by name, with its versions, monitors, latest results and open alerts.

    Four statements whatever the number of models and monitors.
    """
    with engine.connect() as connection:
        return _overviews(connection, None)


def model_overview(engine: Engine, model: str) -> ModelOverview:
    """The overview of one model (as in :func:`model_overviews`).

    Raises
    ------
    NotFoundError
        If no model is called ``model``.
    """
    with engine.connect() as connection:
        (found,) = _overviews(connection, find_model_id(connection, model))
    return found


def _overviews(connection: Connection, model_id: int | None) -> list[ModelOverview]:
    models = sa.select(Model.id, Model.name, Model.task).order_by(Model.name)
    versions = sa.select(ModelVersion.model_id, ModelVersion.version).order_by(ModelVersion.id)
    if model_id is not None:
        models = models.where(Model.id == model_id)
        versions = versions.where(ModelVersion.model_id == model_id)
    by_model: dict[int, list[str]] = {}
    for version in connection.execute(versions):
        by_model.setdefault(version.model_id, []).append(version.version)
    monitors = _monitors(connection, model_id)
    alerts = _open_alerts(connection)
    overviews = []
    for row in connection.execute(models):
        counts = alerts.get(row.name, {})
        firing = [s for s in SEVERITIES if counts.get(("firing", s))]
        overviews.append(
            ModelOverview(
                name=row.name,
                task=str(row.task),
                versions=tuple(by_model.get(row.id, ())),
                monitors=tuple(monitors.get(row.id, ())),
                open_alerts=sum(counts.values()),
                firing_severity=firing[0] if firing else None,
            )
        )
    return overviews


def _monitors(connection: Connection, model_id: int | None) -> dict[int, list[MonitorOverview]]:
    """Monitors by model id, by name, each with its newest result."""
    newer = aliased(MonitorResult)
    latest_id = (
        sa.select(newer.id)
        .where(newer.monitor_id == Monitor.id)
        .order_by(newer.window_end.desc(), newer.id.desc())
        .limit(1)
        .correlate(Monitor)
        .scalar_subquery()
    )
    query = (
        sa.select(
            Monitor.id.label("id"),
            Monitor.model_id,
            Monitor.name,
            Monitor.kind,
            Monitor.config["version"].as_string().label("version"),
            Monitor.enabled,
            MonitorResult.id.label("result_id"),
            *_POINT_COLUMNS,
        )
        .outerjoin(MonitorResult, MonitorResult.id == latest_id)
        .order_by(Monitor.name)
    )
    if model_id is not None:
        query = query.where(Monitor.model_id == model_id)
    found: dict[int, list[MonitorOverview]] = {}
    for row in connection.execute(query).all():
        overview = MonitorOverview(
            id=row.id,
            name=row.name,
            kind=row.kind,
            version=row.version,
            enabled=bool(row.enabled),
            latest=None if row.result_id is None else _point(row[-len(_POINT_COLUMNS) :]),
        )
        found.setdefault(row.model_id, []).append(overview)
    return found


def _open_alerts(connection: Connection) -> dict[str, dict[tuple[str, str], int]]:
    """Pending and firing alerts counted by model label, then by (state, rule severity)."""
    query = (
        sa.select(Alert.labels["model"].as_string().label("model"), Alert.state, AlertRule.severity)
        .join(AlertRule, AlertRule.id == Alert.rule_id)
        .where(Alert.state.in_(_OPEN_STATES))
    )
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for row in connection.execute(query):
        if row.model is not None:
            per_model = counts.setdefault(row.model, {})
            per_model[row.state, row.severity] = per_model.get((row.state, row.severity), 0) + 1
    return counts


# -- results ------------------------------------------------------------------------------


def _check_monitors(connection: Connection, ids: Sequence[int]) -> None:
    known = set(connection.execute(sa.select(Monitor.id).where(Monitor.id.in_(ids))).scalars())
    missing = [str(i) for i in ids if i not in known]
    if missing:
        raise NotFoundError(
            f"unknown monitor{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )


def result_series(
    engine: Engine,
    monitor_ids: Sequence[int],
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> dict[int, list[ResultPoint]]:
    """The results of each monitor whose window ends in ``(start, end]``, oldest first.

    ``details`` is not read. Every monitor asked for is a key, with an empty list when it
    has no result in the range; None leaves that side of the range open.

    Raises
    ------
    NotFoundError
        If a monitor id is unknown.
    """
    ids = list(dict.fromkeys(monitor_ids))
    series: dict[int, list[ResultPoint]] = {i: [] for i in ids}
    if not ids:
        return series
    # Sorted here, not by the database: PostgreSQL would sort the summaries' text too (and
    # spill to disk); the rows mostly come in insertion order, which timsort takes in O(n).
    query = sa.select(MonitorResult.id, *_POINT_COLUMNS).where(MonitorResult.monitor_id.in_(ids))
    if start is not None:
        query = query.where(MonitorResult.window_end > start)
    if end is not None:
        query = query.where(MonitorResult.window_end <= end)
    with engine.connect() as connection:
        _check_monitors(connection, ids)
        rows = sorted(connection.execute(query).all(), key=_series_order)
    for row in rows:
        series[row[1]].append(_point(row[1:]))
    return series


def _series_order(row: Any) -> tuple[int, dt.datetime, int]:
    return row[1], row[3], row[0]  # monitor, window end, id


def _has_details() -> sa.ColumnElement[bool]:
    return sa.and_(MonitorResult.details.is_not(None), MonitorResult.details != sa.JSON.NULL)


def result_detail(
    engine: Engine, monitor_id: int, *, window_end: dt.datetime | None = None
) -> ResultDetail | None:
    """The monitor's result of the window ending at ``window_end``, or its newest result.

    None when there is no such result.

    Raises
    ------
    NotFoundError
        If the monitor is unknown.
    """
    query = sa.select(*_POINT_COLUMNS, _DETAILS_TEXT).where(MonitorResult.monitor_id == monitor_id)
    if window_end is not None:
        query = query.where(MonitorResult.window_end == window_end)
    query = query.order_by(MonitorResult.window_end.desc(), MonitorResult.id.desc()).limit(1)
    with engine.connect() as connection:
        _check_monitors(connection, [monitor_id])
        row = connection.execute(query).one_or_none()
    if row is None:
        return None
    return ResultDetail(_point(row[: len(_POINT_COLUMNS)]), _loads(row.details))


def details_history(
    engine: Engine, monitor_id: int, *, until: dt.datetime | None, limit: int
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    """``(window_end, details)`` of the monitor's last ``limit`` results that have details
    and end at or before ``until`` (None: no bound), oldest first.

    Raises
    ------
    NotFoundError
        If the monitor is unknown.
    ValueError
        If ``limit`` is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = sa.select(MonitorResult.window_end, _DETAILS_TEXT).where(
        MonitorResult.monitor_id == monitor_id, _has_details()
    )
    if until is not None:
        query = query.where(MonitorResult.window_end <= until)
    query = query.order_by(MonitorResult.window_end.desc(), MonitorResult.id.desc()).limit(limit)
    with engine.connect() as connection:
        _check_monitors(connection, [monitor_id])
        rows = connection.execute(query).all()
    return [(row.window_end, _loads(row.details)) for row in reversed(rows)]


def feature_history(
    engine: Engine,
    monitor_id: int,
    feature: str,
    *,
    until: dt.datetime | None,
    limit: int,
    since: dt.datetime | None = None,
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    """``(window_end, row)`` of the monitor's last ``limit`` results whose details list
    ``feature`` in ``columns`` and that end after ``since`` and at or before ``until`` (None:
    no bound), oldest first; ``row`` is that feature's entry of ``details["columns"]``.

    For one feature's history: on PostgreSQL the row is picked out in the database, which
    spares turning the whole JSONB details of a wide model into text (about a millisecond
    a result for 200 features); SQLite parses each whole details either way.

    Raises
    ------
    NotFoundError
        If the monitor is unknown.
    ValueError
        If ``limit`` is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    where = [MonitorResult.monitor_id == monitor_id]
    if until is not None:
        where.append(MonitorResult.window_end <= until)
    if since is not None:
        where.append(MonitorResult.window_end > since)
    with engine.connect() as connection:
        _check_monitors(connection, [monitor_id])
        if connection.dialect.name == "postgresql":
            found = _feature_rows_in_postgresql(connection, where, feature, limit)
        else:
            query = (
                sa.select(MonitorResult.window_end, _DETAILS_TEXT)
                .where(*where, _has_details())
                .order_by(MonitorResult.window_end.desc(), MonitorResult.id.desc())
            )
            found = []
            for row in connection.execute(query):  # read lazily, until ``limit`` match
                entry = _column(_loads(row.details), feature)
                if entry is not None:
                    found.append((row.window_end, entry))
                    if len(found) == limit:
                        break
    return sorted(found, key=_first)


def _first(item: tuple[dt.datetime, Any]) -> dt.datetime:
    return item[0]


def _feature_rows_in_postgresql(
    connection: Connection, where: Sequence[sa.ColumnElement[bool]], feature: str, limit: int
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    row = sa.func.jsonb_path_query_first(  # NULL for SQL NULL and JSON null details too
        MonitorResult.details,
        sa.cast(sa.literal("$.columns[*] ? (@.name == $name)"), JSONPATH),
        sa.func.jsonb_build_object("name", feature),
    )
    # Ordered as the index (monitor, window end) alone and fenced by OFFSET 0, so that
    # PostgreSQL reads the index backwards and runs the path only until ``limit`` rows
    # match. A tie-break on id, or an ORDER BY outside, makes it run the path on every
    # result and sort (measured on 2,160 results of 200 features: 170 ms instead of 60).
    inner = (
        sa.select(MonitorResult.window_end, sa.cast(row, sa.Text).label("row"))
        .where(*where)
        .order_by(MonitorResult.window_end.desc())
        .offset(0)
        .subquery()
    )
    query = sa.select(inner.c.window_end, inner.c.row).where(inner.c.row.is_not(None))
    return [(r.window_end, _loads(r.row)) for r in connection.execute(query.limit(limit))]


def _column(details: Any, feature: str) -> dict[str, Any] | None:
    """The entry of ``feature`` in ``details["columns"]``, if any."""
    columns = details.get("columns") if isinstance(details, dict) else None
    for entry in columns if isinstance(columns, list) else ():
        if isinstance(entry, dict) and entry.get("name") == feature:
            return entry
    return None
