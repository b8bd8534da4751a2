"""A model's ``collection`` block: validated with precise errors, and read by the sidecar."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from collectors.extract import Form, PayloadSpec
from monitor.errors import ConfigError
from monitor.project import Project, load_project
from monitor.project.collection_specs import PayloadForm
from monitor.sidecar_setup import TrafficOptions, with_project

HEAD = "version: 1\nmodels:\n"
CLF = """\
  - name: clf
    task: binary_classification
    classes: ["no", "yes"]
    features: [{name: age, kind: numeric}, {name: country, kind: categorical}]
"""
REG = """\
  - name: reg
    task: regression
    features: [{name: x, kind: numeric}]
"""


def load(tmp_path: Path, text: str) -> Project:
    path = tmp_path / "driftline.yaml"
    path.write_text(HEAD + text)
    return load_project(path)


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    return str(raised.value)


def test_the_forms_are_the_collectors_forms() -> None:
    assert get_args(PayloadForm) == get_args(Form)


def test_the_sidecar_reads_names_routes_and_payloads_from_the_project(tmp_path: Path) -> None:
    """The same mapping the reverse proxy's tests run with (tests/integration/collectors)."""
    project = load(
        tmp_path,
        CLF + "    collection: {server_names: [clf-gz]}\n"
        + REG
        + "    collection:\n"
        + "      proxy_routes: [/custom/score]\n"
        + "      payload: {features: data.rows, prediction: result.value}\n",
    )  # fmt: skip

    traffic = with_project(TrafficOptions(), project)

    assert traffic.model_names == {"clf-gz": "clf"}
    assert traffic.proxy_routes == {"/custom/score": "reg"}
    assert traffic.payloads == {
        "reg": PayloadSpec("json", features="data.rows", prediction="result.value")
    }


def test_the_command_line_wins_model_by_model(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        CLF + "    collection: {server_names: [a, b], payload: {prediction: label}}\n" + REG,
    )
    cli = TrafficOptions(
        model_names={"a": "reg"}, payloads={"clf": PayloadSpec("oip_v2", prediction="out")}
    )

    traffic = with_project(cli, project)

    assert traffic.model_names == {"a": "reg", "b": "clf"}
    assert traffic.payloads == {"clf": PayloadSpec("oip_v2", prediction="out")}


def test_an_explicit_form_is_kept(tmp_path: Path) -> None:
    project = load(tmp_path, CLF + "    collection: {payload: {form: oip_v2, prediction: p}}\n")

    (model,) = project.models
    assert model.collection is not None
    assert model.collection.payload is not None
    assert model.collection.payload.wire_form == "oip_v2"
    assert with_project(TrafficOptions(), None) == TrafficOptions()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "    collection: {payload: {form: json}}\n",
            "models[0].collection.payload: must set at least one of features, prediction",
        ),
        (
            "    collection: {payload: {features: data..rows}}\n",
            "models[0].collection.payload.features: must be a dotted path",
        ),
        (
            "    collection: {proxy_routes: [predict]}\n",
            "models[0].collection.proxy_routes[0]: must be a URL path starting with '/'",
        ),
        (
            "    collection: {server_names: [a, a]}\n",
            "models[0].collection.server_names[1]: duplicate server name 'a'",
        ),
        (
            "    collection: {payload: {form: xml, features: a}}\n",
            "models[0].collection.payload.form: ",
        ),
        ("    collection: {names: [a]}\n", "models[0].collection.names: key not allowed"),
    ],
)
def test_mistakes_name_the_field(tmp_path: Path, block: str, message: str) -> None:
    assert message in error(tmp_path, CLF + block)


def test_a_server_name_leads_to_one_model(tmp_path: Path) -> None:
    two = CLF + "    collection: {server_names: [shared]}\n" + REG
    two += "    collection: {server_names: [shared]}\n"
    other = CLF + "    collection: {server_names: [reg]}\n" + REG

    assert "models[1].collection.server_names[0]: 'shared' already leads to model 'clf'" in (
        error(tmp_path, two)
    )
    assert "models[0].collection.server_names[0]: 'reg' is the name of model 'reg'" in (
        error(tmp_path, other)
    )


def test_a_route_leads_to_one_model(tmp_path: Path) -> None:
    text = CLF + "    collection: {proxy_routes: [/p]}\n" + REG
    text += "    collection: {proxy_routes: [/p]}\n"

    assert "models[1].collection.proxy_routes[0]: '/p' already leads to model 'clf'" in error(
        tmp_path, text
    )
