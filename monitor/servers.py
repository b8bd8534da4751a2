"""Running Driftline's HTTP services: several uvicorn servers under one event loop.

A first SIGINT / SIGTERM lets in-flight requests finish; a second one cuts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["http_server", "serve_all"]


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`serve_all`, which stops every server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_server(app: Any, host: str, port: int, **options: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        **options,
    )
    return _Server(config)


def serve_all(servers: list[uvicorn.Server]) -> None:
    """Run ``servers`` under one event loop; a signal, or one of them ending, stops all."""

    def stop(*, force: bool) -> None:
        for server in servers:
            server.force_exit = server.force_exit or (force and server.should_exit)
            server.should_exit = True

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: stop(force=True))
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop(force=False)
        await asyncio.gather(*tasks)

    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory()) as runner:
        runner.run(main())
