"""``driftline monitor``: the REST API, and the scheduler when this process is the leader."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack

from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from dashboards.web.app import dashboard_router
from monitor.alerting.dispatch import Dispatcher, DispatchMetrics
from monitor.alerting.egress import egress_policy
from monitor.alerting.service import AlertingMetrics, AlertingService, sync_project_alerting
from monitor.api import create_api_app
from monitor.dashboard_source import MonitorWindowSource
from monitor.database import open_database
from monitor.partitions import PartitionMetrics, run_partition_upkeep
from monitor.project import Project
from monitor.retention import RetentionMetrics, run_retention
from monitor.scheduling.election import Election
from monitor.scheduling.leader import SQLiteLeadership, leadership_for
from monitor.scheduling.metrics import SchedulerMetrics
from monitor.scheduling.runner import MonitorRunner
from monitor.scheduling.scheduler import MonitorScheduler, PeriodicJob
from monitor.scheduling.sync import check_monitor_params, sync_project
from monitor.servers import http_server, serve_all
from monitor.settings import Settings
from storage import create_session_factory, display_url
from storage.repositories.token_cache import TokenVerifier
from storage.types import utc_now

__all__ = ["build_scheduler", "run_monitor"]

logger = logging.getLogger(__name__)

_RETENTION_EVERY = dt.timedelta(hours=1)
_PARTITIONS_EVERY = dt.timedelta(hours=1)
_NOTIFY_EVERY = dt.timedelta(seconds=5)
_DISPATCH_EVERY = dt.timedelta(seconds=2)


def build_scheduler(
    engine: Engine,
    settings: Settings,
    registry: CollectorRegistry,
    project: Project | None = None,
) -> MonitorScheduler:
    """The scheduler, its runner and its housekeeping jobs (retention, partitions ahead;
    with a project, alert notifications and deliveries), as the settings say."""
    metrics = SchedulerMetrics(registry)
    settle = dt.timedelta(seconds=settings.monitor_settle_seconds)
    # Rules live in the store (from the project file or the API): they are evaluated even
    # when the project declares no channel, so alerts show on the dashboard.
    declared = project if project is not None else Project.model_validate({"version": 1})
    alerting = AlertingService(declared, metrics=AlertingMetrics(registry))
    runner = MonitorRunner(
        engine, metrics=metrics, settle=settle, after_result=alerting.after_result
    )
    retention_metrics = RetentionMetrics(registry)
    partition_metrics = PartitionMetrics(registry)
    periodic = [
        PeriodicJob(
            "retention",
            _RETENTION_EVERY,
            lambda: run_retention(engine, settings, now=utc_now(), metrics=retention_metrics),
        ),
        PeriodicJob(
            "partitions",
            _PARTITIONS_EVERY,
            lambda: run_partition_upkeep(
                engine, settings, now=utc_now(), metrics=partition_metrics
            ),
        ),
    ]
    dispatcher = Dispatcher(
        engine,
        {channel.name: channel for channel in declared.channels},
        policy=egress_policy(settings),
        metrics=DispatchMetrics(registry),
    )
    periodic += [
        PeriodicJob("alert-notifications", _NOTIFY_EVERY, lambda: alerting.notify_now(engine)),
        PeriodicJob("alert-deliveries", _DISPATCH_EVERY, dispatcher.drain),
    ]
    return MonitorScheduler(
        engine,
        runner,
        settle=settle,
        max_windows=settings.monitor_max_catch_up,
        refresh=dt.timedelta(seconds=settings.monitor_refresh_seconds),
        workers=settings.monitor_workers,
        periodic=periodic,
        metrics=metrics,
    )


def run_monitor(
    settings: Settings, project: Project | None, *, port: int, scheduler: bool = True
) -> None:
    """Serve the API until interrupted; schedule monitors while leading.

    On SQLite a second process asking to schedule is refused
    (:class:`~monitor.scheduling.leader.SchedulerLockedError`); on PostgreSQL it stands by
    and takes over when the leader goes.
    """
    if project is not None:
        check_monitor_params(project)  # before touching the database
    with ExitStack() as stack:
        engine = open_database(settings)
        stack.callback(engine.dispose)
        if project is not None:
            deleted = sync_project(engine, project)
            if deleted:
                logger.info("monitors removed from the project file: %s", ", ".join(deleted))
            sync_project_alerting(engine, project)
        registry = CollectorRegistry(auto_describe=True)
        if scheduler:
            monitor_scheduler = build_scheduler(engine, settings, registry, project)
            leadership = leadership_for(engine)
            if isinstance(leadership, SQLiteLeadership):
                leadership.acquire()  # refuses a second scheduler on one SQLite file
            election = Election(
                leadership,
                monitor_scheduler,
                poll=dt.timedelta(seconds=settings.leader_poll_seconds),
                metrics=monitor_scheduler.metrics,
            )
            election.start()
            stack.callback(election.stop)
        verifier = TokenVerifier(create_session_factory(engine)) if settings.api_auth else None
        dashboard = dashboard_router(engine, verifier=verifier, source=MonitorWindowSource(engine))
        app = create_api_app(
            engine,
            auth=settings.api_auth,
            verifier=verifier,
            registry=registry,
            extra_routers=[dashboard],
        )
        logger.info(
            "monitor API and dashboard on http://%s:%d, store %s%s",
            settings.host,
            port,
            display_url(engine.url),
            "" if scheduler else " (scheduler off)",
        )
        serve_all([http_server(app, settings.host, port)])
