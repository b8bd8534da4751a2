"""Pipelines and ensembles in the project file: parsed into serving configurations, and the
mistakes refused with the field path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.project import Project, ProjectFileError, parse_project
from monitor.serving_setup import model_configs
from serving.composite import EnsembleConfig, PipelineConfig, PipelineStep

BASE: dict[str, Any] = yaml.safe_load(
    """
version: 1
models:
  - name: scaler
    task: regression
    features: [{name: age, kind: numeric}, {name: income, kind: numeric}]
    serving: {runtime: python, uri: "pkg.mod:scale"}
  - name: clf
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: s_age, kind: numeric}, {name: s_income, kind: numeric}]
    serving: {runtime: sklearn, uri: clf.joblib, allow_pickle: true}
  - name: other
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: age, kind: numeric}]
    serving: {runtime: sklearn, uri: other.joblib, allow_pickle: true}
  - name: churn
    task: binary_classification
    classes: ["no", "yes"]
    version: "4"
    features: [{name: age, kind: numeric}, {name: income, kind: numeric}]
    serving:
      pipeline:
        steps:
          - model: scaler
          - {model: clf, inputs: predict}
        outputs: {label: predict}
      batching: {timeout_ms: 500}
  - name: vote
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: age, kind: numeric}, {name: income, kind: numeric}]
    serving:
      ensemble: {members: [other, churn], combine: vote, outputs: [label]}
"""
)


def parse(document: dict[str, Any]) -> Project:
    return parse_project(yaml.safe_dump(document), source="driftline.yaml")


def changed(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a dotted path (``models.3.serving``) replaced."""
    document = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return document


def test_composites_become_serving_configurations(tmp_path: Path) -> None:
    configs = {c.name: c for c in model_configs(parse(BASE), tmp_path)}
    churn = configs["churn"]
    assert churn.composite == PipelineConfig(
        steps=(PipelineStep("scaler"), PipelineStep("clf", "predict")),
        outputs={"label": "predict"},
    )
    assert (churn.runtime, churn.version, churn.batching.timeout_ms) == ("pipeline", "4", 500)
    assert churn.feature_names == ("age", "income")
    assert configs["vote"].composite == EnsembleConfig(("other", "churn"), "vote", ("label",))
    assert configs["clf"].composite is None
    assert configs["clf"].uri == str(tmp_path / "clf.joblib")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "models.3.serving.pipeline.steps.1.model",
            "clff",
            "models[3].serving.pipeline.steps[1].model: unknown model 'clff'; declared models: "
            "scaler, clf, other, churn, vote",
        ),
        (
            "models.3.serving.pipeline.steps.0.model",
            "churn",
            "models[3].serving.pipeline.steps[0].model: a composite cannot name itself",
        ),
        (
            "models.4.serving.ensemble.members",
            ["other", "vote"],
            "models[4].serving.ensemble.members[1]: a composite cannot name itself",
        ),
        (
            "models.3.serving.pipeline.steps.0.model",
            "vote",
            "models[3].serving: its members call it back: churn → vote → churn",
        ),
        (
            "models.3.serving.pipeline.steps.1.inputs",
            {"s_agee": "predict"},
            "models[3].serving.pipeline.steps[1].inputs.s_agee: model 'clf' has no input "
            "'s_agee'; its features: s_age, s_income",
        ),
        (
            "models.3.serving.pipeline.steps.0.inputs",
            {"age": "salary"},
            "models[3].serving.pipeline.steps[0].inputs.age: input 'age' of model 'scaler': "
            "'churn' has no feature 'salary'; its features: age, income",
        ),
        (
            "models.3.serving.pipeline.steps.0.inputs",
            "predict",
            "models[3].serving.pipeline.steps[0].inputs: the first step reads the pipeline's "
            "features",
        ),
        (
            "models.4.features",
            [{"name": "age", "kind": "categorical"}, {"name": "income", "kind": "numeric"}],
            "input 'age' of model 'other' is numeric, but feature 'age' of 'vote' is categorical",
        ),
        (
            "models.4.serving.ensemble.members",
            ["other", "other"],
            "models[4].serving.ensemble.members[1]: 'other' is listed twice",
        ),
        (
            "models.4.serving.ensemble.combine",
            "median",
            "models[4].serving.ensemble.combine: must be mean, vote or 'package.module:function'",
        ),
        (
            "models.3.serving.runtime",
            "sklearn",
            "models[3].serving.runtime: not allowed for a pipeline",
        ),
        (
            "models.3.serving.batching",
            {"max_batch_size": 8},
            "models[3].serving.batching.max_batch_size: only timeout_ms applies to a pipeline",
        ),
        (
            "models.1.serving",
            {"runtime": "sklearn"},
            "models[1].serving.uri: required (or declare a pipeline or an ensemble)",
        ),
    ],
)
def test_composite_mistakes_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ProjectFileError) as caught:
        parse(changed(path, value))
    assert message in str(caught.value)


def test_a_member_must_be_served() -> None:
    document = copy.deepcopy(BASE)
    del document["models"][2]["serving"]
    with pytest.raises(ProjectFileError) as caught:
        parse(document)
    assert (
        "models[4].serving.ensemble.members[0]: model 'other' has no serving block; "
        "driftline serve cannot call it"
    ) in str(caught.value)
