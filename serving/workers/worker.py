"""One worker process: a whole server (loop, models, batchers, tap) on the shared ports.

:func:`worker_main` runs in a process the supervisor spawned. It builds the server with the
plan's ``build``, binds its own ``SO_REUSEPORT`` socket on the REST port, and serves with
uvicorn until SIGTERM (graceful: in-flight requests finish within the grace period) or until
the supervisor disappears. :class:`WorkerApp` wraps the server's ASGI app: it replays the
deployments made through the repository API before the worker takes traffic, tells the
supervisor when it is ready, answers ``/metrics`` for all workers, and names the worker in an
``x-driftline-worker: <index>/<pid>`` response header.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.server import Server
from serving.workers.control import (
    BroadcastDeployer,
    CrossWorkerCalls,
    Operation,
    WorkerChannel,
    apply,
)
from serving.workers.gauges import GaugeMirror, exposition_registry, multiprocess_dir
from serving.workers.plan import WorkerContext, WorkerPlan
from serving.workers.sockets import bind_shared

__all__ = ["WORKER_HEADER", "WorkerApp", "worker_main"]

logger = logging.getLogger(__name__)

WORKER_HEADER = b"x-driftline-worker"
"""Response header naming the worker that answered: ``<index>/<pid>``."""

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class WorkerApp:
    """The server's ASGI app, as one worker of several serves it."""

    def __init__(
        self,
        server: Server,
        channel: WorkerChannel,
        operations: list[Operation],
        *,
        index: int,
        gauge_refresh_seconds: float,
        on_lost: Callable[[], None],
    ) -> None:
        self._app: App = server.app
        self._repository = server.repository
        self._channel = channel
        self._operations = operations
        self._on_lost = on_lost
        self._header = (WORKER_HEADER, f"{index}/{os.getpid()}".encode())
        self._metrics = exposition_registry(multiprocess_dir())
        self._mirror = GaugeMirror(server.registry, interval_seconds=gauge_refresh_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"].strip("/") == "metrics" and scope["method"] == "GET":
                await self._scrape(send)
                return
            header = self._header

            async def tagged(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), header]
                await send(message)

            await self._app(scope, receive, tagged)
        elif scope["type"] == "lifespan":
            await self._app(scope, self._watch_receive(receive), self._watch_send(send))
        else:
            await self._app(scope, receive, send)

    async def _scrape(self, send: Send) -> None:
        self._mirror.refresh()
        body = generate_latest(self._metrics)
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode()),
            self._header,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _watch_send(self, send: Send) -> Send:
        async def watched(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self._started()
            elif message["type"] == "lifespan.startup.failed":
                self._channel.send("failed", message.get("message", "startup failed"))
            await send(message)

        return watched

    def _watch_receive(self, receive: Receive) -> Receive:
        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self._mirror.stop()
                await self._channel.close()
            return message

        return watched

    async def _started(self) -> None:
        """Catch up with the repository API's changes, then report ready."""
        for operation in self._operations:
            try:
                await apply(self._repository, operation)
            except Exception as error:  # the others serve it as it is; so does this one
                logger.warning("could not replay %s: %s", operation, error)
        self._mirror.start()
        self._channel.start(self._on_lost)
        self._channel.send("ready")


class _Signals:
    """Records SIGTERM / SIGINT until uvicorn takes them over (and after it re-raises)."""

    def __init__(self) -> None:
        self.received: list[int] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._record)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)


def worker_main(
    plan: WorkerPlan, index: int, connection: Connection, operations: list[Operation]
) -> None:
    """The body of worker process ``index`` (the target the supervisor spawns)."""
    signals = _Signals()
    if plan.setup is not None:
        plan.setup()
    with ExitStack() as stack:
        deployer = BroadcastDeployer()
        calls = CrossWorkerCalls()
        context = WorkerContext(index, deployer, plan.grace_seconds, plan.workers, calls)
        try:
            server = plan.build(context, stack)
            sock = bind_shared(plan.host, plan.port)
        except Exception as error:  # process boundary: report to the supervisor, then exit
            logger.exception("worker %d could not start", index)
            connection.send(("failed", str(error)))
            sys.exit(1)
        if signals.received:
            return
        channel = WorkerChannel(connection, server.repository)
        deployer.attach(channel)
        calls.attach(channel)
        holder: list[uvicorn.Server] = []
        app = WorkerApp(
            server,
            channel,
            operations,
            index=index,
            gauge_refresh_seconds=plan.gauge_refresh_seconds,
            on_lost=lambda: setattr(holder[0], "should_exit", True),
        )
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=max(1, round(plan.grace_seconds)),
        )
        holder.append(uvicorn.Server(config))
        holder[0].run(sockets=[sock])
