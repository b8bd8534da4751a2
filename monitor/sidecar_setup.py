"""``driftline sidecar``: the ingest and feedback APIs in front of a spool and the store."""

from __future__ import annotations

import logging
from contextlib import ExitStack

from prometheus_client import CollectorRegistry

from collectors.auth import TokenAuthorizer
from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.sidecar import IngestService, create_sidecar_app
from collectors.spool import Spool
from monitor.database import open_database
from monitor.project import Project
from monitor.registration import register_project_models
from monitor.settings import Settings
from storage import create_session_factory, display_url
from storage.repositories.token_cache import TokenVerifier

__all__ = ["run_sidecar"]

logger = logging.getLogger(__name__)

_READY_SHARE_OF_QUOTA = 0.95


def run_sidecar(settings: Settings, project: Project | None, *, port: int) -> None:
    """Serve the sidecar until interrupted; what is spooled stays for the next start."""
    import uvicorn

    with ExitStack() as stack:
        engine = open_database(settings)
        stack.callback(engine.dispose)
        if project is not None:
            register_project_models(engine, project)
        spool = Spool(
            settings.data_dir / "spool" / f"sidecar-{port}", quota_bytes=settings.spool_quota_bytes
        )
        stack.callback(spool.close)
        registry = CollectorRegistry(auto_describe=True)
        collector = Collector(engine, spool, metrics=CollectorMetrics(registry))
        collector.start()
        stack.callback(collector.stop)

        def ready() -> bool:
            stats = spool.stats()
            return stats.disk_bytes < _READY_SHARE_OF_QUOTA * stats.quota_bytes

        app = create_sidecar_app(
            IngestService(collector, engine),
            authorize=TokenAuthorizer(TokenVerifier(create_session_factory(engine))),
            registry=registry,
            ready=ready,
            max_body_bytes=settings.max_body_bytes,
        )
        logger.info(
            "sidecar on http://%s:%d, recording into %s",
            settings.host,
            port,
            display_url(engine.url),
        )
        uvicorn.run(
            app,
            host=settings.host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
        )
