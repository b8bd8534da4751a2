"""Tests of the channel declarations this layer relies on: ``retrain``, webhook headers and
signing secrets, as the project loader reports them."""

from __future__ import annotations

import pytest

from monitor.errors import ProjectFileError
from monitor.project import parse_project
from monitor.project.channels import RetrainChannel
from tests.unit.monitor.alerting.channels.items import SECRET


def _load(channel: str) -> RetrainChannel:
    project = parse_project(f"version: 1\nchannels:\n  - {channel}", source="driftline.yaml")
    (spec,) = project.channels
    assert isinstance(spec, RetrainChannel)
    return spec


def _error(channel: str) -> str:
    with pytest.raises(ProjectFileError) as caught:
        parse_project(f"version: 1\nchannels:\n  - {channel}", source="driftline.yaml")
    return str(caught.value)


def test_url_preset_defaults() -> None:
    spec = _load(f"{{name: r, type: retrain, url: 'https://ci.example.com/h', secret: {SECRET}}}")

    assert spec.preset == "url"
    assert spec.secret is not None
    assert spec.secret.get_secret_value() == SECRET
    assert spec.timeout_seconds == 15.0
    assert spec.send_resolved is True


def test_airflow_preset() -> None:
    spec = _load(
        "{name: r, type: retrain, preset: airflow, url: 'https://airflow.example.com', "
        "dag_id: retrain.credit-v2, api_version: 2, token: t0k3n, timeout_seconds: 30}"
    )

    assert (spec.dag_id, spec.api_version, spec.timeout_seconds) == ("retrain.credit-v2", 2, 30)
    assert spec.token is not None
    assert "t0k3n" not in repr(spec)


def test_github_preset_defaults() -> None:
    spec = _load("{name: r, type: retrain, preset: github, repository: acme/model, token: t}")

    assert spec.event_type == "driftline.retrain"
    assert spec.api_url == "https://api.github.com"
    assert spec.secret is None


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        (
            "{name: r, type: retrain, url: 'https://x.example/h'}",
            "channels[0].secret: required for preset 'url'",
        ),
        ("{name: r, type: retrain, secret: SECRET}", "channels[0].url: required for preset 'url'"),
        (
            "{name: r, type: retrain, url: 'https://x.example/h', secret: whsec_AAAA}",
            "channels[0].secret: must be a Standard Webhooks secret of 24 to 64 bytes, got 3 bytes",
        ),
        (
            "{name: r, type: retrain, url: 'https://x.example/h', secret: 's3cr3t!'}",
            "channels[0].secret: must be a Standard Webhooks secret: 'whsec_' followed by base64",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example'}",
            "channels[0].dag_id: required for preset 'airflow'",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example/api/v1', dag_id: d}",
            "channels[0].url: must be the base URL of the Airflow web server, without the API "
            "path (/api/v1 or /api/v2 follows from api_version), got 'https://x.example/api/v1'",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example', dag_id: 'd d'}",
            "channels[0].dag_id: must be an Airflow DAG id: 1-250 letters, digits, '_', '.' or "
            "'-', got 'd d'",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example', dag_id: d, "
            "username: u}",
            "channels[0].password: required when username is set (HTTP basic auth)",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example', dag_id: d, "
            "username: u, password: p, token: t}",
            "channels[0].username: cannot be combined with token: use a bearer token or a user "
            "name and password",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example', dag_id: d, "
            "username: u, password: p, api_version: 2}",
            "channels[0].username: basic auth works with Airflow's API v1 only; API v2 "
            "(Airflow 3) takes a JWT bearer token: set token instead",
        ),
        (
            "{name: r, type: retrain, preset: airflow, url: 'https://x.example', dag_id: d, "
            "api_version: 3}",
            "channels[0].api_version: must be one of 1 or 2, got 3",
        ),
        (
            "{name: r, type: retrain, preset: github, repository: a/b, token: t, "
            "url: 'https://x.example'}",
            "channels[0].url: only applies to preset 'url' or 'airflow'; this channel's preset "
            "is 'github'",
        ),
        (
            "{name: r, type: retrain, url: 'https://x.example', secret: SECRET, dag_id: d}",
            "channels[0].dag_id: only applies to preset 'airflow'; this channel's preset is 'url'",
        ),
        (
            "{name: r, type: retrain, preset: github, token: t}",
            "channels[0].repository: required for preset 'github'",
        ),
        (
            "{name: r, type: retrain, preset: github, repository: a/b}",
            "channels[0].token: required for preset 'github'",
        ),
        (
            "{name: r, type: retrain, preset: github, repository: acme, token: t}",
            "channels[0].repository: must be a GitHub repository written 'owner/name', got 'acme'",
        ),
        (
            "{name: r, type: retrain, preset: github, repository: a/b, token: t, event_type: ''}",
            "channels[0].event_type: must not be empty, got ''",
        ),
        (
            "{name: r, type: retrain, preset: gitlab}",
            "channels[0].preset: must be one of 'url', 'airflow' or 'github', got 'gitlab'",
        ),
        (
            "{name: r, type: webhook, url: 'https://x.example', headers: {Webhook-Id: x}}",
            "channels[0].headers.Webhook-Id: is set by Driftline on every request and cannot "
            "be set here",
        ),
        (
            "{name: r, type: webhook, url: 'https://x.example', headers: {'a b': x}}",
            "channels[0].headers['a b']: is not a valid HTTP header name (letters, digits and "
            "!#$%&'*+.^_`|~-)",
        ),
    ],
)
def test_invalid_declarations_give_one_exact_line(channel: str, message: str) -> None:
    assert _error(channel.replace("SECRET", SECRET)) == f"driftline.yaml: {message}"


def test_secrets_never_appear_in_messages() -> None:
    message = _error(
        "{name: r, type: retrain, preset: airflow, url: 'https://x.example', dag_id: d, "
        "username: u, password: hunter2-s3cr3t, token: t0k3n-s3cr3t}"
    )

    assert "s3cr3t" not in message
