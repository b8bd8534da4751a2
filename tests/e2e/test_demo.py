"""The README's first command, shortened: ``driftline demo`` end to end on embedded SQLite.

The demo's own summary is checked, then checked again against what the store holds, read
with plain SQL: nothing the clients were told was accepted is missing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.e2e

DURATION = "60"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    return {**env, "NO_COLOR": "1", "COLUMNS": "80"}  # make demo in a standard terminal


def demo(directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", *args],
        cwd=directory,
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def listening(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as probe:
        return probe.connect_ex((parts.hostname or "", parts.port or 80)) == 0


def store(directory: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{directory / '.driftline' / 'demo' / 'driftline.db'}")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("demo")
    process = demo(directory, "--duration", DURATION, "--seed", "7",
                   "--summary-json", "summary.json")  # fmt: skip
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, (out[-3000:], err[-3000:])
    summary = json.loads((directory / "summary.json").read_text())
    return directory, out, summary


def test_every_injected_problem_is_flagged_alerted_and_signed(
    finished: tuple[Path, str, dict[str, Any]],
) -> None:
    _, out, summary = finished

    assert summary["ok"] is True
    detections = {d["phase"]: d for d in summary["detections"]}
    assert list(detections) == ["covariate shift", "concept drift", "error burst"]
    for name, detection in detections.items():
        assert detection["complete"], detection
        assert detection["injected_at"] <= detection["flagged_at"], name
        assert detection["flagged_at"] <= detection["alert_at"], name
        assert detection["alert_verified"] is True, name
    assert detections["covariate shift"]["monitor_kind"] == "data_drift"
    assert detections["concept drift"]["monitor_kind"] == "performance"
    assert detections["error burst"]["monitor_kind"] == "failures"
    for name in ("covariate shift", "concept drift"):
        assert detections[name]["retrain_verified"] is True, name
    assert detections["error burst"]["retrain_at"] is None
    assert summary["unverified_deliveries"] == 0
    assert summary["retrain_requests"] >= 2
    assert "every injected problem was found and reported" in out
    table = out.split("Summary", 1)[1]
    for name in detections:  # the phase names survive an 80-column table
        assert name in table, table
    assert f"dashboard  {summary['dashboard_url']}" in out


def test_the_store_holds_every_request_and_label_the_clients_sent(
    finished: tuple[Path, str, dict[str, Any]],
) -> None:
    directory, _, summary = finished
    traffic = summary["traffic"]
    engine = store(directory)
    with engine.connect() as connection:
        by_status = dict(connection.execute(sa.text(
            "select status, count(*) from prediction_records group by status")).all())  # fmt: skip
        labels = connection.execute(sa.text("select count(*) from ground_truth_labels")).scalar()
        kinds = set(connection.execute(sa.text(
            "select distinct m.kind from monitor_results r join monitors m on m.id = r.monitor_id"
        )).scalars())  # fmt: skip
    engine.dispose()

    assert traffic["failed"] == 0
    assert traffic["feedback_failures"] == 0
    assert sum(by_status.values()) == traffic["requests"] == summary["records"]["records"]
    assert by_status.get(2, 0) == traffic["refused"] > 0  # bad input
    assert by_status[0] == traffic["answered"]
    assert labels == traffic["labels_accepted"] == traffic["labels_sent"]
    assert kinds == {"data_drift", "prediction_drift", "performance", "failures", "health"}


def test_no_process_outlives_the_demo(finished: tuple[Path, str, dict[str, Any]]) -> None:
    directory, _, summary = finished

    assert not listening(summary["dashboard_url"])
    for log in ("serve", "sidecar", "monitor"):
        text = (directory / ".driftline" / "demo" / "logs" / f"{log}.log").read_text()
        assert "Traceback" not in text, log


def test_ctrl_c_stops_every_process_and_loses_no_record(tmp_path: Path) -> None:
    process = demo(tmp_path, "--duration", "120", "--summary-json", "summary.json")
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    dashboard = ""
    for line in process.stdout:  # the dashboard line comes once every process is ready
        if line.startswith("dashboard") or time.monotonic() > deadline:
            dashboard = line.split()[-1]
            break
    time.sleep(5)
    page = httpx.get(f"{dashboard}models/demo-credit", timeout=30)  # no login in the demo
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=90)

    assert process.returncode == 0, err[-3000:]
    assert page.status_code == 200
    assert "demo-data-drift" in page.text
    assert "Summary (interrupted)" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert not listening(summary["dashboard_url"])
    engine = store(tmp_path)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("select count(*) from prediction_records")).scalar()
    engine.dispose()
    answered = summary["traffic"]["answered"] + summary["traffic"]["refused"]
    assert answered > 0
    assert stored == summary["records"]["records"] >= answered
