"""From the project file and settings to a running inference server (``driftline serve``)."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from monitor import __version__
from monitor.online_setup import learning_config, start_learning
from monitor.project import Project
from monitor.project.serving_specs import ServingSpec
from monitor.settings import Settings
from serving.admin import AdminPolicy
from serving.composite import CompositeConfig, EnsembleConfig, PipelineConfig, PipelineStep
from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.server import Server, create_server
from serving.tap import Tap
from storage import display_url

if TYPE_CHECKING:
    from serving.workers import WorkerContext

__all__ = ["admin_policy", "build_server", "model_configs", "run_server"]

logger = logging.getLogger(__name__)


def model_configs(project: Project, project_dir: Path) -> list[ModelConfig]:
    """The serving configuration of every project model that has a ``serving`` block.

    Relative model paths are resolved against the project file's directory. Pipelines and
    ensembles become composite configurations (the server deploys them after their members).
    """
    configs = []
    for model in project.models:
        spec = model.serving
        if spec is None:
            continue
        composite = _composite(spec)
        uri = spec.uri or ""
        if composite is None and spec.runtime != "python" and not Path(uri).is_absolute():
            uri = str((project_dir / uri).resolve())
        configs.append(
            ModelConfig(
                name=model.name,
                version=model.version,
                runtime=composite.kind if composite is not None else str(spec.runtime),
                uri=uri,
                features=tuple(
                    FeatureInput(f.name, "numeric" if f.kind == "numeric" else f.kind)  # type: ignore[arg-type]
                    for f in model.features
                ),
                batching=BatchingConfig(
                    max_batch_size=spec.batching.max_batch_size,
                    max_batch_delay_ms=spec.batching.max_batch_delay_ms,
                    max_queue_size=spec.batching.max_queue_size,
                    timeout_ms=spec.batching.timeout_ms,
                ),
                allow_pickle=spec.allow_pickle,
                preprocess=spec.preprocess,
                postprocess=spec.postprocess,
                options=dict(spec.options),
                composite=composite,
                learning=learning_config(model, project_dir),
            )
        )
    return configs


def _composite(spec: ServingSpec) -> CompositeConfig | None:
    if spec.pipeline is not None:
        return PipelineConfig(
            steps=tuple(PipelineStep(step.model, step.inputs) for step in spec.pipeline.steps),
            outputs=spec.pipeline.outputs,
        )
    if spec.ensemble is not None:
        ensemble = spec.ensemble
        return EnsembleConfig(ensemble.members, ensemble.combine, ensemble.outputs)
    return None


def build_server(
    settings: Settings,
    configs: list[ModelConfig],
    *,
    tap: Tap | None = None,
    registry: CollectorRegistry | None = None,
    grace_seconds: float = 30.0,
    worker: WorkerContext | None = None,
) -> Server:
    """The server for ``configs`` with the settings' admin policy, body limit and gRPC port;
    as one of several worker processes when ``worker`` is given."""
    return create_server(
        configs,
        tap=tap,
        admin=admin_policy(settings),
        registry=registry,
        max_body_bytes=settings.max_body_bytes,
        version=__version__,
        grpc_port=settings.grpc_port,
        grpc_host=settings.host,
        grpc_reuse_port=worker is not None,
        shutdown_grace_seconds=worker.grace_seconds if worker is not None else grace_seconds,
        deployer=worker.deployer if worker is not None else None,
    )


def run_server(
    settings: Settings, configs: list[ModelConfig], project: Project | None, *, record: bool
) -> None:
    """Serve until interrupted (uvicorn, uvloop and httptools when installed).

    With ``DRIFTLINE_GRPC_PORT`` set, the same models also answer over gRPC on that port
    (started and stopped with the HTTP app, on its event loop).

    With ``DRIFTLINE_TAP_URL`` set, every batch is pushed to that sidecar, which records it.
    Otherwise, with ``record``, every batch is tapped into the store through a collector in
    this process, with its own spool under ``<data dir>/spool/serve-<port>``; the project's
    models are registered first.

    With more than one worker (``DRIFTLINE_SERVE_WORKERS``, the project file's
    ``serving.workers``), a supervisor runs that many worker processes on the same ports
    (:mod:`monitor.serving_workers`).
    """
    import uvicorn

    from monitor.serving_workers import process_options

    workers, grace_seconds = process_options(settings, project)
    if workers > 1:
        from monitor.serving_workers import run_workers

        run_workers(
            settings, configs, project, record=record, workers=workers, grace_seconds=grace_seconds
        )
        return

    registry = CollectorRegistry(auto_describe=True)
    with ExitStack() as stack:
        tap: Tap | None = None
        if settings.tap_url is not None:
            tap = _push_tap(settings, settings.tap_url, registry, stack)
        elif record:
            tap = _recording_tap(settings, project, registry, stack)
        configs, wrap_learning = start_learning(settings, project, configs, stack)
        server = build_server(
            settings, configs, tap=tap, registry=registry, grace_seconds=grace_seconds
        )
        app = server.app if wrap_learning is None else wrap_learning(server, admin_policy(settings))
        names = ", ".join(f"{c.name} v{c.version}" for c in configs) or "none (use the API)"
        logger.info("serving %s on http://%s:%d", names, settings.host, settings.port)
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=max(1, round(grace_seconds)),
        )


def admin_policy(settings: Settings) -> AdminPolicy:
    """Who may use the admin routes (``DRIFTLINE_ADMIN_TOKEN``) and whether they may load
    pickles (``DRIFTLINE_SERVE_ALLOW_PICKLE``)."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    return AdminPolicy(token=token, allow_pickle=settings.serve_allow_pickle)


def _push_tap(settings: Settings, url: str, registry: CollectorRegistry, stack: ExitStack) -> Tap:
    from collectors.tap_push import PushTap

    token = settings.tap_token.get_secret_value() if settings.tap_token else None
    tap = PushTap(url, registry=registry, token=token)
    stack.callback(tap.close)
    logger.info("pushing every batch to the sidecar at %s", url)
    return tap


def _recording_tap(
    settings: Settings, project: Project | None, registry: CollectorRegistry, stack: ExitStack
) -> Tap:
    from collectors.tap import CollectorTap
    from monitor.recording import start_recording

    recording = start_recording(
        settings, project, spool_name=f"serve-{settings.port}", registry=registry, stack=stack
    )
    logger.info("recording predictions into %s", display_url(recording.engine.url))
    return CollectorTap(recording.collector)
