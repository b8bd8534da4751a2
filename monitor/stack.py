"""Driftline's processes run together on one machine: ``driftline up`` and the demo.

Each role (``monitor``, ``sidecar``, ``serve``) is a ``driftline`` child process in its own
session, so that a Ctrl-C in the terminal reaches only the parent, which then stops the
children in the order that loses nothing: the inference server first (its tap flushes to
the sidecar), then the sidecar (its spool drains into the store), then the monitor. Each
child's output goes to a log file; when a child fails to start or dies, the error names it
and quotes the end of its log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from monitor.errors import ConfigError

__all__ = ["Role", "Stack", "StackError", "log_tail", "project_roles"]

#: Lines of a child's log quoted when it fails.
_TAIL_LINES = 15
_POLL_SECONDS = 0.1


class StackError(ConfigError):
    """A process of the stack did not start, or stopped on its own."""


@dataclass(frozen=True)
class Role:
    """One ``driftline`` child process and how to tell that it is ready."""

    name: str
    #: Arguments after ``driftline`` (global options first, then the command).
    args: tuple[str, ...]
    #: Polled until it answers 200.
    ready_url: str
    #: Environment variables on top of the parent's.
    env: Mapping[str, str] = field(default_factory=dict)
    #: How long :meth:`Stack.stop` waits after SIGTERM before SIGKILL (None: its default).
    stop_seconds: float | None = None


@dataclass
class _Running:
    role: Role
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]


_STOP_MARGIN_SECONDS = 5.0


def project_roles(
    ports: Mapping[str, int], *, host: str, tap_token: str, serve_grace_seconds: float = 30.0
) -> list[Role]:
    """A project's processes in start order: the sidecar, the inference server (when
    ``ports`` has ``serve``; its tap pushes to the sidecar with ``tap_token``), the monitor.

    ``host`` is where this machine reaches them (for the readiness checks). The inference
    server gets ``serve_grace_seconds`` (its shutdown grace period) and a few seconds more to
    stop before it is killed.
    """
    sidecar = f"http://{host}:{ports['sidecar']}"
    roles = [Role("sidecar", ("sidecar", "--port", str(ports["sidecar"])), f"{sidecar}/readyz")]
    if "serve" in ports:
        serve_env = {
            "DRIFTLINE_PORT": str(ports["serve"]),
            "DRIFTLINE_TAP_URL": sidecar,
            "DRIFTLINE_TAP_TOKEN": tap_token,
        }
        ready = f"http://{host}:{ports['serve']}/v2/health/ready"
        stop = serve_grace_seconds + _STOP_MARGIN_SECONDS
        roles.append(Role("serve", ("serve",), ready, env=serve_env, stop_seconds=stop))
    monitor = ("monitor", "--port", str(ports["monitor"]))
    roles.append(Role("monitor", monitor, f"http://{host}:{ports['monitor']}/readyz"))
    return roles


def log_tail(path: Path, lines: int = _TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (empty if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Stack:
    """Start roles in order, each once the previous is ready; stop them in reverse order.

    Parameters
    ----------
    roles
        In start order; stopped in the reverse order.
    log_dir
        Where ``<role>.log`` files are written.
    env
        Environment of every child (default: this process's).
    """

    def __init__(
        self,
        roles: Sequence[Role],
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        names = [role.name for role in roles]
        if len(set(names)) != len(names):
            raise ValueError(f"role names must be unique, got {names}")
        self._roles = tuple(roles)
        self._log_dir = log_dir
        self._env = dict(os.environ if env is None else env)
        self._running: list[_Running] = []

    @property
    def roles(self) -> tuple[Role, ...]:
        return self._roles

    def pid(self, role: str) -> int:
        """The process id of a started role."""
        for running in self._running:
            if running.role.name == role:
                return running.process.pid
        raise KeyError(f"{role!r} is not running")

    def log_path(self, role: str) -> Path:
        """Where the named role's output goes."""
        return self._log_dir / f"{role}.log"

    def start(self, *, timeout_seconds: float = 60.0) -> None:
        """Start every role, waiting for each to be ready before the next.

        Raises
        ------
        StackError
            A role exited or was not ready in time; the roles already started are stopped.
        """
        self._log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for role in self._roles:
                self._running.append(self._spawn(role))
                self._wait_ready(self._running[-1], timeout_seconds)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, role: Role) -> _Running:
        path = self.log_path(role.name)
        log = path.open("ab")
        command = [sys.executable, "-m", "monitor", *role.args]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**self._env, **role.env},
            start_new_session=True,
        )
        return _Running(role, process, path, log)

    def _wait_ready(self, running: _Running, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = running.process.poll()
                if code is not None:
                    raise self._died(running, code, "while starting")
                try:
                    if client.get(running.role.ready_url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    msg = (
                        f"{running.role.name} was not ready at {running.role.ready_url} "
                        f"within {timeout_seconds:.0f}s; its log ({running.log_path}) ends with:\n"
                        f"{log_tail(running.log_path)}"
                    )
                    raise StackError(msg)
                time.sleep(_POLL_SECONDS)

    def _died(self, running: _Running, code: int, when: str) -> StackError:
        running.log.flush()
        msg = (
            f"{running.role.name} exited with status {code} {when}; "
            f"its log ({running.log_path}) ends with:\n{log_tail(running.log_path)}"
        )
        return StackError(msg)

    def check(self) -> None:
        """Raise :class:`StackError` if a started role has exited."""
        for running in self._running:
            code = running.process.poll()
            if code is not None:
                raise self._died(running, code, "unexpectedly")

    def wait(self, *, poll_seconds: float = 0.5) -> None:
        """Block until a role exits (then raise :class:`StackError`)."""
        while True:
            self.check()
            time.sleep(poll_seconds)

    def stop(self, *, timeout_seconds: float = 30.0) -> dict[str, int]:
        """Stop the started roles in reverse order: SIGTERM, then SIGKILL after the role's
        ``stop_seconds`` or else ``timeout_seconds`` (or at once, for every role left, on a
        KeyboardInterrupt while waiting).

        Returns
        -------
        dict of str to int
            Each stopped role's exit status (negative: killed by that signal).
        """
        codes: dict[str, int] = {}
        try:
            while self._running:
                running = self._running[-1]
                wait = running.role.stop_seconds or timeout_seconds
                codes[running.role.name] = _terminate(running.process, wait)
                self._running.pop().log.close()
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, kill what is left
            while self._running:
                running = self._running.pop()
                running.process.kill()
                codes[running.role.name] = running.process.wait()
                running.log.close()
            raise
        return codes

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _terminate(process: subprocess.Popen[bytes], timeout_seconds: float) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
