"""The periodic partition job: keep partitions of the records table created ahead.

On PostgreSQL the scheduler's leader calls :func:`run_partition_upkeep` hourly (the first
time 30 s after it starts leading); it covers the next ``DRIFTLINE_PARTITION_AHEAD_DAYS``
days with partitions of ``DRIFTLINE_PARTITION_INTERVAL``. Inserts create what is still
missing on demand (:func:`storage.partitions.ensure_covered`), so the job only keeps that
off the hot path.
Old partitions are dropped by retention (:mod:`monitor.retention`). On SQLite it does
nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.engine import Engine

from monitor.settings import Settings
from storage.partitions import Partition, create_ahead

__all__ = ["PartitionMetrics", "run_partition_upkeep"]

logger = logging.getLogger(__name__)


class PartitionMetrics:
    """Partitions the job created ahead, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.created = Counter(
            "driftline_partitions_created_ahead",
            "Partitions of the records table created ahead of time by the monitor.",
            registry=registry,
        )


def run_partition_upkeep(
    engine: Engine,
    settings: Settings,
    *,
    now: dt.datetime,
    metrics: PartitionMetrics | None = None,
) -> list[Partition]:
    """Create the partitions ``[now, now + partition_ahead_days)`` lacks.

    Returns
    -------
    list[Partition]
        The partitions created; none on SQLite or when all exist.

    Raises
    ------
    ValueError
        If ``now`` is naive.
    """
    created = create_ahead(
        engine,
        now=now,
        ahead=dt.timedelta(days=settings.partition_ahead_days),
        interval=settings.partition_interval,
    )
    if metrics is not None:
        metrics.created.inc(len(created))
    if created:
        logger.info(
            "partitions: created %d ahead (%s to %s)",
            len(created),
            created[0].name,
            created[-1].name,
        )
    return created
