"""``driftline sidecar`` as a real process, killed with SIGKILL mid-stream and restarted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import joblib
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LogisticRegression

from tests.integration.test_cli import driftline_in_process

pytestmark = pytest.mark.integration

DRIFTLINE = Path(sys.executable).with_name("driftline")
PROJECT = """version: 1
models:
  - name: reg
    task: regression
    features: [{name: x, kind: numeric}]
"""
ROWS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(directory: Path, port: int) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    with (directory / f"sidecar-{time.monotonic_ns()}.log").open("wb") as log:
        process = subprocess.Popen(
            [str(DRIFTLINE), "sidecar", "--port", str(port)],
            cwd=directory,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sidecar exited at start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    pytest.fail("the sidecar did not become ready")


def body(batch: int) -> dict[str, object]:
    return {
        "records": [
            {"request_id": f"b{batch:04d}-{k:02d}", "features": {"x": k}, "prediction": 1.0}
            for k in range(ROWS)
        ]
    }


def test_sigkill_loses_no_acknowledged_record(tmp_path: Path) -> None:
    (tmp_path / "driftline.yaml").write_text(PROJECT)
    created = driftline_in_process(tmp_path, "tokens", "create", "feeder", "--scope", "ingest")
    assert created.returncode == 0, created.transcript
    headers = {"authorization": f"Bearer {created.stdout.strip()}"}
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/models/reg/predictions"
    acknowledged: list[int] = []
    process = start(tmp_path, port)

    def feed(first: int, stop: threading.Event) -> int:
        batch = first
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    answer = client.post(url, json=body(batch), headers=headers)
                except httpx.TransportError:
                    return batch  # the in-flight batch: unknown outcome, sent again later
                assert answer.status_code == 200, answer.text
                acknowledged.append(batch)
                batch += 1
        return batch

    stop = threading.Event()
    result: list[int] = []
    feeder = threading.Thread(target=lambda: result.append(feed(0, stop)))
    feeder.start()
    while len(acknowledged) < 30:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    feeder.join(timeout=30)
    in_flight = result[0]
    restarted = start(tmp_path, port)
    try:
        again = threading.Event()
        timer = threading.Timer(1.0, again.set)
        timer.start()
        feed(in_flight, again)
        timer.join()
        engine = sa.create_engine(f"sqlite:///{tmp_path / '.driftline' / 'driftline.db'}")
        expected = {f"b{b:04d}-{k:02d}" for b in acknowledged for k in range(ROWS)}
        query = sa.text("select request_id from prediction_records")
        deadline = time.monotonic() + 60
        stored: list[str] = []
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                stored = [row[0] for row in connection.execute(query)]
            if expected <= set(stored):
                break
            time.sleep(0.1)
        engine.dispose()
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    assert len(acknowledged) > 30
    assert expected <= set(stored)
    assert len(stored) == len(set(stored))


def test_serve_pushes_its_tap_to_the_sidecar(tmp_path: Path) -> None:
    estimator = LogisticRegression().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
    joblib.dump(estimator, tmp_path / "model.joblib")
    (tmp_path / "driftline.yaml").write_text(
        "version: 1\nmodels:\n  - name: clf\n    task: binary_classification\n"
        '    classes: ["0", "1"]\n    features: [{name: x, kind: numeric}]\n'
        "    serving: {runtime: sklearn, uri: model.joblib, allow_pickle: true}\n"
    )
    created = driftline_in_process(tmp_path, "tokens", "create", "tap", "--scope", "ingest")
    assert created.returncode == 0, created.transcript
    sidecar_port, serve_port = free_port(), free_port()
    sidecar = start(tmp_path, sidecar_port)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment.update(
        DRIFTLINE_PORT=str(serve_port),
        DRIFTLINE_TAP_URL=f"http://127.0.0.1:{sidecar_port}",
        DRIFTLINE_TAP_TOKEN=created.stdout.strip(),
    )
    with (tmp_path / "serve.log").open("wb") as log:
        serve = subprocess.Popen(
            [str(DRIFTLINE), "serve"],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        url = f"http://127.0.0.1:{serve_port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        for i in range(5):
            request = {
                "id": f"p{i}",
                "inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [i / 4]}],
            }
            assert httpx.post(f"{url}/v2/models/clf/infer", json=request, timeout=10).is_success
        engine = sa.create_engine(f"sqlite:///{tmp_path / '.driftline' / 'driftline.db'}")
        query = sa.text("select request_id from prediction_records order by request_id")
        stored: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(stored) < 5:
            with engine.connect() as connection:
                stored = [row[0] for row in connection.execute(query)]
            time.sleep(0.1)
        engine.dispose()
    finally:
        for process in (serve, sidecar):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert stored == [f"p{i}" for i in range(5)]
