"""``learning: online`` in the project file: parsed into the server's online settings, and
the mistakes refused with the field path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.project import ProjectFileError, parse_project
from monitor.serving_setup import model_configs

BASE: dict[str, Any] = yaml.safe_load(
    """
version: 1
models:
  - name: churn
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: age, kind: numeric}, {name: income, kind: numeric}]
    serving:
      runtime: python
      uri: "pkg.mod:model"
      learning: online
      online:
        labels: boolean
        batch_size: 16
        snapshot_every: 100
        snapshot_dir: snaps
        guard: {action: freeze, window: 50, detector: ddm}
"""
)


def _parse(document: dict[str, Any]) -> Any:
    return parse_project(yaml.safe_dump(document), source="driftline.yaml")


def test_the_online_block_becomes_the_servers_settings(tmp_path: Path) -> None:
    (config,) = model_configs(_parse(BASE), tmp_path)
    learning = config.learning
    assert learning is not None
    assert (learning.task, learning.classes, learning.labels) == (
        "binary_classification",
        ("no", "yes"),
        "boolean",
    )
    assert (learning.batch_size, learning.snapshot_every) == (16, 100)
    assert learning.snapshot_dir == str((tmp_path / "snaps").resolve())
    assert (learning.guard.action, learning.guard.window, learning.guard.detector) == (
        "freeze",
        50,
        "ddm",
    )
    offline = copy.deepcopy(BASE)
    del offline["models"][0]["serving"]["learning"], offline["models"][0]["serving"]["online"]
    assert model_configs(_parse(offline), tmp_path)[0].learning is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"learning": "offline"},
            "models[0].serving.online: only allowed with 'learning: online'",
        ),
        (
            {"runtime": "onnx", "uri": "m.onnx"},
            "models[0].serving.learning: online learning needs runtime sklearn or python",
        ),
        ({"online": {"batch_size": 0}}, "models[0].serving.online.batch_size"),
        ({"online": {"guard": {"action": "panic"}}}, "models[0].serving.online.guard.action"),
        ({"online": {"guard": {"window": 5}}}, "models[0].serving.online.guard.window"),
    ],
)
def test_mistakes_name_the_field(change: dict[str, Any], message: str) -> None:
    document = copy.deepcopy(BASE)
    document["models"][0]["serving"].update(change)
    with pytest.raises(ProjectFileError) as caught:
        _parse(document)
    assert message in str(caught.value)


def test_online_learning_needs_numeric_features() -> None:
    document = copy.deepcopy(BASE)
    document["models"][0]["features"].append({"name": "plan", "kind": "categorical"})
    with pytest.raises(ProjectFileError, match="needs numeric features; this model has categ"):
        _parse(document)


def _with_monitor(**monitor: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["monitors"] = [
        {
            "name": "learning",
            "model": "churn",
            "kind": "online_learning",
            "schedule": {"every": "1h"},
            "window": {"type": "tumbling", "size": "1h"},
            **monitor,
        }
    ]
    return document


def test_an_online_learning_monitor_watches_a_model_that_learns_online() -> None:
    assert _parse(_with_monitor()).monitors[0].kind == "online_learning"
    offline = _with_monitor()
    del offline["models"][0]["serving"]["learning"], offline["models"][0]["serving"]["online"]
    with pytest.raises(ProjectFileError) as caught:
        _parse(offline)
    assert "monitors[0].kind: model 'churn' does not learn online" in str(caught.value)
    with_reference = _with_monitor(reference={"type": "dataset", "dataset": "train"})
    with pytest.raises(ProjectFileError) as caught:
        _parse(with_reference)
    assert "monitors[0].reference: not allowed for online_learning monitors" in str(caught.value)
