"""``driftline serve`` with several worker processes (``--workers``, ``serving.workers``).

The supervisor (:class:`serving.workers.Supervisor`) runs in the ``driftline serve`` process;
each worker builds its own server with :func:`build_worker`: the same models, its own
batchers and its own tap. With a sidecar (``DRIFTLINE_TAP_URL``) every worker pushes to it;
recording in-process, each worker has its own spool, ``<data dir>/spool/serve-<port>-<n>``
(a restarted worker takes over the spool of the one it replaces), and the supervisor migrates
the store and registers the project's models once, before the workers start.

Models that learn online (``learning: online``) are learnt by worker 0 alone; the other
workers serve the snapshots it publishes (:mod:`serving.online.service`) and hand the
learning admin routes to it through the supervisor.
"""

from __future__ import annotations

import dataclasses
import logging
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from monitor.errors import ConfigError
from monitor.project import Project
from monitor.settings import Settings
from serving.config import ModelConfig
from serving.errors import ServingError
from serving.server import Server
from serving.tap import Tap
from serving.workers import WorkerContext

if TYPE_CHECKING:
    from serving.online.service import OnlineLearning

__all__ = ["LEARNER_WORKER", "build_worker", "process_options", "run_workers"]

LEARNER_WORKER = 0
"""The worker that learns the models that learn online (the others follow its snapshots)."""

logger = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 30.0
_PRELOAD = ("monitor.serving_workers", "monitor.serving_setup")


def process_options(settings: Settings, project: Project | None) -> tuple[int, float]:
    """How many workers, and the shutdown grace period: the settings (environment, command
    line) over the project file's ``serving`` section, over 1 and 30 s."""
    spec = project.serving if project is not None else None
    workers = settings.serve_workers or (spec.workers if spec is not None else 1)
    grace = settings.serve_grace_seconds or (
        spec.grace_period_seconds if spec is not None else DEFAULT_GRACE_SECONDS
    )
    return workers, grace


def run_workers(
    settings: Settings,
    configs: list[ModelConfig],
    project: Project | None,
    *,
    record: bool,
    workers: int,
    grace_seconds: float,
) -> None:
    """Run ``workers`` worker processes under a supervisor until SIGTERM / Ctrl-C.

    Raises
    ------
    ConfigError
        A port is taken, a worker could not start (a model did not load), or workers kept
        crashing.
    """
    from monitor.logging import configure_logging
    from serving.workers import (
        PortTakenError,
        Supervisor,
        WorkerPlan,
        WorkersFailedError,
        WorkerStartupError,
    )

    recording = record and settings.tap_url is None
    if recording or any(c.learning is not None for c in configs):
        _prepare_store(settings, project)
    plan = WorkerPlan(
        build=partial(build_worker, settings, configs, recording),
        host=settings.host,
        port=settings.port,
        workers=workers,
        grpc_port=settings.grpc_port,
        grace_seconds=grace_seconds,
        setup=partial(configure_logging, settings.log_level, settings.log_format),
        preload=_PRELOAD + (("collectors.tap_push",) if settings.tap_url else ()),
    )
    names = ", ".join(f"{c.name} v{c.version}" for c in configs) or "none (use the API)"
    logger.info(
        "serving %s on http://%s:%d with %d workers", names, settings.host, settings.port, workers
    )
    try:
        Supervisor(plan).run()
    except (PortTakenError, WorkerStartupError, WorkersFailedError) as error:
        raise ConfigError(str(error)) from None


def build_worker(
    settings: Settings,
    configs: list[ModelConfig],
    recording: bool,
    context: WorkerContext,
    stack: ExitStack,
) -> Server:
    """One worker's server (runs in the worker process)."""
    from monitor.online_setup import start_learning
    from monitor.serving_setup import admin_policy, build_server

    registry = CollectorRegistry(auto_describe=True)
    tap: Tap | None = None
    if settings.tap_url is not None:
        from collectors.tap_push import PushTap

        token = settings.tap_token.get_secret_value() if settings.tap_token else None
        push = PushTap(settings.tap_url, registry=registry, token=token)
        stack.callback(push.close)
        tap = push
    elif recording:
        from collectors.tap import CollectorTap
        from monitor.recording import start_recording

        started = start_recording(
            settings.model_copy(update={"auto_migrate": False}),  # migrated by the supervisor
            None,
            spool_name=f"serve-{settings.port}-{context.index}",
            registry=registry,
            stack=stack,
        )
        tap = CollectorTap(started.collector)
    learner = context.index == LEARNER_WORKER
    configs, wrap_learning = start_learning(
        settings.model_copy(update={"auto_migrate": False}),  # migrated by the supervisor
        None,
        configs,
        stack,
        learner=learner,
        remote=None if learner else partial(_learner_call, context),
    )
    server = build_server(settings, configs, tap=tap, registry=registry, worker=context)
    if wrap_learning is None:
        return server
    app = wrap_learning(server, admin_policy(settings))
    if learner:
        context.calls.serve(partial(_learning_action, app.learning))
    return dataclasses.replace(server, app=app)


async def _learner_call(
    context: WorkerContext, model: str, action: str, body: bytes
) -> dict[str, Any]:
    """A learning admin action, handed to the learner worker."""
    result: dict[str, Any] = await context.calls.call(
        LEARNER_WORKER, ("learning", model, action, body)
    )
    return result


async def _learning_action(online: OnlineLearning, payload: Any) -> dict[str, Any]:
    """The learner worker's side of :func:`_learner_call`."""
    kind, model, action, body = payload
    if kind != "learning":
        raise ServingError(f"worker {LEARNER_WORKER} takes no {kind!r} calls")
    return await online.control(model, action, body)


def _prepare_store(settings: Settings, project: Project | None) -> None:
    """Migrate the store and register the project's models once, for all the workers."""
    from monitor.database import open_database
    from monitor.registration import register_project_models
    from storage import display_url

    engine = open_database(settings)
    try:
        if project is not None:
            register_project_models(engine, project)
        logger.info("recording predictions into %s", display_url(engine.url))
    finally:
        engine.dispose()
