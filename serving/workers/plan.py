"""What the supervisor runs: the plan every worker follows, and how crashes are handled.

A :class:`WorkerPlan` crosses into each worker process (a fresh interpreter), so everything
in it must pickle: ``build`` and ``setup`` are module-level functions (or
:func:`functools.partial` of them over picklable arguments).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from serving.deployer import Deployer

if TYPE_CHECKING:
    from serving.server import Server
    from serving.workers.control import CrossWorkerCalls

__all__ = ["Build", "RestartPolicy", "WorkerContext", "WorkerPlan"]


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What a worker's ``build`` is told about the worker it builds for.

    Attributes
    ----------
    index
        0 to N - 1; a restarted worker keeps the index of the one it replaces.
    deployer
        Pass it to :func:`~serving.server.create_server` (``deployer=``): the repository API
        then loads and unloads on every worker.
    grace_seconds
        How long in-flight requests may take to finish when the worker stops.
    workers
        How many workers the server runs.
    calls
        Calls to the other workers, and the handler for theirs to this one (connected once
        the worker has started).
    """

    index: int
    deployer: Deployer
    grace_seconds: float
    workers: int
    calls: CrossWorkerCalls


Build = Callable[[WorkerContext, ExitStack], "Server"]
"""Builds a worker's server; resources to release at exit (a tap) go on the stack. The
server's gRPC listener, if any, must share its port (``grpc_reuse_port=True``). The returned
server's ``app`` is what the worker serves (it may wrap the one ``create_server`` built)."""


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How the supervisor restarts workers that die.

    The n-th crash within ``window_seconds`` waits ``first_delay_seconds * 2**(n-1)`` (at
    most ``max_delay_seconds``) before the restart; crash number ``max_restarts + 1`` within
    the window stops the server instead.
    """

    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 10.0
    max_restarts: int = 5
    window_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.first_delay_seconds < 0 or self.max_delay_seconds < self.first_delay_seconds:
            raise ValueError(
                "restart delays must satisfy 0 <= first_delay_seconds <= max_delay_seconds, "
                f"got {self.first_delay_seconds} and {self.max_delay_seconds}"
            )
        if self.max_restarts < 0 or self.window_seconds <= 0:
            raise ValueError(
                "max_restarts must be >= 0 and window_seconds > 0, "
                f"got {self.max_restarts} and {self.window_seconds}"
            )

    def delay(self, crashes: int) -> float:
        """Seconds to wait before restarting after the ``crashes``-th recent crash."""
        return min(self.max_delay_seconds, self.first_delay_seconds * 2.0 ** max(crashes - 1, 0))


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """Everything the supervisor needs to run the workers.

    Attributes
    ----------
    build
        Builds one worker's server (see :data:`Build`).
    host, port
        Where the workers serve REST.
    workers
        How many worker processes.
    grpc_port
        The port the workers' gRPC listeners share, claimed by the supervisor (None: the
        server speaks REST only).
    grace_seconds
        On SIGTERM, how long in-flight requests may take; the supervisor kills the workers
        still running one second after it.
    setup
        Run first in each worker process (logging).
    gauge_refresh_seconds
        How often a worker copies its live gauges (queue depths) to the shared metrics.
    restart
        What to do when a worker dies.
    preload
        Modules imported once, before the first worker starts, by the process every worker
        is forked from (those of ``build``: a restarted worker then starts at once).
    """

    build: Build
    host: str
    port: int
    workers: int
    grpc_port: int | None = None
    grace_seconds: float = 30.0
    setup: Callable[[], None] | None = None
    gauge_refresh_seconds: float = 1.0
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    preload: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.grace_seconds <= 0:
            raise ValueError(f"grace_seconds must be > 0, got {self.grace_seconds}")
        if self.gauge_refresh_seconds <= 0:
            raise ValueError(f"gauge_refresh_seconds must be > 0, got {self.gauge_refresh_seconds}")
