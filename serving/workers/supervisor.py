"""The supervisor: starts the workers, restarts the ones that die, relays the repository API,
and stops them all gracefully.

One thread, one loop over :func:`multiprocessing.connection.wait`: the workers' control
pipes, their process sentinels (readable when a worker exits) and a wake-up socket the
signal handlers write to. Workers are forked from a ``forkserver``: a fresh interpreter that
imports the plan's ``preload`` modules once, so nothing of the supervisor's state, threads
or gRPC internals leaks into the workers, and a restarted worker starts without paying for
the imports again.

* **Start**: the ports are claimed first (a taken port fails at once), then every worker
  starts; if one fails while starting, the server stops with that worker's reason.
* **Crash**: a worker that dies is restarted after a back-off that doubles with each recent
  crash; too many crashes within the policy's window stop the server
  (:class:`~serving.workers.errors.WorkersFailedError`). The kernel closes the dead
  worker's connections, so its in-flight requests fail at once on the client's side.
* **Repository API** and **calls between workers**: see :mod:`serving.workers.control`.
* **Stop** (SIGTERM or SIGINT): every worker gets SIGTERM, stops accepting, finishes what is
  in flight within the grace period and exits; workers still running one second after it
  are killed. A second SIGINT kills them at once.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from prometheus_client.multiprocess import mark_process_dead

from serving.errors import ModelNotReadyError, ServingError
from serving.workers.control import Operation, OperationLog, portable_error
from serving.workers.errors import WorkersFailedError, WorkerStartupError
from serving.workers.gauges import ENVIRONMENT_VARIABLE
from serving.workers.plan import WorkerPlan
from serving.workers.sockets import claim_port
from serving.workers.worker import worker_main

__all__ = ["Supervisor"]

logger = logging.getLogger(__name__)

_KILL_MARGIN_SECONDS = 1.0


@dataclass(eq=False)
class _Worker:
    index: int
    process: BaseProcess
    connection: Connection
    ready: bool = False
    failure: str | None = None


@dataclass(eq=False, frozen=True)
class _Call:
    """A call under way from one worker to another."""

    origin: _Worker
    request_id: int
    target: _Worker


@dataclass(eq=False)
class _Broadcast:
    """An operation under way: who asked, and which workers have still to answer."""

    origin: _Worker
    request_id: int
    waiting: set[_Worker]
    errors: list[ServingError] = field(default_factory=list)
    done: int = 0


class Supervisor:
    """Runs :class:`~serving.workers.plan.WorkerPlan` until SIGTERM / SIGINT.

    Parameters
    ----------
    plan
        What every worker runs.
    """

    def __init__(self, plan: WorkerPlan) -> None:
        self._plan = plan
        self._context = multiprocessing.get_context("forkserver")
        self._workers: dict[int, _Worker] = {}
        self._log = OperationLog()
        self._broadcasts: dict[int, _Broadcast] = {}
        self._calls: dict[int, _Call] = {}
        self._operation_ids = itertools.count()
        self._crashes: list[float] = []
        self._restarts: dict[int, float] = {}
        self._signals: list[int] = []
        self._metrics_dir = ""
        self._started = False

    def run(self) -> None:
        """Serve until a stop signal (then return) or a failure (then raise).

        Raises
        ------
        PortTakenError
            A port is taken.
        WorkerStartupError
            A worker failed while the server started.
        WorkersFailedError
            Workers crashed more often than the restart policy allows.
        """
        with contextlib.ExitStack() as stack:
            stack.enter_context(claim_port(self._plan.host, self._plan.port, what="HTTP"))
            if self._plan.grpc_port is not None:
                stack.enter_context(claim_port(self._plan.host, self._plan.grpc_port, what="gRPC"))
            self._metrics_dir = tempfile.mkdtemp(prefix="driftline-metrics-")
            stack.callback(shutil.rmtree, self._metrics_dir, True)
            # The forkserver (started with the first worker) and every worker forked from it
            # read this when they import prometheus_client.
            stack.enter_context(_environment(ENVIRONMENT_VARIABLE, self._metrics_dir))
            self._context.set_forkserver_preload(["serving.workers.worker", *self._plan.preload])
            wake = stack.enter_context(self._signal_handlers())
            stack.callback(self._stop_all)
            for index in range(self._plan.workers):
                self._spawn(index)
            self._loop(wake)

    def _loop(self, wake: socket.socket) -> None:
        while not self._signals:
            waitables: list[Any] = [wake]
            for worker in self._workers.values():
                waitables += [worker.connection, worker.process.sentinel]
            timeout = None
            if self._restarts:
                timeout = max(0.0, min(self._restarts.values()) - time.monotonic())
            for ready in wait(waitables, timeout):
                if ready is wake:
                    wake.recv(64)
                else:
                    self._readable(ready)
            self._restart_due()

    def _readable(self, ready: object) -> None:
        for worker in list(self._workers.values()):
            if ready is worker.connection:
                self._receive(worker)
            elif ready is worker.process.sentinel:
                self._exited(worker)

    # -- workers --------------------------------------------------------------------------

    def _spawn(self, index: int) -> None:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=worker_main,
            args=(self._plan, index, theirs, self._log.snapshot()),
            name=f"driftline-worker-{index}",
        )
        process.start()
        theirs.close()
        self._workers[index] = _Worker(index, process, ours)
        logger.info("started worker %d (pid %s)", index, process.pid)

    def _receive(self, worker: _Worker) -> None:
        try:
            while worker.connection.poll():
                self._handle(worker, worker.connection.recv())
        except (EOFError, OSError):
            pass  # the worker is exiting: its sentinel reports it

    def _handle(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            if not self._started and all(w.ready for w in self._workers.values()):
                self._started = True
                logger.info(
                    "all %d workers ready on %s:%d",
                    self._plan.workers,
                    self._plan.host,
                    self._plan.port,
                )
        elif kind == "failed":
            worker.failure = str(message[1])
        elif kind == "request":
            self._broadcast(worker, message[1], message[2])
        elif kind == "applied":
            self._applied(worker, message[1], message[2])
        elif kind == "call":
            self._call(worker, message[1], message[2], message[3])
        elif kind == "returned":
            self._returned(message[1], message[2], message[3])

    def _exited(self, worker: _Worker) -> None:
        worker.process.join()
        code = worker.process.exitcode
        self._receive(worker)  # what it said last (why it failed)
        worker.connection.close()
        del self._workers[worker.index]
        if worker.process.pid is not None:
            mark_process_dead(worker.process.pid, self._metrics_dir)  # type: ignore[no-untyped-call]
        for operation_id in list(self._broadcasts):
            self._answered(operation_id, worker)
        for call_id, call in list(self._calls.items()):
            if call.target is worker:
                self._returned(
                    call_id, None, ModelNotReadyError(f"worker {worker.index} exited; try again")
                )
        if not self._started:
            reason = worker.failure or f"it exited with status {code}"
            raise WorkerStartupError(f"worker {worker.index} did not start: {reason}")
        logger.error(
            "worker %d (pid %s) exited with status %s", worker.index, worker.process.pid, code
        )
        now = time.monotonic()
        window = self._plan.restart.window_seconds
        self._crashes = [t for t in self._crashes if now - t < window] + [now]
        if len(self._crashes) > self._plan.restart.max_restarts:
            raise WorkersFailedError(
                f"workers crashed {len(self._crashes)} times within {window:g}s; "
                "stopping the server (see the log above for why)"
            )
        delay = self._plan.restart.delay(len(self._crashes))
        logger.info("restarting worker %d in %.1fs", worker.index, delay)
        self._restarts[worker.index] = now + delay

    def _restart_due(self) -> None:
        now = time.monotonic()
        for index, due in list(self._restarts.items()):
            if due <= now:
                del self._restarts[index]
                self._spawn(index)

    # -- the repository API ---------------------------------------------------------------

    def _broadcast(self, origin: _Worker, request_id: int, operation: Operation) -> None:
        operation_id = next(self._operation_ids)
        self._log.record(operation_id, operation)
        targets = set(self._workers.values())
        self._broadcasts[operation_id] = _Broadcast(origin, request_id, targets)
        for worker in targets:
            try:
                worker.connection.send(("apply", operation_id, operation))
            except OSError:
                self._answered(operation_id, worker)

    def _applied(self, worker: _Worker, operation_id: int, error: ServingError | None) -> None:
        broadcast = self._broadcasts.get(operation_id)
        if broadcast is not None:
            if error is None:
                broadcast.done += 1
            else:
                broadcast.errors.append(error)
            self._answered(operation_id, worker)

    def _answered(self, operation_id: int, worker: _Worker) -> None:
        broadcast = self._broadcasts[operation_id]
        broadcast.waiting.discard(worker)
        if broadcast.waiting:
            return
        del self._broadcasts[operation_id]
        answer: ServingError | None = None
        if broadcast.errors and not broadcast.done:
            self._log.forget(operation_id)
            answer = broadcast.errors[0]
        elif broadcast.errors:
            answer = portable_error(
                ServingError(
                    f"done on {broadcast.done} worker(s), failed on {len(broadcast.errors)}: "
                    f"{broadcast.errors[0]}"
                )
            )
        if self._workers.get(broadcast.origin.index) is broadcast.origin:
            with contextlib.suppress(OSError):
                broadcast.origin.connection.send(("answer", broadcast.request_id, answer))

    # -- calls between workers -----------------------------------------------------------

    def _call(self, origin: _Worker, request_id: int, index: int, payload: Any) -> None:
        target = self._workers.get(index)
        if target is None or not target.ready:
            self._reply(
                origin,
                request_id,
                None,
                ModelNotReadyError(f"worker {index} is not running (it is restarting); try again"),
            )
            return
        call_id = next(self._operation_ids)
        self._calls[call_id] = _Call(origin, request_id, target)
        try:
            target.connection.send(("call", call_id, payload))
        except OSError:
            self._returned(call_id, None, ModelNotReadyError(f"worker {index} is not reachable"))

    def _returned(self, call_id: int, result: Any, error: ServingError | None) -> None:
        call = self._calls.pop(call_id, None)
        if call is not None:
            self._reply(call.origin, call.request_id, result, error)

    def _reply(
        self, origin: _Worker, request_id: int, result: Any, error: ServingError | None
    ) -> None:
        if self._workers.get(origin.index) is origin:
            with contextlib.suppress(OSError):
                origin.connection.send(("reply", request_id, result, error))

    # -- stopping -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _signal_handlers(self) -> Iterator[socket.socket]:
        wake, poke = socket.socketpair()
        poke.setblocking(False)

        def handle(signum: int, frame: FrameType | None) -> None:
            self._signals.append(signum)
            if len(self._signals) > 1 and signum == signal.SIGINT:
                self._kill_all()

        previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
        previous_fd = signal.set_wakeup_fd(poke.fileno())
        try:
            yield wake
        finally:
            signal.set_wakeup_fd(previous_fd)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            wake.close()
            poke.close()

    def _stop_all(self) -> None:
        """SIGTERM every worker, wait out the grace period, kill the rest."""
        self._restarts.clear()
        workers = list(self._workers.values())
        for worker in workers:
            if worker.process.is_alive() and worker.process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._plan.grace_seconds + _KILL_MARGIN_SECONDS
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        left = [w for w in workers if w.process.is_alive()]
        if left:
            logger.error(
                "killing %d worker(s) still running after the %gs grace period",
                len(left),
                self._plan.grace_seconds,
            )
        self._kill_all()
        for worker in workers:
            worker.process.join()
            worker.connection.close()
        self._workers.clear()
        logger.info("all workers stopped")

    def _kill_all(self) -> None:
        for worker in self._workers.values():
            if worker.process.is_alive():
                worker.process.kill()


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` while the workers are started (they inherit it)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous
