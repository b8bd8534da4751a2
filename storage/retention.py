"""Retention: deleting raw prediction records, and the labels they leave behind, past a cutoff.

Deletes run in bounded batches, each its own short write transaction, so a large prune never
holds a lock (or the SQLite write lock) for long, nor grows one giant transaction log. A
batch deletes by primary key the ids a ``LIMIT``-ed subselect picks for one model along the
``(model_id, timestamp_us)`` index, oldest first; the next batch of that model starts at the
newest timestamp the last one deleted, so it never walks the index entries of rows already
gone. On PostgreSQL the ids are collected with ``= ANY(ARRAY(subselect))``, which pins the
plan to the subselect followed by primary-key lookups (``IN (subselect)`` is planned as a
hash semi-join over a sequential scan of the whole table).

Labels are kept while a record joins them (same model and request id), and deleted once
both their last write (``received_at``) is older than the cutoff and no record joins them.
The age guard keeps labels that arrived before their record: feedback is written straight
into the store while records may still wait in a collector's spool. So a label outlives its
record by at most the retention period after its last write. They go after the records, in
batches in id order; ``received_at`` has no index, so that pass reads the whole label table
once, probing the records' ``(model_id, request_id)`` unique index only for labels older
than the cutoff. Monitor results, alerts, reference datasets, models and the category
dictionary are never touched.

On PostgreSQL, where the records table is partitioned by time (:mod:`storage.partitions`),
a prune of every model drops whole partitions instead: each partition whose upper bound is
at or before the cutoff goes in one ``DROP TABLE`` (one batch), and rows of the partition
straddling the cutoff stay until it has expired whole, so a record lives up to one
partition interval past the cutoff. Deleting those rows one by one would delete every row
one by one, since each passes through the straddling partition before its partition
expires. A prune of one model (``model_name``) still deletes rows in batches: a partition
holds every model's records.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import QueryableAttribute, aliased

from storage.engine import write_transaction
from storage.errors import NotFoundError
from storage.models import GroundTruthLabel, Model, PredictionRecord
from storage.partitions import drop_expired, expired_partitions, is_partitioned

__all__ = ["PruneCounts", "PruneResult", "count_prunable", "prune_records"]

logger = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INT64_MIN = -(2**63)


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What one call of :func:`prune_records` deleted."""

    records_deleted: int
    labels_deleted: int
    #: Delete transactions that removed at least one row.
    batches: int
    #: False when ``max_batches`` stopped the call; more rows may be due then.
    finished: bool
    #: Wall time of the call.
    seconds: float
    #: Whole partitions dropped (PostgreSQL; their records are in ``records_deleted``).
    partitions_dropped: int = 0


@dataclass(frozen=True, slots=True)
class PruneCounts:
    """What :func:`prune_records` would delete now, as counted by :func:`count_prunable`."""

    records: int
    labels: int
    #: Partitions that would be dropped whole (PostgreSQL, every model).
    partitions: int = 0


def prune_records(
    engine: Engine,
    *,
    older_than: dt.datetime,
    batch_size: int = 10_000,
    max_batches: int | None = None,
    model_name: str | None = None,
    whole_partitions: bool = True,
) -> PruneResult:
    """Delete prediction records with an event time before ``older_than``, then stale labels.

    Records are deleted model by model, oldest first, at most ``batch_size`` per
    transaction; on partitioned PostgreSQL, without ``model_name``, whole partitions wholly
    before ``older_than`` are dropped instead, one per batch. Then labels last written
    before ``older_than`` that no record joins any more are deleted, in batches of the same
    size. A record at exactly ``older_than`` is kept.

    Parameters
    ----------
    engine
        The store.
    older_than
        Timezone-aware cutoff.
    batch_size
        Rows deleted per transaction (at least 1).
    max_batches
        Stop after this many batches (at least 1), with ``finished=False``; None for no
        bound. A later call carries on where this one stopped.
    model_name
        Prune only this model's records and labels; None for every model.
    whole_partitions
        Where the records table is partitioned, drop whole partitions (without
        ``model_name``); False deletes rows in batches there too, to the exact cutoff.

    Returns
    -------
    PruneResult
        Counts, batches, whether the pass finished, and its wall time.

    Raises
    ------
    ValueError
        If ``older_than`` is naive, or ``batch_size`` or ``max_batches`` is below 1.
    NotFoundError
        If ``model_name`` names no registered model.
    """
    started = time.perf_counter()
    cutoff_us = _cutoff_us(older_than)
    _check_positive("batch_size", batch_size)
    if max_batches is not None:
        _check_positive("max_batches", max_batches)
    with engine.connect() as connection:
        model_ids = _model_ids(connection, model_name)
        whole = whole_partitions and model_name is None and is_partitioned(connection)
    budget = _Budget(max_batches)
    dropped = 0
    if whole:
        records, dropped = _drop_partitions(engine, cutoff_us, budget)
    else:
        records = sum(_record_batches(engine, m, cutoff_us, batch_size, budget) for m in model_ids)
    labels = 0
    if not budget.exhausted:
        only = model_ids[0] if model_name is not None else None
        labels = _label_batches(engine, only, older_than, batch_size, budget)
    return PruneResult(
        records_deleted=records,
        labels_deleted=labels,
        batches=budget.used,
        finished=not budget.exhausted,
        seconds=time.perf_counter() - started,
        partitions_dropped=dropped,
    )


