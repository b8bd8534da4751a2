"""Driftline processes started, watched and stopped together (:class:`monitor.stack.Stack`)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from monitor.stack import Role, Stack, StackError, project_roles
from tests.integration.monitor.scheduling.test_leader_failover import free_port

pytestmark = pytest.mark.integration


def api_role(name: str, port: int, *args: str) -> Role:
    ready = f"http://127.0.0.1:{port}/readyz"
    return Role(name, ("monitor", "--no-scheduler", "--port", str(port), *args), ready)


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    env["DRIFTLINE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'store.db'}"
    env["DRIFTLINE_DATA_DIR"] = str(tmp_path / "data")
    return env


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def stack_is_whole(stack: Stack) -> bool:
    try:
        stack.check()
    except StackError:
        return False
    return True


def test_roles_start_in_order_and_stop_in_reverse_order_cleanly(tmp_path: Path) -> None:
    ports = free_port(), free_port()
    stack = Stack(
        [api_role("first", ports[0]), api_role("second", ports[1])],
        log_dir=tmp_path / "logs",
        env=environment(tmp_path),
    )
    stack.start()
    try:
        assert all(listening(port) for port in ports)
        stack.check()
        assert "monitor API and dashboard" in stack.log_path("first").read_text()
    finally:
        codes = stack.stop()

    assert list(codes) == ["second", "first"]
    assert set(codes.values()) == {0}  # SIGTERM is a graceful stop
    assert not any(listening(port) for port in ports)
    assert stack.stop() == {}  # nothing left to stop


def test_a_role_that_cannot_start_is_named_with_its_log(tmp_path: Path) -> None:
    stack = Stack(
        [api_role("api", free_port(), "--bogus-option")],
        log_dir=tmp_path / "logs",
        env=environment(tmp_path),
    )

    with pytest.raises(StackError) as raised:
        stack.start(timeout_seconds=30)

    message = str(raised.value)
    assert message.startswith("api exited with status 2 while starting")
    assert "--bogus-option" in message  # the end of its log is quoted


def test_a_role_that_is_never_ready_times_out_and_is_stopped(tmp_path: Path) -> None:
    port = free_port()
    never = Role("api", ("monitor", "--no-scheduler", "--port", str(port)),
                 f"http://127.0.0.1:{port}/no-such-route")  # fmt: skip
    stack = Stack([never], log_dir=tmp_path / "logs", env=environment(tmp_path))

    with pytest.raises(StackError, match=r"api was not ready at .*/no-such-route within 3s"):
        stack.start(timeout_seconds=3)

    deadline = time.monotonic() + 10
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not listening(port)


def test_a_role_that_dies_is_reported_by_check(tmp_path: Path) -> None:
    stack = Stack([api_role("api", free_port())], log_dir=tmp_path / "logs",
                  env=environment(tmp_path))  # fmt: skip
    stack.start()
    try:
        os.kill(stack.pid("api"), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while stack_is_whole(stack) and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(StackError, match="api exited with status -9 unexpectedly"):
            stack.check()
    finally:
        stack.stop()


def test_role_names_must_be_unique(tmp_path: Path) -> None:
    role = api_role("api", 1)

    with pytest.raises(ValueError, match="unique"):
        Stack([role, role], log_dir=tmp_path)


def test_a_second_interrupt_while_stopping_kills_what_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = free_port(), free_port()
    stack = Stack(
        [api_role("first", ports[0]), api_role("second", ports[1])],
        log_dir=tmp_path / "logs",
        env=environment(tmp_path),
    )
    stack.start()
    pids = stack.pid("first"), stack.pid("second")

    def interrupted(process: object, timeout_seconds: float) -> int:
        raise KeyboardInterrupt  # Ctrl-C again while the first role is being stopped

    monkeypatch.setattr("monitor.stack._terminate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stack.stop()

    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # gone, and reaped
    assert stack.stop() == {}


def test_the_inference_server_gets_its_grace_period_and_a_margin_to_stop() -> None:
    ports = {"sidecar": 1, "serve": 2, "monitor": 3}
    roles = {
        role.name: role
        for role in project_roles(ports, host="127.0.0.1", tap_token="t", serve_grace_seconds=90)
    }
    assert roles["serve"].stop_seconds == 95
    assert roles["sidecar"].stop_seconds is None
    assert roles["monitor"].stop_seconds is None
