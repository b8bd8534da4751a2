"""``driftline backfill`` as a user runs it: progress, resumability, clear mistakes.

The mistakes, refused before any window is computed, run in this process
(``driftline_in_process``); the backfills run as real processes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from monitor.project import load_project
from monitor.scheduling.sync import sync_project
from storage import (
    PredictionBatch,
    create_engine,
    create_session_factory,
    get_model_version,
    insert_predictions,
    sqlite_url,
)
from storage.migrations import upgrade
from storage.repositories.monitors import list_results
from tests.integration.test_cli import assert_ok, driftline, driftline_in_process

pytestmark = pytest.mark.integration

PROJECT = """version: 1
models:
  - name: reg
    task: regression
    features: [{name: x, kind: numeric}]
monitors:
  - name: hourly-failures
    model: reg
    kind: failures
    schedule: {every: 1h}
    window: {type: tumbling, size: 1h}
    min_samples: 10
"""
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "driftline.yaml").write_text(PROJECT)
    engine = create_engine(sqlite_url(tmp_path / ".driftline" / "driftline.db"))
    upgrade(engine)
    sync_project(engine, load_project(tmp_path / "driftline.yaml"))
    with create_session_factory(engine)() as session:
        handle = get_model_version(session, "reg")
    n = 48 * 20  # 20 records an hour for two days
    stamps = (T0 - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    insert_predictions(
        engine,
        handle,
        PredictionBatch(
            request_ids=[f"r{i}" for i in range(n)],
            timestamps_us=stamps + np.arange(n, dtype=np.int64) * 180_000_000,
            features={"x": np.linspace(0, 1, n)},
            predictions=np.zeros(n).tolist(),
        ),
    )
    engine.dispose()
    return tmp_path


def stored_windows(directory: Path) -> int:
    engine = create_engine(sqlite_url(directory / ".driftline" / "driftline.db"))
    try:
        return len(list_results(engine, monitor_name="hourly-failures", limit=1000).items)
    finally:
        engine.dispose()


def test_a_backfill_computes_each_window_once_and_resumes(project_dir: Path) -> None:
    first = driftline(project_dir, "backfill", "reg", "--from", "2026-03-01", "--to", "2026-03-02")
    again = driftline(project_dir, "backfill", "reg", "--from", "2026-03-01", "--to", "2026-03-03")

    assert_ok(first)
    assert "backfilled 24 windows: 24 ok" in first.stdout
    assert_ok(again)
    assert "24 windows already computed, skipped" in again.stdout
    assert "backfilled 24 windows: 24 ok" in again.stdout
    assert stored_windows(project_dir) == 48


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-03-02", "--to", "2026-03-01"), "--to 2026-03-01T00:00:00+00:00 must"),
        (("--from", "2026-03-01T00:00", "--to", "2026-03-02"), "needs a timezone"),
        (("--from", "last week", "--to", "2026-03-02"), "is not an ISO-8601 date or time"),
        (("--from", "2026-03-01", "--to", "2026-03-02", "--monitor", "nope"), "monitor 'nope'"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_and_exit_2(
    project_dir: Path, args: tuple[str, ...], message: str
) -> None:
    run = driftline_in_process(project_dir, "backfill", "reg", *args)

    assert run.returncode == 2, run.transcript
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert stored_windows(project_dir) == 0


def test_a_model_without_monitors_says_so(project_dir: Path) -> None:
    args = ("backfill", "other", "--from", "2026-03-01", "--to", "2026-03-02")
    run = driftline_in_process(project_dir, *args)

    assert run.returncode == 2, run.transcript
    assert "model 'other' has no monitors to backfill" in run.stderr
