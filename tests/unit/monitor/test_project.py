"""Tests of :mod:`monitor.project`: the project file ``driftline.yaml``."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from monitor.errors import ConfigError, NotDeclaredError
from monitor.project import (
    DatasetReference,
    EmailChannel,
    FixedWindowReference,
    Project,
    ProjectFileError,
    SinceLastRunWindow,
    SlackChannel,
    TumblingWindow,
    WebhookChannel,
    check_cron,
    format_duration,
    load_project,
    parse_duration,
    parse_project,
)

ROOT = Path(__file__).resolve().parents[3]
FULL = ROOT / "tests" / "fixtures" / "projects" / "full.yaml"
EXAMPLE = ROOT / "examples" / "driftline.yaml"

SECRETS = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/s3cr3t-slack",
    "PAGERDUTY_ROUTING_KEY": "s3cr3t-pagerduty",
    "TEAMS_WEBHOOK_URL": "https://example.webhook.office.com/s3cr3t-teams",
    "OPSGENIE_API_KEY": "s3cr3t-opsgenie",
    "SMTP_PASSWORD": "s3cr3t-smtp",
    "RETRAIN_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "CI_TOKEN": "s3cr3t-ci",
}

# A small valid project; invalid cases are this with one change.
BASE: dict[str, Any] = yaml.safe_load(
    """
version: 1
models:
  - name: credit-risk
    task: binary_classification
    classes: [good, bad]
    features:
      - {name: age, kind: numeric}
      - {name: country, kind: categorical}
monitors:
  - name: credit-data-drift
    model: credit-risk
    kind: data_drift
    schedule: {every: 15m}
    window: {type: tumbling, size: 1h}
    reference: {type: dataset, dataset: training-2026-10}
alert_rules:
  - name: credit-drift-high
    monitor: credit-data-drift
    condition: {metric: drift_share, op: ">", value: 0.3}
    channels: [risk-slack]
channels:
  - name: risk-slack
    type: slack
    webhook_url: ${SLACK_WEBHOOK_URL}
