"""The periodic retention job: one bounded prune of old raw records per call.

On PostgreSQL, where the records table is partitioned by time, a run drops the partitions
wholly older than the cutoff instead of deleting rows (:func:`storage.prune_records`).

The scheduler calls :func:`run_retention` on its own cadence; each call deletes at most
:data:`MAX_BATCHES_PER_RUN` batches, so it never holds the scheduler for long, and the next
call carries on where it stopped. Metrics go on a registry the caller owns.
"""

from __future__ import annotations

import datetime as dt
import logging

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.engine import Engine

from monitor.settings import Settings
from storage import PruneResult, prune_records

__all__ = ["MAX_BATCHES_PER_RUN", "RetentionMetrics", "run_retention"]

logger = logging.getLogger(__name__)

#: Batches one call deletes at most: 100 of the default 10,000 rows is a million records.
MAX_BATCHES_PER_RUN = 100


class RetentionMetrics:
    """Records deleted by retention, and when it last ran, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.deleted_records = Counter(
            "driftline_retention_deleted_records",
            "Prediction records deleted because they were older than the retention period.",
            registry=registry,
        )
        self.dropped_partitions = Counter(
            "driftline_retention_dropped_partitions",
            "Partitions of the records table dropped whole by retention (PostgreSQL).",
            registry=registry,
        )
        self.last_run = Gauge(
            "driftline_retention_last_run_timestamp_seconds",
            "When retention last ran to completion or to its batch bound (Unix time).",
            registry=registry,
        )

    def observe(self, result: PruneResult, now: dt.datetime) -> None:
        """Count what one run deleted and note when it ran."""
        self.deleted_records.inc(result.records_deleted)
        self.dropped_partitions.inc(result.partitions_dropped)
        self.last_run.set(now.timestamp())


def run_retention(
    engine: Engine,
    settings: Settings,
    *,
    now: dt.datetime,
    metrics: RetentionMetrics | None = None,
) -> PruneResult | None:
    """Delete records older than ``settings.retention_days`` before ``now``, in one bounded pass.

    Parameters
    ----------
    engine
        The store.
    settings
        ``retention_days`` (None turns retention off) and ``retention_batch_size``.
    now
        Timezone-aware current time; the cutoff is ``now - retention_days``.
    metrics
        Updated after each pass, if given.

    Returns
    -------
    PruneResult or None
        What the pass deleted (``finished`` is False when the batch bound stopped it), or
        None when retention is off.

    Raises
    ------
    ValueError
        If ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        msg = f"now must be timezone-aware, got naive {now.isoformat()}"
        raise ValueError(msg)
    if settings.retention_days is None:
        logger.debug("retention is off (DRIFTLINE_RETENTION_DAYS is empty): nothing pruned")
        return None
    cutoff = now - dt.timedelta(days=settings.retention_days)
    result = prune_records(
        engine,
        older_than=cutoff,
        batch_size=settings.retention_batch_size,
        max_batches=MAX_BATCHES_PER_RUN,
    )
    if metrics is not None:
        metrics.observe(result, now)
    level = logging.INFO if result.batches or not result.finished else logging.DEBUG
    logger.log(
        level,
        "retention: deleted %d records and %d labels older than %s in %d batches (%.2f s)%s%s",
        result.records_deleted,
        result.labels_deleted,
        cutoff.isoformat(timespec="seconds"),
        result.batches,
        result.seconds,
        f", {result.partitions_dropped} whole partitions" if result.partitions_dropped else "",
        "" if result.finished else "; more remain, the next run continues",
    )
    return result
