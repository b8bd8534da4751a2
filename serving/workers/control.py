"""The control channel between the supervisor and a worker: model loads and unloads, and
calls from one worker to another.

A repository API call reaches one worker (the one the kernel gave the connection to). That
worker checks the caller and the parameters itself, then sends the operation to the
supervisor, which records it and has every worker carry it out; the caller's answer waits
for all of them. A worker started later (a restart) replays the recorded operations before
it takes traffic, so every worker converges on the same deployments.

A **call** asks one worker by its index (the learner of an online model is worker 0) to run
its call handler on a picklable payload; the supervisor relays the call and the result. A
call to a worker that is not running (being restarted) fails with
:class:`~serving.errors.ModelNotReadyError` at once.

Messages are tuples over a :func:`multiprocessing.Pipe`:

======================  =====================================================
worker → supervisor     ``("ready",)``, ``("failed", message)``,
                        ``("request", request_id, operation)``,
                        ``("applied", operation_id, error or None)``,
                        ``("call", request_id, worker_index, payload)``,
                        ``("returned", call_id, result, error or None)``
supervisor → worker     ``("apply", operation_id, operation)``,
                        ``("answer", request_id, error or None)``,
                        ``("call", call_id, payload)``,
                        ``("reply", request_id, result, error or None)``
======================  =====================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pickle
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from serving.config import ModelConfig
from serving.errors import ModelNotReadyError, ServingError
from serving.repository import ModelRepository

__all__ = [
    "BroadcastDeployer",
    "CallHandler",
    "CrossWorkerCalls",
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

CallHandler = Callable[[Any], Awaitable[Any]]
"""What a worker runs for a call from another worker: payload in, picklable result out."""


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
        self._calls: dict[int, asyncio.Future[tuple[Any, ServingError | None]]] = {}
        self._handler: CallHandler | None = None
        self._handling: set[asyncio.Task[None]] = set()
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

    def serve_calls(self, handler: CallHandler) -> None:
        """Run ``handler`` for the calls other workers make to this one."""
        self._handler = handler

    async def call(self, worker: int, payload: Any) -> Any:
        """Have worker ``worker`` run its call handler on ``payload``; its result.

        Raises
        ------
        ServingError
            What the handler raised (its class kept where it pickles), or
            :class:`~serving.errors.ModelNotReadyError` if that worker is not running.
        """
        request_id = next(self._ids)
        future: asyncio.Future[tuple[Any, ServingError | None]]
        future = asyncio.get_running_loop().create_future()
        self._calls[request_id] = future
        self.send("call", request_id, worker, payload)
        result, error = await future
        if error is not None:
            raise error
        return result

    async def close(self) -> None:
        for task in list(self._handling):
            task.cancel()
        await asyncio.gather(*self._handling, return_exceptions=True)
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
                elif message[0] == "reply":
                    waiting = self._calls.pop(message[1], None)
                    if waiting is not None and not waiting.done():
                        waiting.set_result((message[2], message[3]))
                elif message[0] == "call":
                    task = asyncio.get_running_loop().create_task(
                        self._serve_call(message[1], message[2])
                    )
                    self._handling.add(task)
                    task.add_done_callback(self._handling.discard)
        except (EOFError, OSError):
            logger.warning("the supervisor is gone; this worker stops")
            self._stop_reading()
            gone = ServingError("the server is shutting down")
            for future in self._waiting.values():
                if not future.done():
                    future.set_result(gone)
            for call in self._calls.values():
                if not call.done():
                    call.set_result((None, gone))
            self._waiting.clear()
            self._calls.clear()
            self._on_lost()

    async def _serve_call(self, call_id: int, payload: Any) -> None:
        result: Any = None
        error: ServingError | None = None
        try:
            if self._handler is None:
                raise ServingError("this worker takes no calls")
            result = await self._handler(payload)
        except Exception as caught:  # returned to the caller through the supervisor
            error = portable_error(caught)
        try:
            self.send("returned", call_id, result, error)
        except Exception as caught:  # a result that does not pickle: the caller gets why
            self.send("returned", call_id, None, portable_error(caught))

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


class CrossWorkerCalls:
    """Calls from this worker to another, and the handler for calls to this one (via the
    supervisor).

    Built before the server, like :class:`BroadcastDeployer`; a handler set before the
    channel is attached is handed to it then.
    """

    def __init__(self) -> None:
        self._channel: WorkerChannel | None = None
        self._handler: CallHandler | None = None

    def attach(self, channel: WorkerChannel) -> None:
        self._channel = channel
        if self._handler is not None:
            channel.serve_calls(self._handler)

    def serve(self, handler: CallHandler) -> None:
        """Run ``handler`` for the calls other workers make to this one."""
        self._handler = handler
        if self._channel is not None:
            self._channel.serve_calls(handler)

    async def call(self, worker: int, payload: Any) -> Any:
        """Have worker ``worker`` run its handler on ``payload`` (see
        :meth:`WorkerChannel.call`)."""
        if self._channel is None:
            raise ModelNotReadyError("this worker is not connected to its supervisor yet")
        return await self._channel.call(worker, payload)
