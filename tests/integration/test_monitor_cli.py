"""``driftline monitor`` refuses a project whose monitors cannot run, before serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli import driftline

pytestmark = pytest.mark.integration

PROJECT = """version: 1
models:
  - name: reg
    task: regression
    features: [{name: x, kind: numeric}]
monitors:
  - name: slow
    model: reg
    kind: health
    schedule: {every: 1m}
    window: {type: rolling, size: 5m}
    params: {p99_slo: 0.5, p98_slo: 0.4}
"""


def test_bad_monitor_params_stop_the_monitor_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "driftline.yaml").write_text(PROJECT)

    run = driftline(tmp_path, "monitor", "--port", "1")

    assert run.returncode == 2, run.transcript
    assert run.stderr.startswith("error: monitor 'slow': params.p98_slo")
    assert "known parameters" in run.stderr
    assert "Traceback" not in run.stderr
