"""Running Driftline's HTTP services: several uvicorn servers under one event loop.

A first SIGINT / SIGTERM lets in-flight requests finish; a second one cuts them. A server
that cannot listen (its port is taken) stops the others and is reported as
:class:`ListenError`, a one-line user error, instead of uvicorn's exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn

from monitor.errors import ConfigError

__all__ = ["ListenError", "http_server", "serve_all"]


class ListenError(ConfigError):
    """A server could not start listening (uvicorn logged why, e.g. the port is in use)."""


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
        tasks = [asyncio.create_task(_serve(server)) for server in servers]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop(force=False)
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory()) as runner:
        runner.run(main())


async def _serve(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit:  # uvicorn's way of saying that startup failed
        where = f"{server.config.host}:{server.config.port}"
        raise ListenError(f"could not listen on {where}; the log line above says why") from None
