"""Two ``driftline monitor`` processes on one database: one schedules, the other takes over.

Real processes, a real PostgreSQL, SIGKILL: the leader dies mid-stream, the standby must
take over within a stated time and compute every window exactly once across both.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

DRIFTLINE = Path(sys.executable).with_name("driftline")
PROJECT = """version: 1
models:
  - name: reg
    task: regression
    features: [{name: x, kind: numeric}]
monitors:
  - name: tick
    model: reg
    kind: failures
    schedule: {every: 10s}
    window: {type: tumbling, size: 10s}
    min_samples: 1
alert_rules:
  - name: failing
    monitor: tick
    condition: {metric: failure_rate, op: ">", value: 0.5}
    channels: [hook]
channels:
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/never"}
"""
#: Most seconds from the leader's death to the standby's first run as leader.
TAKEOVER_SECONDS = 5.0
POLL_SECONDS = 0.5
WINDOW = re.compile(r"monitor tick window \[(\S+), (\S+)\): (\w+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MonitorProcess:
    def __init__(self, directory: Path, database_url: str, name: str) -> None:
        self.log = directory / f"{name}.log"
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
        environment |= {
            "DRIFTLINE_DATABASE_URL": database_url,
            "DRIFTLINE_API_AUTH": "false",
            "DRIFTLINE_MONITOR_SETTLE_SECONDS": "0.5",
            "DRIFTLINE_LEADER_POLL_SECONDS": str(POLL_SECONDS),
            "DRIFTLINE_MONITOR_REFRESH_SECONDS": "1",
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(DRIFTLINE), "monitor", "--port", str(self.port)],
                cwd=directory,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def windows(self) -> list[tuple[str, str]]:
        return [(m[1], m[2]) for m in WINDOW.finditer(self.text())]

    def leads(self) -> bool:
        return "this process is the scheduling leader" in self.text()

    def wait_ready(self) -> None:
        wait_for(lambda: self._ready(), 60, f"{self.log.name} never became ready:\n{self.text()}")

    def _ready(self) -> bool:
        assert self.process.poll() is None, f"{self.log.name} exited:\n{self.text()}"
        try:
            url = f"http://127.0.0.1:{self.port}/healthz"
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(condition: Callable[[], bool], seconds: float, failure: str) -> float:
    """Poll ``condition`` until true; returns when (monotonic), fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.05)
    pytest.fail(failure)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[MonitorProcess]]:
    (tmp_path / "driftline.yaml").write_text(PROJECT)
    started: list[MonitorProcess] = []
    yield started
    for process in started:
        process.stop()


def test_the_standby_takes_over_and_no_window_runs_twice(
    tmp_path: Path, fresh_postgres_url: str, processes: list[MonitorProcess]
) -> None:
    first = MonitorProcess(tmp_path, fresh_postgres_url, "first")
    processes.append(first)
    first.wait_ready()
    wait_for(first.leads, 30, f"the first process never led:\n{first.text()}")
    second = MonitorProcess(tmp_path, fresh_postgres_url, "second")
    processes.append(second)
    second.wait_ready()
    wait_for(lambda: len(first.windows()) >= 2, 45, f"no windows:\n{first.text()}")
    assert not second.leads()
    assert second.windows() == []

    first.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    first.process.wait(timeout=10)
    took_over = wait_for(second.leads, 30, f"no takeover:\n{second.text()}")
    wait_for(lambda: len(second.windows()) >= 2, 45, f"no windows after takeover:\n{second.text()}")
    second.stop()

    assert took_over - killed < TAKEOVER_SECONDS
    windows = first.windows() + second.windows()
    assert [w for w, n in Counter(windows).items() if n > 1] == []
    ends = sorted(dt.datetime.fromisoformat(end) for _, end in windows)
    gaps = {b - a for a, b in itertools.pairwise(ends)}
    assert gaps == {dt.timedelta(seconds=10)}, f"windows missing between {ends}"


def test_sqlite_refuses_a_second_scheduler(tmp_path: Path, processes: list[MonitorProcess]) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = MonitorProcess(tmp_path, url, "first")
    processes.append(first)
    first.wait_ready()
    wait_for(first.leads, 30, f"the first process never led:\n{first.text()}")

    second = MonitorProcess(tmp_path, url, "second")
    processes.append(second)
    code = second.process.wait(timeout=60)

    assert code == 2
    message = second.text()
    assert "already schedules the monitors of this SQLite database" in message
    assert f"pid {first.process.pid}" in message
    assert "--no-scheduler" in message
    assert "Traceback" not in message
