"""Building the inference server from model configurations: the one factory.

Nothing is built at import; every call makes its own registry, repository and app, so tests
and embedding applications get independent servers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from serving.admin import AdminPolicy
from serving.app import ASGIApp, ServingApp
from serving.composite.graph import deploy_order
from serving.config import ModelConfig
from serving.deployer import Deployer
from serving.inference import InferenceService
from serving.metrics import ServingMetrics
from serving.observer import Observer
from serving.repository import ModelRepository
from serving.runtimes.base import Runtime
from serving.runtimes.registry import load_runtime
from serving.tap import NullTap, Tap

if TYPE_CHECKING:
    from serving.grpc.server import GrpcServer

__all__ = ["Server", "create_server", "load_configured_runtime"]

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Server:
    """An assembled server: the ASGI app and the parts an embedding process may want."""

    app: ASGIApp
    """The app to serve: :class:`~serving.app.ServingApp`, or a wrapper of it."""
    repository: ModelRepository
    registry: CollectorRegistry
    grpc: GrpcServer | None = None
    """The gRPC listener, started and stopped by the app's lifespan (None: REST only)."""


def load_configured_runtime(config: ModelConfig) -> Runtime:
    """Load the runtime a configuration names (the default loader)."""
    if config.learning is not None:  # a model that learns online serves its snapshots
        from serving.online.runtime import load_online

        return load_online(config)
    return load_runtime(
        config.runtime,
        config.uri,
        allow_pickle=config.allow_pickle,
        options=config.options,
        feature_names=config.feature_names,
    )


def create_server(
    models: Sequence[ModelConfig],
    *,
    tap: Tap | None = None,
    admin: AdminPolicy | None = None,
    registry: CollectorRegistry | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    load_runtime: Callable[[ModelConfig], Runtime] = load_configured_runtime,
    version: str = "0",
    grpc_port: int | None = None,
    grpc_host: str = "127.0.0.1",
    grpc_reuse_port: bool = False,
    shutdown_grace_seconds: float = 30.0,
    deployer: Deployer | None = None,
) -> Server:
    """Assemble a server that deploys ``models`` when it starts.

    Parameters
    ----------
    models
        Models deployed at startup (composites after their members); a model that fails
        to load fails the startup.
    tap
        Where finished batches go (default: nowhere).
    admin
        Who may load and unload models through the repository API.
    registry
        Prometheus registry for the server's metrics (default: a new one).
    max_body_bytes
        Largest request body accepted (413 above).
    load_runtime
        Loads a model's runtime; replaced in tests and by embedding applications.
    version
        Reported by ``GET /v2`` (and gRPC's ServerMetadata).
    grpc_port, grpc_host
        Also serve the protocol over gRPC there, from the same models, batchers and tap
        (started and stopped with the app); None: REST only, and ``grpc`` is not imported.
    grpc_reuse_port
        Share the gRPC port with other processes (``SO_REUSEPORT``), as worker processes do;
        otherwise a taken port fails the startup.
    shutdown_grace_seconds
        On shutdown, how long gRPC calls in flight may take to finish.
    deployer
        Carries out the repository API's load and unload (default: this server's
        repository; :mod:`serving.workers` passes one that reaches every worker).
    """
    registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
    metrics = ServingMetrics(registry)
    observer = Observer(metrics, tap if tap is not None else NullTap())
    repository = ModelRepository(
        load_runtime=load_runtime, batch_hook=observer.batch_hook, refused=observer.refused
    )
    metrics.track_queues(repository.queue_depths)
    metrics.track_versions(repository.version_states)
    for config in models:
        repository.declare(config)

    service = InferenceService(repository, observer)
    lifecycle = _Lifecycle(repository, tuple(models))
    app = ServingApp(
        repository=repository,
        service=service,
        registry=registry,
        admin=admin if admin is not None else AdminPolicy(),
        max_body_bytes=max_body_bytes,
        version=version,
        on_startup=lifecycle.start,
        on_shutdown=lifecycle.stop,
        deployer=deployer,
    )
    if grpc_port is not None:
        from serving.grpc.server import GrpcServer
        from serving.grpc.service import InferenceServicer

        servicer = InferenceServicer(
            repository=repository, service=service, ready=app.ready, version=version
        )
        lifecycle.grpc = GrpcServer(
            servicer,
            host=grpc_host,
            port=grpc_port,
            max_message_bytes=max_body_bytes,
            grace_seconds=shutdown_grace_seconds,
            reuse_port=grpc_reuse_port,
        )
    return Server(app=app, repository=repository, registry=registry, grpc=lifecycle.grpc)


@dataclass(slots=True)
class _Lifecycle:
    """What the app's lifespan starts and stops besides itself: the declared models and the
    gRPC listener."""

    repository: ModelRepository
    models: tuple[ModelConfig, ...]
    grpc: GrpcServer | None = None

    async def start(self) -> None:
        if self.grpc is not None:
            self.grpc.bind()  # a taken port fails before the models load
        try:
            for config in deploy_order(self.models):
                await self.repository.deploy(config)
        except BaseException:
            await self.stop()
            raise
        if self.grpc is not None:
            await self.grpc.start()

    async def stop(self) -> None:
        if self.grpc is not None:
            await self.grpc.stop()
