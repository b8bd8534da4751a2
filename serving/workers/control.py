"""The control channel between the supervisor and a worker: model loads and unloads.

A repository API call reaches one worker (the one the kernel gave the connection to). That
worker checks the caller and the parameters itself, then sends the operation to the
supervisor, which records it and has every worker carry it out; the caller's answer waits
for all of them. A worker started later (a restart) replays the recorded operations before
it takes traffic, so every worker converges on the same deployments.

Messages are tuples over a :func:`multiprocessing.Pipe`:

======================  =====================================================
worker → supervisor     ``("ready",)``, ``("failed", message)``,
                        ``("request", request_id, operation)``,
                        ``("applied", operation_id, error or None)``
supervisor → worker     ``("apply", operation_id, operation)``,
                        ``("answer", request_id, error or None)``
======================  =====================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from serving.config import ModelConfig
from serving.errors import ServingError
from serving.repository import ModelRepository

__all__ = [
    "BroadcastDeployer",
    "Deploy",
    "Operation",
    "OperationLog",
    "Undeploy",
    "WorkerChannel",
    "apply",
    "portable_error",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Deploy:
    """Load a configuration and make it its model's default version."""

    config: ModelConfig

    @property
    def model(self) -> str:
        return self.config.name


@dataclass(frozen=True, slots=True)
class Undeploy:
    """Stop serving a model, or one version of it."""

    name: str
    version: str | None = None

    @property
    def model(self) -> str:
        return self.name


Operation = Deploy | Undeploy


async def apply(repository: ModelRepository, operation: Operation) -> None:
    """Carry out ``operation`` on this process's repository."""
    if isinstance(operation, Deploy):
        await repository.deploy(operation.config)
    else:
        await repository.undeploy(operation.name, operation.version)


def portable_error(error: BaseException) -> ServingError:
    """``error`` as an exception that survives the trip through a pipe."""
    if isinstance(error, ServingError):
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:  # an error class that does not pickle: keep its message
            return ServingError(str(error))
        return error
    return ServingError(f"{type(error).__name__}: {error}")


class OperationLog:
    """The operations that changed the deployments since the server started, shortest form.

    A deploy (which replaces every version) or an undeploy of a whole model makes the
    earlier operations on that model irrelevant, so they are dropped.
    """

    def __init__(self) -> None:
        self._operations: list[tuple[int, Operation]] = []

    def record(self, operation_id: int, operation: Operation) -> None:
        if isinstance(operation, Deploy) or operation.version is None:
            self._operations = [
                (i, op) for i, op in self._operations if op.model != operation.model
            ]
        self._operations.append((operation_id, operation))

    def forget(self, operation_id: int) -> None:
        """Drop an operation that no worker could carry out."""
        self._operations = [(i, op) for i, op in self._operations if i != operation_id]

    def snapshot(self) -> list[Operation]:
        return [operation for _, operation in self._operations]


class WorkerChannel:
    """The worker's end of the control pipe, read on the worker's event loop."""

    def __init__(self, connection: Connection, repository: ModelRepository) -> None:
        self._connection = connection
        self._repository = repository
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[ServingError | None]] = {}
        self._operations: asyncio.Queue[tuple[int, Operation]] = asyncio.Queue()
        self._applier: asyncio.Task[None] | None = None
        self._on_lost: Callable[[], None] = lambda: None

    def send(self, *message: Any) -> None:
        """Send a message to the supervisor (a lost supervisor is reported by the reader)."""
        with contextlib.suppress(OSError):
            self._connection.send(message)

    def start(self, on_lost: Callable[[], None]) -> None:
        """Read the pipe on the running loop; ``on_lost`` runs if the supervisor goes away."""
        self._on_lost = on_lost
        loop = asyncio.get_running_loop()
        loop.add_reader(self._connection.fileno(), self._readable)
        self._applier = loop.create_task(self._apply_in_order())

    async def request(self, operation: Operation) -> None:
        """Have every worker carry out ``operation``; raise the error if it failed."""
        request_id = next(self._ids)
        future: asyncio.Future[ServingError | None] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self.send("request", request_id, operation)
        error = await future
        if error is not None:
            raise error

    async def close(self) -> None:
        if self._applier is not None:
            self._applier.cancel()
            await asyncio.gather(self._applier, return_exceptions=True)
            self._applier = None
        self._stop_reading()

    def _readable(self) -> None:
        try:
            while self._connection.poll():
                message = self._connection.recv()
                if message[0] == "answer":
                    future = self._waiting.pop(message[1], None)
                    if future is not None and not future.done():
                        future.set_result(message[2])
                elif message[0] == "apply":
                    self._operations.put_nowait((message[1], message[2]))
        except (EOFError, OSError):
            logger.warning("the supervisor is gone; this worker stops")
            self._stop_reading()
            for future in self._waiting.values():
                if not future.done():
                    future.set_result(ServingError("the server is shutting down"))
            self._waiting.clear()
            self._on_lost()

    def _stop_reading(self) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            asyncio.get_running_loop().remove_reader(self._connection.fileno())

    async def _apply_in_order(self) -> None:
        while True:
            operation_id, operation = await self._operations.get()
            error: ServingError | None = None
            try:
                await apply(self._repository, operation)
            except Exception as caught:  # reported to the caller through the supervisor
                error = portable_error(caught)
            self.send("applied", operation_id, error)


class BroadcastDeployer:
    """A :class:`~serving.deployer.Deployer` that has every worker deploy (via the supervisor).

    Built before the server and attached to the channel once the worker has started.
    """

    def __init__(self) -> None:
        self._channel: WorkerChannel | None = None

    def attach(self, channel: WorkerChannel) -> None:
        self._channel = channel

    async def deploy(self, config: ModelConfig) -> None:
        await self._request(Deploy(config))

    async def undeploy(self, name: str, version: str | None = None) -> None:
        await self._request(Undeploy(name, version))

    async def _request(self, operation: Operation) -> None:
        if self._channel is None:
            raise ServingError("this worker is not connected to its supervisor yet")
        await self._channel.request(operation)
