"""``driftline project check`` checks monitor params too, as ``driftline monitor`` would."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app

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
    result = CliRunner().invoke(app, ["--project", str(path), "project", "check"])
    return result.exit_code, result.output


def test_an_unknown_monitor_param_is_a_one_line_error(tmp_path: Path) -> None:
    code, output = check(tmp_path, "{bogus: 1}")

    assert code == 2
    assert output.strip().startswith("error: monitor 'm-drift': params.bogus")
    assert "unknown parameter" in output


def test_known_params_pass(tmp_path: Path) -> None:
    code, output = check(tmp_path, "{drift_share: 0.3}")

    assert code == 0, output
    assert "valid" in output
