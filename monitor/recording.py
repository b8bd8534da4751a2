"""Starting a collector for a process that records predictions (``serve``, ``sidecar``).

With the project's ``transport: {type: jetstream}``, the collector publishes its spooled
batches to the JetStream stream instead of writing them into the store.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.spool import Spool
from monitor.database import open_database
from monitor.project import Project
from monitor.registration import register_project_models
from monitor.settings import Settings

__all__ = ["Recording", "start_recording"]


@dataclass(frozen=True, slots=True)
class Recording:
    """The store, the spool and the running collector of one process."""

    engine: Engine
    spool: Spool
    collector: Collector


def start_recording(
    settings: Settings,
    project: Project | None,
    *,
    spool_name: str,
    registry: CollectorRegistry,
    stack: ExitStack,
) -> Recording:
    """Open the store (registering the project's models), the spool
    ``<data dir>/spool/<spool_name>`` and a started collector; ``stack`` stops them in
    reverse order (what the collector could not write stays in the spool)."""
    engine = open_database(settings)
    stack.callback(engine.dispose)
    if project is not None:
        register_project_models(engine, project)
    spool = Spool(settings.data_dir / "spool" / spool_name, quota_bytes=settings.spool_quota_bytes)
    stack.callback(spool.close)
    publisher = None
    if project is not None and project.transport.type == "jetstream":
        # nats-py (and the aiohttp it imports) costs about 0.5 s: only where it is used.
        from collectors.publisher import JetStreamPublisher, PublisherMetrics
        from monitor.transport_setup import jetstream_config

        publisher = JetStreamPublisher(
            jetstream_config(project.transport),
            metrics=PublisherMetrics(registry),
            name=f"driftline-{spool_name}",
        )
        stack.callback(publisher.close)
    collector = Collector(engine, spool, metrics=CollectorMetrics(registry), publisher=publisher)
    collector.start()
    stack.callback(collector.stop)
    return Recording(engine, spool, collector)