def count_prunable(
    engine: Engine,
    *,
    older_than: dt.datetime,
    model_name: str | None = None,
    whole_partitions: bool = True,
) -> PruneCounts:
    """Count what :func:`prune_records` would delete with the same arguments, deleting nothing.

    Labels are counted as the records' deletion would leave them: last written before
    ``older_than`` and joined by no record that stays. On partitioned PostgreSQL without
    ``model_name`` (and unless ``whole_partitions`` is False), records are counted in the
    partitions that would be dropped.

    Raises
    ------
    ValueError
        If ``older_than`` is naive.
    NotFoundError
        If ``model_name`` names no registered model.
    """
    cutoff_us = _cutoff_us(older_than)
    record, label = PredictionRecord, GroundTruthLabel
    with engine.connect() as connection:
        model_ids = _model_ids(connection, model_name)
        expired = None
        if whole_partitions and model_name is None and is_partitioned(connection):
            expired = expired_partitions(connection, cutoff_us)
            # Partitions do not overlap: every record that stays is at or after this.
            cutoff_us = max((p.upper_us for p in expired), default=_INT64_MIN)
        record_count = sum(
            connection.execute(
                sa.select(sa.func.count())
                .select_from(record)
                .where(record.model_id == model_id, record.timestamp_us < cutoff_us)
            ).scalar_one()
            for model_id in model_ids
        )
        surviving = sa.exists().where(
            record.model_id == label.model_id,
            record.request_id == label.request_id,
            record.timestamp_us >= cutoff_us,
        )
        query = (
            sa.select(sa.func.count())
            .select_from(label)
            .where(label.received_at < older_than, ~surviving)
        )
        if model_name is not None:
            query = query.where(label.model_id == model_ids[0])
        label_count = connection.execute(query).scalar_one()
    partitions = 0 if expired is None else len(expired)
    return PruneCounts(records=int(record_count), labels=int(label_count), partitions=partitions)


class _Budget:
    """Batches a call may still run."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.exhausted = False

    def take(self) -> bool:
        """Whether another batch may run; marks the call unfinished when not."""
        if self.limit is not None and self.used >= self.limit:
            self.exhausted = True
        return not self.exhausted


def _drop_partitions(engine: Engine, cutoff_us: int, budget: _Budget) -> tuple[int, int]:
    """Drop the partitions wholly before ``cutoff_us``, one per batch: (records, partitions)."""
    allowed = None if budget.limit is None else max(budget.limit - budget.used, 0)
    dropped, finished = drop_expired(engine, cutoff_us, max_partitions=allowed)
    budget.used += len(dropped)
    if not finished:
        budget.exhausted = True
    return sum(d.records for d in dropped), len(dropped)


def _record_batches(
    engine: Engine, model_id: int, cutoff_us: int, size: int, budget: _Budget
) -> int:
    """Delete one model's records before ``cutoff_us``, oldest first."""
    candidate = aliased(PredictionRecord, name="candidate")

    def batch(connection: Connection, low: int) -> Sequence[int]:
        ids = (
            sa.select(candidate.id)
            .where(
                candidate.model_id == model_id,
                candidate.timestamp_us >= low,
                candidate.timestamp_us < cutoff_us,
            )
            .order_by(candidate.timestamp_us)
            .limit(size)
        )
        statement = sa.delete(PredictionRecord).where(
            _pick(connection, PredictionRecord.id, ids),
            # Redundant with the ids, but lets PostgreSQL skip partitions outside the range.
            PredictionRecord.timestamp_us >= low,
            PredictionRecord.timestamp_us < cutoff_us,
        )
        return (
            connection.execute(statement.returning(PredictionRecord.timestamp_us)).scalars().all()
        )

    return _run(engine, batch, what="records", start=_INT64_MIN, size=size, budget=budget)


