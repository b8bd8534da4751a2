"""``driftline up``: a project's monitor, sidecar and inference server as one command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from monitor.demo.scenario import NUMERIC, Scenario
from monitor.demo.training import train
from tests.integration.monitor.scheduling.test_leader_failover import free_port

pytestmark = pytest.mark.integration

START_SECONDS = 120.0
PROJECT = """\
version: 1
models:
  - name: loans
    task: binary_classification
    classes: [bad, good]
    features:
{features}
    serving: {{runtime: sklearn, uri: model.joblib, allow_pickle: true}}
monitors:
  - name: loans-failures
    model: loans
    kind: failures
    schedule: {{every: 10s}}
    window: {{type: rolling, size: 1m}}
"""


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    return {**env, "NO_COLOR": "1", "COLUMNS": "200"}


def up(directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--database-url", store_url(directory), "up", *args],
        cwd=directory,
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def store_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'store.db'}"


def wait_until_ready(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} was not ready within {START_SECONDS}s")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("up")
    train(Scenario(seed=1), directory)
    features = "\n".join(f"      - {{name: {name}, kind: numeric}}" for name in NUMERIC)
    features += "\n      - {name: segment, kind: categorical}"
    (directory / "driftline.yaml").write_text(PROJECT.format(features=features))
    return directory


@pytest.fixture
def ports() -> Iterator[dict[str, int]]:
    return {"monitor": free_port(), "sidecar": free_port(), "serve": free_port()}


def test_up_serves_records_and_stops_cleanly(project: Path, ports: dict[str, int]) -> None:
    process = up(project, "--port", str(ports["monitor"]), "--sidecar-port",
                 str(ports["sidecar"]), "--serve-port", str(ports["serve"]))  # fmt: skip
    try:
        wait_until_ready(process, f"http://127.0.0.1:{ports['monitor']}/readyz")
        assert httpx.get(f"http://127.0.0.1:{ports['sidecar']}/readyz").status_code == 200
        inputs = [
            {"name": name, "shape": [1], "datatype": "FP64", "data": [0.5]} for name in NUMERIC
        ]
        inputs.append({"name": "segment", "shape": [1], "datatype": "BYTES", "data": ["retail"]})
        answer = httpx.post(
            f"http://127.0.0.1:{ports['serve']}/v2/models/loans/infer",
            json={"id": "up-test-1", "inputs": inputs},
        )
        assert answer.status_code == 200, answer.text
        engine = sa.create_engine(store_url(project))
        query = sa.text("select status from prediction_records where request_id = 'up-test-1'")
        deadline, rows = time.monotonic() + 30, []
        while not rows and time.monotonic() < deadline:
            with engine.connect() as connection:
                rows = list(connection.execute(query))
            time.sleep(0.2)
        assert rows == [(0,)]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=90)

    assert process.returncode == 0, err
    assert f"dashboard and API  http://127.0.0.1:{ports['monitor']}/" in out
    assert f"inference server  http://127.0.0.1:{ports['serve']}/v2" in out
    assert not any(listening(port) for port in ports.values())
    with engine.connect() as connection:
        tokens = list(connection.execute(sa.text(
            "select revoked_at from api_tokens where name like 'up-%'")))  # fmt: skip
    assert len(tokens) == 1
    assert tokens[0][0] is not None
    engine.dispose()


def test_up_without_a_project_file_says_what_to_write(tmp_path: Path) -> None:
    process = up(tmp_path)
    _out, err = process.communicate(timeout=60)

    assert process.returncode == 2
    assert err.strip().startswith("error: driftline up needs a project file")


def test_a_process_that_cannot_start_stops_up_with_its_log(
    project: Path, ports: dict[str, int]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["sidecar"]))
        taken.listen()
        process = up(project, "--port", str(ports["monitor"]), "--sidecar-port",
                     str(ports["sidecar"]), "--serve-port", str(ports["serve"]))  # fmt: skip
        out, err = process.communicate(timeout=120)

    assert process.returncode == 1, (out, err)
    assert "error: sidecar exited with status" in err
    assert "address already in use" in err.lower()
    assert "Traceback" not in err
    assert not listening(ports["monitor"])
