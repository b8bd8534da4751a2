"""The demo's project file is a valid project that watches what the scenario injects."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerting.signing import new_secret
from monitor.demo.project_file import (
    ALERT_SECRET_VARIABLE,
    DEMO_MODEL,
    RETRAIN_SECRET_VARIABLE,
    RULES,
    project_yaml,
)
from monitor.demo.scenario import PHASES
from monitor.errors import ConfigError
from monitor.project import Project, load_project
from monitor.scheduling.sync import check_monitor_params

SECRETS = {ALERT_SECRET_VARIABLE: new_secret(), RETRAIN_SECRET_VARIABLE: new_secret()}


def write(tmp_path: Path) -> Path:
    path = tmp_path / "driftline.yaml"
    text = project_yaml(monitor_url="http://127.0.0.1:8000", receiver_url="http://127.0.0.1:9")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return load_project(write(tmp_path), environ=SECRETS)


def test_the_file_loads_and_its_monitor_params_check(project: Project) -> None:
    check_monitor_params(project)

    assert [model.name for model in project.models] == [DEMO_MODEL]
    assert project.models[0].serving is not None


def test_each_injected_problem_has_a_rule_on_a_monitor_of_the_kind_that_sees_it(
    project: Project,
) -> None:
    kinds = {monitor.name: monitor.kind for monitor in project.monitors}
    rules = {rule.name: rule for rule in project.alert_rules}

    for phase in PHASES[1:]:
        rule = rules[RULES[phase.detected_by]]
        assert kinds[rule.monitor] == phase.detected_by
        assert rule.for_.total_seconds() == 0
        assert rule.channels == ("on-call",)


def test_drift_and_decay_ask_for_retraining_but_failures_do_not(project: Project) -> None:
    rules = {rule.name: rule for rule in project.alert_rules}

    assert rules[RULES["data_drift"]].retrain is not None
    assert rules[RULES["performance"]].retrain is not None
    assert rules[RULES["failures"]].retrain is None


def test_the_secrets_stay_in_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path)

    assert "whsec_" not in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=ALERT_SECRET_VARIABLE):
        load_project(path, environ={RETRAIN_SECRET_VARIABLE: new_secret()})