"""
)

_DELETE = object()


def _changed(path: str, value: object) -> str:
    """BASE as YAML, with the value at a dotted path (``monitors.0.kind``) set or deleted."""
    data = copy.deepcopy(BASE)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    node: Any = data
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


def _error(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ProjectFileError) as info:
        parse_project(
            text, source="driftline.yaml", environ=SECRETS if environ is None else environ
        )
    message = str(info.value)
    assert "\n" not in message
    return message


# --- valid files -------------------------------------------------------------------------


def test_full_fixture_parses() -> None:
    project = load_project(FULL, environ=SECRETS)

    assert [model.name for model in project.models] == ["credit-risk", "churn", "house-price"]
    credit = project.model("credit-risk")
    assert credit.classes == ("good", "bad")
    assert credit.version == "3"
    assert credit.feature("embedding").dims == 384
    assert project.model("house-price").classes is None
    assert project.model("house-price").version == "2"  # unquoted 2 is read as the label "2"

    drift = project.monitor("credit-data-drift")
    assert drift.schedule.every == timedelta(minutes=15)
    assert drift.window == TumblingWindow(type="tumbling", size=timedelta(hours=1))
    assert drift.reference == DatasetReference(type="dataset", dataset="training-2026-10")
    assert drift.features == ("age", "country")
    assert drift.params == {
        "alpha": 0.05,
        "correction": "bh",
        "bins": (0, 10, 20),
        "enabled_tests": ("ks", "chi2"),
    }
    prediction = project.monitor("credit-prediction-drift")
    assert prediction.schedule.cron == "0 */6 * * mon-fri"
    assert prediction.schedule.every is None
    assert isinstance(prediction.reference, FixedWindowReference)
    assert prediction.reference.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert prediction.reference.end == datetime(2026, 10, 7, 22, tzinfo=UTC)
    assert project.monitor("churn-performance").window == SinceLastRunWindow(type="since_last_run")
    assert project.monitor("churn-performance").schedule.every == timedelta(hours=1, minutes=30)
    assert project.monitor("house-health").enabled is False
    assert project.monitor("house-health").min_samples == 100
    assert project.monitor("house-health").sample_limit == 100_000

    rule = project.alert_rule("credit-drift-high")
    assert rule.for_ == timedelta(minutes=10)
    assert rule.annotations == {"summary": "Drift share {{ value }} on {{ model }}"}
    assert project.alert_rule("churn-accuracy-low").for_ == timedelta(0)
    assert project.alert_rule("house-errors").severity == "warning"
    assert project.alert_rule("house-errors").condition.value == 1.0

    slack = project.channel("risk-slack")
    assert isinstance(slack, SlackChannel)
    assert slack.webhook_url.get_secret_value() == SECRETS["SLACK_WEBHOOK_URL"]
    assert project.channel("ml-teams").send_resolved is False
    email = project.channel("ml-email")
    assert isinstance(email, EmailChannel)
    assert email.password is not None
    assert email.password.get_secret_value() == "s3cr3t-smtp"
    assert email.to == ("ml-team@example.com", "risk@example.com")
    hook = project.channel("retrain-hook")
    assert isinstance(hook, WebhookChannel)
    assert hook.headers["Authorization"].get_secret_value() == "Bearer s3cr3t-ci"
    assert hook.timeout_seconds == 5.0
    pagerduty = project.channel("oncall-pagerduty")
    assert pagerduty.events_url == "https://events.pagerduty.com/v2/enqueue"  # type: ignore[union-attr]


def test_example_file_parses() -> None:
    project = load_project(EXAMPLE, environ=SECRETS)

    assert project.version == 1
    assert {monitor.kind for monitor in project.monitors} >= {"data_drift", "prediction_drift"}
    for rule in project.alert_rules:
        for channel in rule.channels:
            project.channel(channel)


def test_example_monitors_can_run() -> None:
    from monitor.scheduling.sync import check_monitor_params

    check_monitor_params(load_project(EXAMPLE, environ=SECRETS))  # raises on a bad param


def test_minimal_project() -> None:
    project = parse_project("version: 1\n")

    assert project == Project(version=1)


def test_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/from-os-environ")

    project = parse_project(yaml.safe_dump(BASE))

    slack = project.channel("risk-slack")
    assert isinstance(slack, SlackChannel)
    assert slack.webhook_url.get_secret_value() == "https://hooks.slack.com/from-os-environ"


def test_references_inside_strings_and_escapes() -> None:
    text = _changed(
        "alert_rules.0.annotations",
        {"summary": "drift on ${CLUSTER}/${ZONE}", "literal": "keep $${CLUSTER} as is"},
    )

    project = parse_project(text, environ={**SECRETS, "CLUSTER": "eu-1", "ZONE": "b"})

    assert project.alert_rules[0].annotations == {
        "summary": "drift on eu-1/b",
        "literal": "keep ${CLUSTER} as is",
    }


def test_project_is_frozen() -> None:
    project = parse_project(yaml.safe_dump(BASE), environ=SECRETS)

    with pytest.raises(ValidationError):
        project.monitors[0].min_samples = 5  # type: ignore[misc]


def test_json_dump_round_trips_without_channels() -> None:
    data = copy.deepcopy(BASE)
    data["alert_rules"][0]["channels"] = []
    del data["channels"]
    data["alert_rules"][0]["for"] = "1h30m"
    project = parse_project(yaml.safe_dump(data))

    dumped = project.model_dump(mode="json")

    assert dumped["alert_rules"][0]["for"] == "1h30m"
    assert dumped["monitors"][0]["schedule"]["every"] == "15m"
    assert parse_project(yaml.safe_dump(dumped)) == project


def test_json_schema_describes_the_file_format() -> None:
    schema = Project.model_json_schema()

    rule = schema["$defs"]["AlertRuleSpec"]
    assert rule["additionalProperties"] is False
    assert rule["properties"]["for"]["type"] == "string"
    assert rule["properties"]["for"]["default"] == "0s"
    assert rule["properties"]["for"]["description"].startswith("How long the condition")
    assert schema["$defs"]["SlackChannel"]["properties"]["webhook_url"]["writeOnly"] is True


def test_lookups_raise_key_errors_naming_what_is_declared() -> None:
    project = parse_project(yaml.safe_dump(BASE), environ=SECRETS)

    with pytest.raises(NotDeclaredError) as info:
        project.model("credit-risc")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == (
        "no model named 'credit-risc' in the project; declared models: credit-risk"
    )
    with pytest.raises(KeyError, match="no monitor named 'x'"):
        project.monitor("x")
    with pytest.raises(KeyError, match=r"no channel named 'x'.*risk-slack"):
        project.channel("x")
    with pytest.raises(KeyError, match="no alert rule named 'x'"):
        project.alert_rule("x")
    with pytest.raises(KeyError, match="model 'credit-risk' has no feature 'x'; features: age"):
        project.model("credit-risk").feature("x")


# --- invalid content: one exact message each -----------------------------------------------

INVALID = [
    # wrong types
    ("monitors.0.min_samples", "abc", "monitors[0].min_samples: must be an integer, got 'abc'"),
    ("monitors.0.min_samples", 0, "monitors[0].min_samples: must be >= 1, got 0"),
    ("monitors.0.sample_limit", 10, "monitors[0].sample_limit: must be >= 1000, got 10"),
    (
        "monitors.0.min_samples",
        200_000,
        "monitors[0].min_samples: must be <= sample_limit (100000), got 200000",
    ),
    (
        "monitors.0.enabled",
        "sometimes",
        "monitors[0].enabled: must be true or false, got 'sometimes'",
    ),
    ("monitors", {"a": 1}, "monitors: must be a list, got a mapping"),
    ("monitors.0.window", "1h", "monitors[0].window: must be a mapping, got '1h'"),
    ("alert_rules.0.labels", {"team": 1}, "alert_rules[0].labels.team: must be a string, got 1"),
    (
        "alert_rules.0.condition.value",
        "high",
        "alert_rules[0].condition.value: must be a number, got 'high'",
    ),
    (
        "alert_rules.0.condition.op",
        "=>",
        "alert_rules[0].condition.op: must be one of '>', '>=', '<', '<=', '==' or '!=', got '=>'",
    ),
    (
        "models.0.task",
        "classification",
        "models[0].task: must be one of 'binary_classification', 'multiclass_classification' "
        "or 'regression', got 'classification'",
    ),
    ("version", 2, "version: must be 1, got 2"),
    ("version", True, "version: must be 1, got true"),
    (
        "models.0.name",
        "Credit Risk",
        "models[0].name: must be 1-63 lower-case letters, digits, '_', '.' or '-', "
        "starting with a letter or digit, got 'Credit Risk'",
    ),
    ("models.0.features", [], "models[0].features: must not be empty, got []"),
    # unknown keys
    (
        "monitors.0.enabeld",
        True,
        "monitors[0].enabeld: key not allowed (did you mean 'enabled'?); allowed keys: name, "
        "model, kind, version, schedule, window, reference, min_samples, sample_limit, "
        "features, params, enabled",
    ),
    (
        "monitors.0.window",
        {"type": "since_last_run", "size": "1h"},
        "monitors[0].window.size: key not allowed; allowed keys: type",
    ),
    (
        "monitors.0.reference",
        {"type": "dataset", "dataset": "x", "split": "train"},
        "monitors[0].reference.split: key not allowed; allowed keys: type, dataset",
    ),
    (
        "channels.0.webhook",
        "https://example.com",
        "channels[0].webhook: key not allowed (did you mean 'webhook_url'?); allowed keys: name, "
        "send_resolved, type, webhook_url",
    ),
    (
        "alert_rules.0.fr",
        "10m",
        "alert_rules[0].fr: key not allowed (did you mean 'for'?); allowed keys: name, monitor, "
        "condition, for, severity, labels, annotations, channels, keep_firing_for, retrain",
    ),
    # missing required
    ("version", _DELETE, "version: missing required field"),
    ("models.0.task", _DELETE, "models[0].task: missing required field"),
    ("monitors.0.window", {"type": "rolling"}, "monitors[0].window.size: missing required field"),
    ("channels.0.type", _DELETE, "channels[0].type: missing required field"),
    (
        "monitors.0.reference",
        _DELETE,
        "monitors[0].reference: required for data_drift monitors",
    ),
    # models
    ("models.0.task", "regression", "models[0].classes: not allowed for regression models"),
    ("models.0.classes", _DELETE, "models[0].classes: required for binary_classification models"),
    (
        "models.0.classes",
        ["a", "b", "c"],
        "models[0].classes: must list exactly 2 classes for binary_classification, got 3",
    ),
    (
        "models.0.classes",
        ["a", "a"],
        "models[0].classes[1]: duplicate class 'a', first at classes[0]",
    ),
    (
        "models.0.features.0",
        {"name": "age", "kind": "embedding"},
        "models[0].features[0].dims: required for embedding features",
    ),
    (
        "models.0.features.0",
        {"name": "age", "kind": "numeric", "dims": 8},
        "models[0].features[0].dims: only allowed for embedding features, not numeric, got 8",
    ),
    (
        "models.0.features.0",
        {"name": "age", "kind": "embedding", "dims": 0},
        "models[0].features[0].dims: must be >= 1, got 0",
    ),
    (
        "models.0.features.1.name",
        "age",
        "models[0].features[1].name: duplicate feature name 'age', first at features[0]",
    ),
    # durations and schedules
    (
        "monitors.0.schedule",
        {"every": "15 minutes"},
        "monitors[0].schedule.every: must be a duration like 30s, 15m, 1h, 1d or 1h30m "
        "(units d, h, m, s, largest first), got '15 minutes'",
    ),
    (
        "alert_rules.0.for",
        600,
        "alert_rules[0].for: must be a duration like 30s, 15m, 1h, 1d or 1h30m "
        "(units d, h, m, s, largest first), got 600",
    ),
    (
        "monitors.0.schedule",
        {"every": "5s"},
        "monitors[0].schedule.every: must be at least 10s, got '5s'",
    ),
    (
        "monitors.0.window",
        {"type": "tumbling", "size": "0s"},
        "monitors[0].window.size: must be longer than 0s, got '0s'",
    ),
    (
        "monitors.0.schedule",
        {"cron": "61 * * * *"},
        "monitors[0].schedule.cron: must be a 5-field cron expression: minute 61 is out of "
        "range 0-59, got '61 * * * *'",
    ),
    (
        "monitors.0.schedule",
        {"cron": "0 9 * *"},
        "monitors[0].schedule.cron: must be a 5-field cron expression: found 4 fields, expected "
        "minute hour day-of-month month day-of-week, got '0 9 * *'",
    ),
    (
        "monitors.0.schedule",
        {"every": "1m", "cron": "* * * * *"},
        "monitors[0].schedule: must set exactly one of 'every' or 'cron', got both",
    ),
    (
        "monitors.0.schedule",
        {},
        "monitors[0].schedule: must set exactly one of 'every' or 'cron', got neither",
    ),
    # references and windows
    (
        "monitors.0.reference",
        {"type": "fixed_window", "start": "2026-10-02T00:00:00Z", "end": "2026-10-01T00:00:00Z"},
        "monitors[0].reference.end: must be after start (2026-10-02T00:00:00+00:00), "
        "got '2026-10-01T00:00:00+00:00'",
    ),
    (
        "monitors.0.reference",
        {"type": "fixed_window", "start": "2026-10-01T00:00:00", "end": "2026-10-02T00:00:00Z"},
        "monitors[0].reference.start: must include a timezone, like 2026-10-01T00:00:00Z, "
        "got '2026-10-01T00:00:00'",
    ),
    (
        "monitors.0.reference",
        {"type": "last_month"},
        "monitors[0].reference.type: must be one of 'dataset', 'fixed_window', "
        "'previous_window', 'same_window_last_week', got 'last_month'",
    ),
    (
        "monitors.0.params",
        {"bins": {"low": 1}},
        "monitors[0].params.bins: must be a scalar (string, number, boolean, null) or a list of "
        "scalars, got a mapping",
    ),
    # cross references
    (
        "monitors.0.model",
        "credit-risc",
        "monitors[0].model: unknown model 'credit-risc'; declared models: credit-risk",
    ),
    (
        "monitors.0.features",
        ["age", "income"],
        "monitors[0].features[1]: unknown feature 'income'; features of model 'credit-risk': "
        "age, country",
    ),
    (
        "alert_rules.0.monitor",
        "credit-drift",
        "alert_rules[0].monitor: unknown monitor 'credit-drift'; declared monitors: "
        "credit-data-drift",
    ),
    (
        "alert_rules.0.channels",
        ["risk-slack", "risk-teams"],
        "alert_rules[0].channels[1]: unknown channel 'risk-teams'; declared channels: risk-slack",
    ),
    (
        "channels",
        [],
        "alert_rules[0].channels[0]: unknown channel 'risk-slack'; declared channels: (none)",
    ),
    (
        "alert_rules.0.channels",
        ["risk-slack", "risk-slack"],
        "alert_rules[0].channels[1]: duplicate channel 'risk-slack', first at channels[0]",
    ),
    # channels
    (
        "channels.0.type",
        "slak",
        "channels[0].type: must be one of 'slack', 'pagerduty', 'teams', 'opsgenie', 'email', "
        "'webhook', 'retrain', got 'slak'",
    ),
    (
        "channels.0",
        {
            "name": "mail",
            "type": "email",
            "smtp_host": "smtp.example.com",
            "from_address": "driftline",
            "to": ["a@example.com"],
        },
        "channels[0].from_address: must be an e-mail address like alerts@example.com, "
        "got 'driftline'",
    ),
    (
        "channels.0",
        {"name": "hook", "type": "webhook", "url": "ftp://example.com", "timeout_seconds": 0},
        "channels[0].url: must be an http:// or https:// URL, got 'ftp://example.com' "
        "(and 1 more error)",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "expected"), INVALID, ids=[case[2][:60] for case in INVALID]
)
def test_invalid_content_gives_one_exact_line(path: str, value: object, expected: str) -> None:
    assert _error(_changed(path, value)) == f"driftline.yaml: {expected}"


def test_duplicate_names_in_a_section() -> None:
    data = copy.deepcopy(BASE)
    data["monitors"].append(copy.deepcopy(data["monitors"][0]))

    assert _error(yaml.safe_dump(data)) == (
        "driftline.yaml: monitors[1].name: duplicate name 'credit-data-drift', first at monitors[0]"
    )


def test_several_errors_are_counted() -> None:
    data = copy.deepcopy(BASE)
    data["monitors"][0]["min_samples"] = 0
    data["monitors"][0]["sample_limit"] = 1
    data["models"][0]["task"] = "ranking"

    assert _error(yaml.safe_dump(data)) == (
        "driftline.yaml: models[0].task: must be one of 'binary_classification', "
        "'multiclass_classification' or 'regression', got 'ranking' (and 2 more errors)"
    )


def test_error_is_a_config_error_with_source_and_field() -> None:
    with pytest.raises(ProjectFileError) as info:
        parse_project(_changed("monitors.0.min_samples", 0), source="x.yaml", environ=SECRETS)

    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, ValueError)
    assert info.value.source == "x.yaml"
    assert info.value.field == "monitors[0].min_samples"


# --- YAML and file errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nmodels: a: b\n",
            "driftline.yaml:2:10: invalid YAML: mapping values are not allowed here",
        ),
        (
            "version: 1\nmodels:\n  - name: a\n   task: regression\n",
            "driftline.yaml:4:4: invalid YAML: expected <block end>, but found '<block mapping "
            "start>' (while parsing a block collection at line 3, column 3)",
        ),
        (
            "version: 1\nmodels: [\n",
            "driftline.yaml:3:1: invalid YAML: expected the node content, but found "
            "'<stream end>' (while parsing a flow node at line 3, column 1)",
        ),
        ("version: 1\nversion: 1\n", "driftline.yaml:2:1: invalid YAML: duplicate key 'version'"),
        (
            "version: 1\n\tmodels: []\n",
            "driftline.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token",
        ),
        (
            "version: 1\nmodels: \x07\n",
            "driftline.yaml:2:9: invalid YAML: special characters are not allowed (#x0007)",
        ),
        ("", "driftline.yaml: the file is empty; expected a mapping with at least 'version: 1'"),
        (
            "# nothing yet\n",
            "driftline.yaml: the file is empty; expected a mapping with at least 'version: 1'",
        ),
        (
            "- version: 1\n",
            "driftline.yaml: the top level must be a mapping of version, models, monitors, "
            "alert_rules, channels, alerting; got a list",
        ),
        (
            "just text\n",
            "driftline.yaml: the top level must be a mapping of version, models, monitors, "
            "alert_rules, channels, alerting; got a str",
        ),
    ],
)
def test_yaml_errors(text: str, expected: str) -> None:
    assert _error(text) == expected


def test_merge_keys_may_be_overridden() -> None:
    text = """
