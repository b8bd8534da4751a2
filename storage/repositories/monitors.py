"""Monitors and their results: declare, list, store one result per window, resume state.

A monitor's configuration is stored as the JSON the project file or the API validated; the
store does not interpret it. Results are keyed by (monitor, window start, window end):
saving a result for a window that has one replaces it, so re-running a window never
duplicates it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from storage.engine import write_transaction
from storage.errors import ConflictError, NotFoundError
from storage.models import Model, Monitor, MonitorResult
from storage.types import utc_now

__all__ = [
    "MonitorDraft",
    "MonitorInfo",
    "ResultDraft",
    "ResultInfo",
    "ResultPage",
    "delete_monitor",
    "get_monitor",
    "last_window_ends",
    "list_monitors",
    "list_results",
    "load_detector_state",
    "put_monitor",
    "result_windows",
    "save_detector_state",
    "save_result",
    "sync_project_monitors",
]

Source = Literal["project", "api"]
ResultStatus = Literal["ok", "warning", "alarm", "insufficient_data", "error"]
PutMode = Literal["upsert", "create", "replace"]
_MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class MonitorDraft:
    """A monitor as declared: what :func:`put_monitor` stores."""

    name: str
    model_name: str
    kind: str
    config: dict[str, Any]
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class MonitorInfo:
    """A stored monitor."""

    id: int
    name: str
    model_name: str
    kind: str
    config: dict[str, Any]
    enabled: bool
    source: Source
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ResultDraft:
    """The outcome of one run of a monitor over one window."""

    monitor_id: int
    window_start: dt.datetime
    window_end: dt.datetime
    status: ResultStatus
    score: float | None
    sample_size: int
    summary: dict[str, Any]
    details: dict[str, Any] | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ResultInfo:
    """A stored result, with the names of its monitor and model."""

    id: int
    monitor_id: int
    monitor_name: str
    model_name: str
    kind: str
    window_start: dt.datetime
    window_end: dt.datetime
    status: ResultStatus
    score: float | None
    sample_size: int
    summary: dict[str, Any]
    details: dict[str, Any] | None
    computed_at: dt.datetime
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class ResultPage:
    """Results newest window first, and the cursor of the next page (None on the last)."""

    items: list[ResultInfo]
    next_cursor: str | None


_MONITOR_COLUMNS = (
    Monitor.id,
    Monitor.name,
    Model.name.label("model_name"),
    Monitor.kind,
    Monitor.config,
    Monitor.enabled,
    Monitor.source,
    Monitor.created_at,
    Monitor.updated_at,
)


def _monitor_info(row: sa.Row[Any]) -> MonitorInfo:
    return MonitorInfo(
        id=row.id,
        name=row.name,
        model_name=row.model_name,
        kind=row.kind,
        config=dict(row.config),
        enabled=bool(row.enabled),
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _select_monitors() -> sa.Select[Any]:
    return sa.select(*_MONITOR_COLUMNS).join(Model, Model.id == Monitor.model_id)


def find_model_id(connection: Connection, name: str) -> int:
    """The id of the model called ``name``; :class:`NotFoundError` naming the known ones."""
    found = connection.execute(sa.select(Model.id).where(Model.name == name)).scalar()
    if found is None:
        known = connection.execute(sa.select(Model.name).order_by(Model.name)).scalars().all()
        msg = f"unknown model {name!r}; registered models: {', '.join(known) or 'none'}"
        raise NotFoundError(msg)
    return int(found)


def _upsert(
    connection: Connection, draft: MonitorDraft, source: Source, mode: PutMode = "upsert"
) -> None:
    model_id = find_model_id(connection, draft.model_name)
    existing = connection.execute(
        sa.select(Monitor.id, Monitor.source).where(Monitor.name == draft.name)
    ).one_or_none()
    if existing is None and mode == "replace":
        raise NotFoundError(f"unknown monitor {draft.name!r}")
    if existing is not None and mode == "create":
        where = "the project file" if existing.source == "project" else "the API"
        raise ConflictError(f"monitor {draft.name!r} already exists (declared in {where})")
    values = {
        "model_id": model_id,
        "kind": draft.kind,
        "config": draft.config,
        "enabled": draft.enabled,
        "source": source,
    }
    if existing is None:
        now = utc_now()
        connection.execute(
            sa.insert(Monitor).values(name=draft.name, created_at=now, updated_at=now, **values)
        )
        return
    if existing.source != source:
        msg = (
            f"monitor {draft.name!r} is declared in the project file; change it there"
            if existing.source == "project"
            else f"monitor {draft.name!r} was created through the API; delete it there first "
            "or give the project's monitor another name"
        )
        raise ConflictError(msg)
    connection.execute(
        sa.update(Monitor).where(Monitor.id == existing.id).values(updated_at=utc_now(), **values)
    )


def put_monitor(
    engine: Engine, draft: MonitorDraft, *, source: Source = "api", mode: PutMode = "upsert"
) -> MonitorInfo:
    """Create the monitor, or replace the configuration of one with the same name and source.

    ``mode="create"`` refuses a name that exists; ``mode="replace"`` refuses one that does
    not. The check and the write are one transaction, and a concurrent create of the same
    name loses on the unique name with :class:`ConflictError`.

    Raises
    ------
    NotFoundError
        If the model is not registered, or (``replace``) the monitor does not exist.
    ConflictError
        If a monitor of that name comes from the other source (project file or API), or
        (``create``) exists.
    """
    try:
        with write_transaction(engine) as connection:
            _upsert(connection, draft, source, mode)
    except sa.exc.IntegrityError:
        raise ConflictError(f"monitor {draft.name!r} was created at the same time") from None
    return get_monitor(engine, draft.name)


def sync_project_monitors(engine: Engine, drafts: Sequence[MonitorDraft]) -> list[str]:
    """Make the project's monitors in the store exactly ``drafts``, in one transaction.

    Monitors the project file no longer declares are deleted with their results; monitors
    created through the API are left alone. Returns the names deleted.
    """
    names = {draft.name for draft in drafts}
    with write_transaction(engine) as connection:
        for draft in drafts:
            _upsert(connection, draft, "project")
        query = sa.select(Monitor.name).where(
            Monitor.source == "project", Monitor.name.not_in(names)
        )
        stale = connection.execute(query).scalars().all()
        if stale:
            connection.execute(sa.delete(Monitor).where(Monitor.name.in_(stale)))
    return sorted(stale)


def get_monitor(engine: Engine, name: str) -> MonitorInfo:
    """The monitor called ``name``; :class:`NotFoundError` if there is none."""
    with engine.connect() as connection:
        row = connection.execute(_select_monitors().where(Monitor.name == name)).one_or_none()
    if row is None:
        msg = f"unknown monitor {name!r}"
        raise NotFoundError(msg)
    return _monitor_info(row)


def list_monitors(
    engine: Engine, *, model_name: str | None = None, enabled: bool | None = None
) -> list[MonitorInfo]:
    """Monitors by name, optionally of one model or only the enabled (or disabled) ones."""
    query = _select_monitors().order_by(Monitor.name)
    if model_name is not None:
        query = query.where(Model.name == model_name)
    if enabled is not None:
        query = query.where(Monitor.enabled.is_(enabled))
    with engine.connect() as connection:
        return [_monitor_info(row) for row in connection.execute(query)]


def delete_monitor(engine: Engine, name: str, *, source: Source = "api") -> None:
    """Delete a monitor and its results.

    Raises
    ------
    NotFoundError
        If there is no such monitor.
    ConflictError
        If it comes from the other source (a project monitor is removed from the file).
    """
    with write_transaction(engine) as connection:
        found = connection.execute(
            sa.select(Monitor.id, Monitor.source).where(Monitor.name == name)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"unknown monitor {name!r}")
        if found.source != source:
            msg = f"monitor {name!r} is declared in the project file; remove it there"
            raise ConflictError(msg)
        connection.execute(sa.delete(Monitor).where(Monitor.id == found.id))


def save_result(engine: Engine | Connection, draft: ResultDraft) -> int:
    """Store a result, replacing the one of the same monitor and window; returns its id."""
    values = {
        "monitor_id": draft.monitor_id,
        "window_start": draft.window_start,
        "window_end": draft.window_end,
        "status": draft.status,
        "score": draft.score,
        "sample_size": draft.sample_size,
        "summary": draft.summary,
        "details": draft.details,
        "duration_seconds": draft.duration_seconds,
        "computed_at": utc_now(),
    }
    if isinstance(engine, Connection):
        return _save_result(engine, values)
    with write_transaction(engine) as connection:
        return _save_result(connection, values)


def _save_result(connection: Connection, values: dict[str, Any]) -> int:
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    keys = ("monitor_id", "window_start", "window_end")
    statement = insert(MonitorResult).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={k: statement.excluded[k] for k in values if k not in keys},
    ).returning(MonitorResult.id)
    return int(connection.execute(upsert).scalar_one())


def result_windows(
    engine: Engine, monitor_id: int, *, start: dt.datetime, end: dt.datetime
) -> set[tuple[dt.datetime, dt.datetime]]:
    """The windows ``(start, end)`` of a monitor that have a result and lie within the range."""
    query = sa.select(MonitorResult.window_start, MonitorResult.window_end).where(
        MonitorResult.monitor_id == monitor_id,
        MonitorResult.window_start >= start,
        MonitorResult.window_end <= end,
    )
    with engine.connect() as connection:
        return {(row.window_start, row.window_end) for row in connection.execute(query)}


def last_window_ends(engine: Engine, monitor_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """The latest window end with a result, per monitor (monitors without one are absent)."""
    ids = list(monitor_ids)
    if not ids:
        return {}
    query = (
        sa.select(MonitorResult.monitor_id, sa.func.max(MonitorResult.window_end))
        .where(MonitorResult.monitor_id.in_(ids))
        .group_by(MonitorResult.monitor_id)
    )
    with engine.connect() as connection:
        return {int(row[0]): row[1] for row in connection.execute(query)}


def list_results(
    engine: Engine,
    *,
    model_name: str | None = None,
    monitor_name: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    with_details: bool = False,
) -> ResultPage:
    """Results whose window lies in ``[start, end)``, newest window first, a page at a time.

    ``cursor`` is the ``next_cursor`` of the previous page. Raises ``ValueError`` for a
    malformed cursor or a limit outside 1..1000.
    """
    if not 1 <= limit <= _MAX_PAGE:
        msg = f"limit must be between 1 and {_MAX_PAGE}, got {limit}"
        raise ValueError(msg)
    result, monitor = MonitorResult, Monitor
    columns = [
        result.id,
        result.monitor_id,
        monitor.name.label("monitor_name"),
        Model.name.label("model_name"),
        monitor.kind,
        result.window_start,
        result.window_end,
        result.status,
        result.score,
        result.sample_size,
        result.summary,
        result.computed_at,
        result.duration_seconds,
    ]
    if with_details:
        columns.append(result.details)
    query = (
        sa.select(*columns)
        .join(monitor, monitor.id == result.monitor_id)
        .join(Model, Model.id == monitor.model_id)
    )
    if model_name is not None:
        query = query.where(Model.name == model_name)
    if monitor_name is not None:
        query = query.where(monitor.name == monitor_name)
    if start is not None:
        query = query.where(result.window_start >= start)
    if end is not None:
        query = query.where(result.window_end <= end)
    if status is not None:
        query = query.where(result.status == status)
    if cursor is not None:
        after_end, after_id = _parse_cursor(cursor)
        query = query.where(
            sa.or_(
                result.window_end < after_end,
                sa.and_(result.window_end == after_end, result.id < after_id),
            )
        )
    query = query.order_by(result.window_end.desc(), result.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    items = [
        ResultInfo(
            id=row.id,
            monitor_id=row.monitor_id,
            monitor_name=row.monitor_name,
            model_name=row.model_name,
            kind=row.kind,
            window_start=row.window_start,
            window_end=row.window_end,
            status=row.status,
            score=row.score,
            sample_size=row.sample_size,
            summary=dict(row.summary),
            details=dict(row.details) if with_details and row.details is not None else None,
            computed_at=row.computed_at,
            duration_seconds=row.duration_seconds,
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return ResultPage(items=items, next_cursor=_cursor(items[-1]) if more and items else None)


def _cursor(item: ResultInfo) -> str:
    return f"{item.window_end.isoformat()}~{item.id}"


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int]:
    moment, _, ident = cursor.rpartition("~")
    try:
        end = dt.datetime.fromisoformat(moment)
        number = int(ident)
    except ValueError:
        end, number = None, 0
    problem = None
    if end is None or end.tzinfo is None:
        problem = "pass the next_cursor of the previous page"
    elif not 0 < number < 2**63:
        problem = "its id is out of range"
    else:
        try:
            end = end.astimezone(dt.UTC)
        except OverflowError:
            problem = "its instant is out of range"
    if problem is not None or end is None:
        msg = f"malformed cursor {cursor!r}: {problem}"
        raise ValueError(msg)
    return end, number


def load_detector_state(engine: Engine, monitor_id: int) -> dict[str, Any] | None:
    """The streaming detectors' state saved by the monitor's last run, if any."""
    with engine.connect() as connection:
        state = connection.execute(
            sa.select(Monitor.detector_state).where(Monitor.id == monitor_id)
        ).scalar()
    return None if state is None else dict(state)


def save_detector_state(
    engine: Engine | Connection, monitor_id: int, state: dict[str, Any] | None
) -> None:
    """Replace the monitor's streaming detector state."""
    statement = sa.update(Monitor).where(Monitor.id == monitor_id).values(detector_state=state)
    if isinstance(engine, Connection):
        engine.execute(statement)
        return
    with write_transaction(engine) as connection:
        connection.execute(statement)