def _label_batches(
    engine: Engine, model_id: int | None, older_than: dt.datetime, size: int, budget: _Budget
) -> int:
    """Delete labels last written before ``older_than`` that no record joins, in id order."""
    record = aliased(PredictionRecord, name="record")
    candidate = aliased(GroundTruthLabel, name="candidate")
    # A scalar subquery, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join,
    # which it plans as a hash join over a sequential scan of every record, in every
    # batch. This form stays a probe of the (model_id, request_id) unique index per label.
    joined = (
        sa.select(sa.literal_column("1"))
        .where(record.model_id == candidate.model_id, record.request_id == candidate.request_id)
        .limit(1)
        .scalar_subquery()
    )

    def batch(connection: Connection, after: int) -> Sequence[int]:
        ids = (
            sa.select(candidate.id)
            .where(candidate.id > after, candidate.received_at < older_than, joined.is_(None))
            .order_by(candidate.id)
            .limit(size)
        )
        if model_id is not None:
            ids = ids.where(candidate.model_id == model_id)
        statement = sa.delete(GroundTruthLabel).where(_pick(connection, GroundTruthLabel.id, ids))
        return connection.execute(statement.returning(GroundTruthLabel.id)).scalars().all()

    return _run(engine, batch, what="labels", start=0, size=size, budget=budget)


def _run(
    engine: Engine,
    batch: Callable[[Connection, int], Sequence[int]],
    *,
    what: str,
    start: int,
    size: int,
    budget: _Budget,
) -> int:
    """Run ``batch`` in its own write transaction until it deletes fewer than ``size`` rows.

    ``batch`` returns the sort keys of the rows it deleted; the largest is where the next
    batch starts, so no batch walks past rows a previous one deleted.
    """
    cursor = start
    deleted = 0
    while budget.take():
        with write_transaction(engine) as connection:
            keys = batch(connection, cursor)
        if not keys:
            break
        budget.used += 1
        deleted += len(keys)
        logger.debug("retention batch %d: deleted %d %s", budget.used, len(keys), what)
        if len(keys) < size:
            break
        cursor = max(keys)
    return deleted


def _pick(
    connection: Connection, key: QueryableAttribute[int], ids: sa.Select[int]
) -> sa.ColumnElement[bool]:
    """``key`` is one of the ids the subselect returns, in the form each back end plans well."""
    if connection.dialect.name == "postgresql":
        return key == sa.any_(sa.func.array(ids.scalar_subquery()))
    return key.in_(ids)


def _model_ids(connection: Connection, model_name: str | None) -> list[int]:
    if model_name is None:
        return list(connection.execute(sa.select(Model.id).order_by(Model.id)).scalars())
    model_id = connection.execute(
        sa.select(Model.id).where(Model.name == model_name)
    ).scalar_one_or_none()
    if model_id is None:
        known = connection.execute(sa.select(Model.name).order_by(Model.name)).scalars().all()
        msg = f"unknown model {model_name!r}; registered models: {', '.join(known) or 'none'}"
        raise NotFoundError(msg)
    return [model_id]


def _cutoff_us(older_than: dt.datetime) -> int:
    """Microseconds since the epoch of an aware cutoff."""
    if older_than.tzinfo is None or older_than.utcoffset() is None:
        msg = f"older_than must be timezone-aware, got naive {older_than.isoformat()}"
        raise ValueError(msg)
    return (older_than - _EPOCH) // dt.timedelta(microseconds=1)


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        msg = f"{name} must be at least 1, got {value}"
        raise ValueError(msg)
