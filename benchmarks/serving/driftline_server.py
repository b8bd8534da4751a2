"""``driftline serve``'s server for the benchmark, with the tap on or off.

``on``: every batch goes through the real collector in this process (a bounded queue, the
spool with fsync per append, bulk inserts into a SQLite store), as ``driftline serve``
records by default. ``push:URL:TOKEN_FILE``: every batch is pushed to a sidecar process
(``driftline serve --tap-to``), which records it. ``off``: no tap.
Run as ``python driftline_server.py MODEL PORT on|off|push:URL:TOKEN_FILE [WORKERS [GRPC_PORT]]``:
with more than one worker, ``serving.workers.Supervisor`` runs them as ``driftline serve
--workers`` does (each worker with its own push tap); a gRPC port serves gRPC as well.
"""

from __future__ import annotations

import shutil
import sys
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import uvicorn
from prometheus_client import CollectorRegistry

from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.spool import Spool
from collectors.tap import CollectorTap
from collectors.tap_push import PushTap
from serving.config import BatchingConfig, FeatureInput, ModelConfig
from serving.server import Server, create_server
from serving.tap import Tap
from serving.workers import Supervisor, WorkerContext, WorkerPlan
from storage import FeatureSpec, create_engine, create_session_factory, register_model, sqlite_url
from storage.migrations import upgrade

FEATURES = tuple(f"f{i}" for i in range(20))


def recording_tap(folder: Path, registry: CollectorRegistry) -> Tap:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    engine = create_engine(sqlite_url(folder / "store.db"))
    upgrade(engine)
    with create_session_factory(engine)() as session, session.begin():
        register_model(
            session,
            name="clf",
            task="binary_classification",
            version="1",
            classes=("0", "1"),
            features=[FeatureSpec(name, "numeric") for name in FEATURES],
        )
    collector = Collector(engine, Spool(folder / "spool"), metrics=CollectorMetrics(registry))
    collector.start()
    return CollectorTap(collector)


def model_config(model_path: str) -> ModelConfig:
    return ModelConfig(
        name="clf",
        version="1",
        runtime="sklearn",
        uri=model_path,
        allow_pickle=True,
        features=tuple(FeatureInput(name) for name in FEATURES),
        batching=BatchingConfig(max_batch_size=64, max_batch_delay_ms=1.0),
    )


def push_tap(tap: str, registry: CollectorRegistry) -> PushTap:
    url, _, token_file = tap.removeprefix("push:").rpartition(":")
    return PushTap(url, registry=registry, token=Path(token_file).read_text().strip())


def build_worker(
    model_path: str, tap: str, grpc_port: int | None, context: WorkerContext, stack: ExitStack
) -> Server:
    """One worker's server (runs in the worker process)."""
    registry = CollectorRegistry()
    chosen: Tap | None = None
    if tap.startswith("push:"):
        pushed = push_tap(tap, registry)
        stack.callback(pushed.close)
        chosen = pushed
    return create_server(
        [model_config(model_path)],
        tap=chosen,
        registry=registry,
        grpc_port=grpc_port,
        grpc_reuse_port=True,
        deployer=context.deployer,
    )


def main() -> None:
    model_path, port, tap = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    grpc_port = int(sys.argv[5]) if len(sys.argv) > 5 else None
    if workers > 1:
        if tap == "on":
            raise SystemExit("workers record through a sidecar here: use push or off")
        plan = WorkerPlan(
            build=partial(build_worker, model_path, tap, grpc_port),
            host="127.0.0.1",
            port=port,
            workers=workers,
            grpc_port=grpc_port,
            grace_seconds=10,
            preload=("driftline_server", "sklearn.linear_model"),
        )
        Supervisor(plan).run()
        return
    config = model_config(model_path)
    registry = CollectorRegistry()
    folder = Path(model_path).parent / f"recording-{port}"
    chosen: Tap | None = None
    if tap == "on":
        chosen = recording_tap(folder, registry)
    elif tap.startswith("push:"):
        chosen = push_tap(tap, registry)
    server = create_server([config], tap=chosen, registry=registry, grpc_port=grpc_port)
    uvicorn.run(
        server.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