version: 1
models:
  - &base {name: a, task: regression, features: [{name: x, kind: numeric}]}
  - <<: *base
    name: b
"""
    assert [model.name for model in parse_project(text).models] == ["a", "b"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "driftline.yaml"

    with pytest.raises(ProjectFileError) as info:
        load_project(path)

    assert str(info.value) == f"{path}: file not found"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError) as info:
        load_project(tmp_path)

    assert str(info.value) == f"{tmp_path}: is a directory, expected a YAML file"


def test_unreadable_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "driftline.yaml"
    path.write_text("version: 1\n", encoding="utf-8")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)  # root could read a chmod 000 file anyway
    with pytest.raises(ProjectFileError) as info:
        load_project(path)

    assert str(info.value) == f"{path}: cannot read the file: permission denied"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "driftline.yaml"
    path.write_bytes(b"version: 1\nmodels: \xff\n")

    with pytest.raises(ProjectFileError) as info:
        load_project(path)

    assert str(info.value) == f"{path}: not UTF-8 text: byte 0xff at offset 19"


def test_file_errors_name_the_path_as_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("driftline.yaml").write_text("version: 1\nmodels: 3\n", encoding="utf-8")

    with pytest.raises(ProjectFileError) as info:
        load_project("driftline.yaml")

    assert str(info.value) == "driftline.yaml: models: must be a list, got 3"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "driftline.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\n")

    assert load_project(path).version == 1


# --- environment variables and secrets ----------------------------------------------------------


def test_unset_environment_variable() -> None:
    assert _error(yaml.safe_dump(BASE), environ={}) == (
        "driftline.yaml: channels[0].webhook_url: environment variable SLACK_WEBHOOK_URL is not set"
    )


@pytest.mark.parametrize("value", ["${slack_url}", "${SLACK_URL", "${SLACK_URL:-x}", "${}"])
def test_malformed_reference(value: str) -> None:
    assert _error(_changed("channels.0.webhook_url", value)) == (
        "driftline.yaml: channels[0].webhook_url: malformed environment variable reference: "
        "expected ${NAME} with NAME made of upper-case letters, digits and '_' "
        "(write $${ for a literal ${)"
    )


def _all_text(project: Project) -> str:
    return "\n".join(
        [
            repr(project),
            str(project),
            *(repr(item) for item in project.channels),
            str(project.model_dump()),
            str(project.model_dump(mode="json")),
        ]
    )


def test_secrets_never_in_repr_or_str() -> None:
    project = load_project(FULL, environ=SECRETS)

    text = _all_text(project)

    for secret in SECRETS.values():
        assert secret not in text
    assert "s3cr3t" not in text
    assert "MfKQ9r8G" not in text


def test_literal_secrets_are_allowed_and_hidden() -> None:
    text = _changed("channels.0.webhook_url", "https://hooks.slack.com/literal-s3cr3t")

    project = parse_project(text)

    slack = project.channel("risk-slack")
    assert isinstance(slack, SlackChannel)
    assert slack.webhook_url == SecretStr("https://hooks.slack.com/literal-s3cr3t")
    assert "literal-s3cr3t" not in _all_text(project)


@pytest.mark.parametrize(
    ("path", "value", "environ", "expected"),
    [
        # an invalid secret from the environment
        (
            "channels.0.webhook_url",
            "${SLACK_WEBHOOK_URL}",
            {"SLACK_WEBHOOK_URL": "not-a-url-s3cr3t"},
            "channels[0].webhook_url: must be an http:// or https:// URL",
        ),
        # an invalid secret written in the file
        (
            "channels.0.webhook_url",
            "hooks.slack.com/s3cr3t",
            {},
            "channels[0].webhook_url: must be an http:// or https:// URL",
        ),
        (
            "channels.0",
            {"name": "pd", "type": "pagerduty", "routing_key": ["s3cr3t"]},
            {},
            "channels[0].routing_key: must be a string",
        ),
        (
            "channels.0",
            {"name": "hook", "type": "webhook", "url": "https://x.example", "secret": "s3cr3t!"},
            {},
            "channels[0].secret: must be a Standard Webhooks secret: 'whsec_' followed by base64",
        ),
        (
            "channels.0",
            {"name": "hook", "type": "webhook", "url": "https://x.example", "headers": ["s3cr3t"]},
            {},
            "channels[0].headers: must be a mapping",
        ),
        # a non-secret field whose value came from the environment
        (
            "monitors.0.min_samples",
            "${MIN_SAMPLES}",
            {"MIN_SAMPLES": "s3cr3t"},
            "monitors[0].min_samples: must be an integer",
        ),
        (
            "monitors.0.model",
            "${MODEL}",
            {"MODEL": "s3cr3t-model"},
            "monitors[0].model: unknown model; declared models: credit-risk",
        ),
        (
            "monitors.0.schedule",
            {"cron": "${CRON}"},
            {"CRON": "s3cr3t * * * *"},
            "monitors[0].schedule.cron: must be a 5-field cron expression",
        ),
        (
            "alert_rules.0.channels",
            ["risk-slack", "${CHANNEL}", "${CHANNEL}"],
            {"CHANNEL": "s3cr3t"},
            "alert_rules[0].channels[2]: duplicate channel, first at channels[1]",
        ),
        (
            "alert_rules.0.labels",
            ["team", "${TEAM}"],
            {"TEAM": "s3cr3t"},
            "alert_rules[0].labels: must be a mapping",
        ),
        # a whole channel, with its secret inside, is never echoed
        (
            "channels",
            {"risk-slack": {"type": "slack", "webhook_url": "https://hooks.slack.com/s3cr3t"}},
            {},
            "channels: must be a list, got a mapping",
        ),
        (
            "channels.0",
            {"name": "c", "type": "slak", "webhook_url": "https://hooks.slack.com/s3cr3t"},
            {},
            "channels[0].type: must be one of 'slack', 'pagerduty', 'teams', 'opsgenie', "
            "'email', 'webhook', 'retrain', got 'slak'",
        ),
    ],
)
def test_secrets_never_in_error_messages(
    path: str, value: object, environ: dict[str, str], expected: str
) -> None:
    environ = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/s3cr3t-ok", **environ}

    message = _error(_changed(path, value), environ=environ)

    assert message == f"driftline.yaml: {expected}"
    assert "s3cr3t" not in message


def test_error_does_not_chain_the_validation_error() -> None:
    text = _changed("channels.0.webhook_url", "${SLACK_WEBHOOK_URL}")

    with pytest.raises(ProjectFileError) as info:
        parse_project(text, environ={"SLACK_WEBHOOK_URL": "s3cr3t"})

    assert info.value.__cause__ is None
    assert info.value.__context__ is None


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0s", timedelta(0)),
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15",
        "m",
        "1.5h",
        "-1m",
        "1 h",
        " 1h",
        "1H",
        "30m1h",
        "1h1h",
        "1w",
        "PT15M",
        "\u0661s",
        "1ms",
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid duration .*expected a duration like 30s"):
        parse_duration(text)


def test_parse_duration_rejects_overflow() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_duration("99999999999999d")


def test_format_duration() -> None:
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(timedelta(hours=1, minutes=30)) == "1h30m"
    assert format_duration(timedelta(days=2, seconds=5)) == "2d5s"
    with pytest.raises(ValueError, match="non-negative whole number of seconds"):
        format_duration(timedelta(milliseconds=1))
    with pytest.raises(ValueError, match="non-negative whole number of seconds"):
        format_duration(timedelta(seconds=-1))


_SECONDS = st.integers(min_value=0, max_value=10**9)


@given(_SECONDS)
def test_seconds_form_parses_back(seconds: int) -> None:
    assert parse_duration(f"{seconds}s") == timedelta(seconds=seconds)


@given(_SECONDS)
def test_format_then_parse_is_identity(seconds: int) -> None:
    value = timedelta(seconds=seconds)

    assert parse_duration(format_duration(value)) == value


@given(
    st.fixed_dictionaries(
        {},
        optional={unit: st.integers(min_value=0, max_value=10**6) for unit in "dhms"},
    ).filter(bool)
)
def test_combined_forms_add_up(parts: dict[str, int]) -> None:
    text = "".join(f"{parts[unit]}{unit}" for unit in "dhms" if unit in parts)
    expected = timedelta(
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )

    assert parse_duration(text) == expected


# --- cron -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("* * * * *", "* * * * *"),
        ("*/15  9-17 * * mon-fri", "*/15 9-17 * * mon-fri"),
        ("0 0 1,15 jan-jun/2 0,7", "0 0 1,15 jan-jun/2 0,7"),
        ("59 23 31 12 SAT", "59 23 31 12 SAT"),
    ],
)
def test_check_cron_accepts(text: str, expected: str) -> None:
    assert check_cron(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("* * * *", "found 4 fields"),
        ("* * * * * *", "found 6 fields"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("* 24 * * *", "hour 24 is out of range 0-23"),
        ("* * 0 * *", "day-of-month 0 is out of range 1-31"),
        ("* * * 13 *", "month 13 is out of range 1-12"),
        ("* * * * 8", "day-of-week 8 is out of range 0-7"),
        ("* * * foo *", "month 'foo' is not a number or a name"),
        ("x * * * *", "minute 'x' is not a number"),
        ("*/0 * * * *", "minute step '0' must be a positive integer"),
        ("5/15 * * * *", "a step needs '*' or a range"),
        ("30-10 * * * *", "minute range '30-10' runs backwards"),
        ("1,,2 * * * *", "minute '' is not a number"),
        ("@hourly", "found 1 fields"),
    ],
)
def test_check_cron_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_cron(text)
