"""``driftline project check`` checks monitor params too, as ``driftline monitor`` would."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli import driftline_in_process

PROJECT = """\
version: 1
models:
  - name: m
    task: regression
    features: [{name: a, kind: numeric}]
monitors:
  - name: m-drift
    model: m
    kind: data_drift
    schedule: {every: 1m}
    window: {type: rolling, size: 1h}
    reference: {type: previous_window}
    params: {PARAMS}
"""


def check(tmp_path: Path, params: str) -> tuple[int, str]:
    path = tmp_path / "driftline.yaml"
    path.write_text(PROJECT.replace("{PARAMS}", params))
    run = driftline_in_process(tmp_path, "--project", str(path), "project", "check")
    return run.returncode, run.stdout + run.stderr


def test_an_unknown_monitor_param_is_a_one_line_error(tmp_path: Path) -> None:
    code, output = check(tmp_path, "{bogus: 1}")

    assert code == 2
    assert output.strip().startswith("error: monitor 'm-drift': params.bogus")
    assert "unknown parameter" in output


def test_known_params_pass(tmp_path: Path) -> None:
    code, output = check(tmp_path, "{drift_share: 0.3}")

    assert code == 0, output
    assert "valid" in output
