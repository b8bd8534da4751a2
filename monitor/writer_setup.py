"""``driftline writer``: store the batches the sidecars publish to NATS JetStream.

The process runs a :class:`collectors.stream_writer.StreamWriter` (``--workers`` consumer
threads on the project's stream) and serves ``/healthz``, ``/readyz`` and ``/metrics`` on
``--port``. SIGTERM or Ctrl-C stops the HTTP server, then the workers: each finishes the
insert it is in and hands back the batches it had not started.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collectors.stream_writer import StreamWriter
from collectors.writer_metrics import WriterMetrics
from monitor.database import open_database
from monitor.errors import ConfigError
from monitor.project import Project
from monitor.registration import register_project_models
from monitor.servers import http_server, serve_all
from monitor.settings import Settings
from monitor.transport_setup import jetstream_config
from storage import display_url

__all__ = ["create_writer_app", "run_writer"]

logger = logging.getLogger(__name__)


def run_writer(
    settings: Settings, project: Project | None, path: Path | None, *, port: int, workers: int
) -> None:
    """Store the stream's batches until interrupted.

    Raises
    ------
    ConfigError
        The project file does not choose the ``jetstream`` transport.
    """
    if project is None:
        raise ConfigError(
            "driftline writer needs a project file with transport: {type: jetstream}: "
            "pass --project, set DRIFTLINE_PROJECT_FILE, or create ./driftline.yaml"
        )
    if project.transport.type != "jetstream":
        raise ConfigError(
            f"{path}: transport.type is {project.transport.type!r}; driftline writer stores "
            "what sidecars publish with type: jetstream"
        )
    config = jetstream_config(project.transport)
    with ExitStack() as stack:
        engine = open_database(settings)
        stack.callback(engine.dispose)
        register_project_models(engine, project)
        registry = CollectorRegistry(auto_describe=True)
        writer = StreamWriter(engine, config, metrics=WriterMetrics(registry), workers=workers)
        writer.start()
        stack.callback(writer.stop)
        logger.info(
            "writer: %d workers on stream %s (consumer %s) at %s, writing into %s; "
            "metrics on http://%s:%d/metrics",
            workers,
            config.stream,
            config.consumer,
            ", ".join(config.servers),
            display_url(engine.url),
            settings.host,
            port,
        )
        serve_all([http_server(create_writer_app(writer, registry), settings.host, port)])
        logger.info("writer: stopping; batches in flight are finished or handed back")


def create_writer_app(writer: StreamWriter, registry: CollectorRegistry) -> Starlette:
    """``/healthz`` (the process is up), ``/readyz`` (every worker runs), ``/metrics``."""

    async def healthz(request: Request) -> Response:
        return _json(200, {"live": True})

    async def readyz(request: Request) -> Response:
        alive, total = writer.alive, writer.workers
        body: dict[str, object] = {"ready": alive == total, "workers": total, "running": alive}
        return _json(200 if alive == total else 503, body)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    )


def _json(status: int, body: dict[str, object]) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
