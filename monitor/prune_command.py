"""The work of ``driftline db prune``: the cutoff, then a prune or a dry-run count.

The command itself, in :mod:`monitor.cli`, only parses options and prints what these return.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from monitor.errors import ConfigError
from monitor.project.durations import parse_duration
from monitor.settings import Settings
from storage import count_prunable, prune_records

__all__ = ["prune_cutoff", "run_prune"]


def prune_cutoff(
    older_than: str | None, settings: Settings, *, now: dt.datetime
) -> dt.datetime | None:
    """The moment before which records go: ``now`` minus ``--older-than`` or the setting.

    Parameters
    ----------
    older_than
        A duration such as ``30d`` or ``12h``; None to use ``settings.retention_days``.
    settings
        The process settings.
    now
        Timezone-aware current time.

    Returns
    -------
    datetime.datetime or None
        The cutoff, or None when no duration was given and retention is off.

    Raises
    ------
    ConfigError
        If ``older_than`` is not a duration longer than zero, or reaches before year 1.
    """
    if older_than is None:
        if settings.retention_days is None:
            return None
        return now - dt.timedelta(days=settings.retention_days)
    try:
        age = parse_duration(older_than)
    except ValueError as error:
        raise ConfigError(f"--older-than: {error}") from None
    if age <= dt.timedelta(0):
        raise ConfigError(f"--older-than must be longer than 0s, got {older_than!r}")
    try:
        return now - age
    except OverflowError:
        raise ConfigError(f"--older-than {older_than!r} reaches before year 1") from None


def run_prune(
    engine: Engine,
    *,
    cutoff: dt.datetime,
    model_name: str | None,
    batch_size: int,
    dry_run: bool,
    exact: bool = False,
) -> str:
    """Prune (or with ``dry_run`` only count) records before ``cutoff``; a one-line summary.

    On partitioned PostgreSQL whole partitions are dropped (records of the partition
    straddling the cutoff stay until it has expired whole), unless ``exact`` asks for rows
    to be deleted up to the cutoff.

    Raises
    ------
    storage.NotFoundError
        If ``model_name`` names no registered model.
    """
    scope = f"of model {model_name!r}" if model_name else "of every model"
    when = cutoff.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    whole = not exact
    if dry_run:
        counts = count_prunable(
            engine, older_than=cutoff, model_name=model_name, whole_partitions=whole
        )
        return (
            f"dry run: would delete {counts.records} records and {counts.labels} labels "
            f"{scope} older than {when}{_partitions(counts.partitions)}"
        )
    result = prune_records(
        engine,
        older_than=cutoff,
        batch_size=batch_size,
        model_name=model_name,
        whole_partitions=whole,
    )
    return (
        f"deleted {result.records_deleted} records and {result.labels_deleted} labels "
        f"{scope} older than {when} in {result.batches} batches"
        f"{_partitions(result.partitions_dropped)}, {result.seconds:.2f} s"
    )


def _partitions(count: int) -> str:
    """`` (N whole partitions)`` when partitions are (to be) dropped."""
    if not count:
        return ""
    return f" ({count} whole partition{'s' if count != 1 else ''})"
