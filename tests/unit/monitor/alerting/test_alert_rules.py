"""The project file's alerting parts: rule metrics per monitor, retrain channels, templates,
labels and the ``alerting`` section — one exact message per mistake."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
import yaml

from monitor.alerting.conditions import metrics_for_kind
from monitor.alerting.silences import Matcher
from monitor.project import Project, ProjectFileError, parse_project
from monitor.project.alert_rules import AlertingSpec

SECRETS = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/s3cr3t",
    "RETRAIN_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
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
      - {name: note, kind: text}
monitors:
  - name: credit-data-drift
    model: credit-risk
    kind: data_drift
    schedule: {every: 15m}
    window: {type: tumbling, size: 1h}
    reference: {type: dataset, dataset: training}
  - name: credit-health
    model: credit-risk
    kind: health
    schedule: {every: 1m}
    window: {type: rolling, size: 5m}
    params: {p99_slo: 0.5}
  - name: credit-performance
    model: credit-risk
    kind: performance
    schedule: {every: 1h}
    window: {type: rolling, size: 1d}
    reference: {type: previous_window}
alert_rules:
  - name: credit-drift-high
    monitor: credit-data-drift
    condition: {metric: drift_share, op: ">", value: 0.3}
    keep_firing_for: 1h
    annotations: {summary: "Drift {{ value }} on {{ model }}"}
    channels: [risk-slack]
    retrain: {channels: [retrain-pipeline]}
channels:
  - name: risk-slack
    type: slack
    webhook_url: ${SLACK_WEBHOOK_URL}
  - name: retrain-pipeline
    type: retrain
    url: https://ci.example.com/hooks/retrain
    secret: ${RETRAIN_SECRET}
"""
)
RULE = "alert_rules.0"
_DELETE = object()


def _changed(path: str, value: object) -> str:
    """BASE as YAML, with the value at a dotted path set (or deleted)."""
    data = copy.deepcopy(BASE)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    node: Any = data
    for part in parents:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


def _parse(text: str, environ: dict[str, str] | None = None) -> Project:
    return parse_project(text, source="driftline.yaml", environ={**SECRETS, **(environ or {})})


def _error(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ProjectFileError) as info:
        _parse(text, environ)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_base_parses_with_alerting_defaults() -> None:
    project = _parse(yaml.safe_dump(BASE))

    rule = project.alert_rule("credit-drift-high")
    assert rule.keep_firing_for == timedelta(hours=1)
    assert rule.for_ == timedelta(0)
    assert rule.retrain is not None
    assert rule.retrain.channels == ("retrain-pipeline",)
    assert rule.retrain.cooldown == timedelta(hours=6)
    alerting = project.alerting
    assert alerting == AlertingSpec()
    assert alerting.external_url == "http://127.0.0.1:8000"
    assert alerting.group_by == ("alertname", "model")
    assert (alerting.group_wait, alerting.group_interval, alerting.repeat_interval) == (
        timedelta(seconds=30),
        timedelta(minutes=5),
        timedelta(hours=4),
    )
    assert alerting.resolved_retention == timedelta(minutes=15)
    (inhibition,) = alerting.inhibitions()
    assert inhibition.source_matchers == (Matcher("severity", "=", "critical"),)
    assert inhibition.target_matchers == (Matcher("severity", "=~", "warning|info"),)
    assert inhibition.equal == ("model",)


def test_alerting_section_round_trips_through_json() -> None:
    data = copy.deepcopy(BASE)
    del data["channels"], data["alert_rules"][0]["channels"], data["alert_rules"][0]["retrain"]
    data["alerting"] = {
        "group_by": ["..."],
        "group_wait": "1m",
        "repeat_interval": "1d",
        "inhibit_rules": [{"source_matchers": ["team=ops"], "target_matchers": ["team!=ops"]}],
    }
    project = _parse(yaml.safe_dump(data))

    dumped = project.model_dump(mode="json")

    assert dumped["alerting"]["group_wait"] == "1m"
    assert dumped["alert_rules"][0]["keep_firing_for"] == "1h"
    assert _parse(yaml.safe_dump(dumped)) == project


@pytest.mark.parametrize(
    ("monitor", "metric"),
    [
        ("credit-data-drift", "feature.age.drifted"),
        ("credit-data-drift", "feature.country.adjusted_p_value"),
        ("credit-health", "latency_p99"),
        ("credit-health", "failure_rate"),
        ("credit-performance", "accuracy"),
        ("credit-performance", "label_coverage"),
        ("credit-performance", "run_failed"),
    ],
)
def test_metrics_the_monitor_offers_are_accepted(monitor: str, metric: str) -> None:
    data = copy.deepcopy(BASE)
    data["alert_rules"][0] |= {
        "monitor": monitor,
        "condition": {"metric": metric, "op": ">", "value": 0},
    }

    assert _parse(yaml.safe_dump(data)).alert_rules[0].condition.metric == metric


def _listing(kind: str, measured: str | None = None) -> str:
    return ", ".join(metrics_for_kind(kind, measured=measured))


INVALID = [
    # metrics, checked against the monitor's kind, features and params
    (
        f"{RULE}.condition.metric",
        "drift",
        "alert_rules[0].condition.metric: unknown metric 'drift' for a data_drift monitor; "
        f"data_drift metrics: {_listing('data_drift')}",
    ),
    (
        f"{RULE}.condition.metric",
        "feature.note.drifted",
        "alert_rules[0].condition.metric: unknown feature 'note' in metric "
        "'feature.note.drifted'; features the monitor compares: age, country",
    ),
    (
        f"{RULE}.condition.metric",
        "multivariate_effect",
        "alert_rules[0].condition.metric: metric 'multivariate_effect' is not computed by this "
        "monitor: it needs params.multivariate: true on the monitor",
    ),
    (
        f"{RULE}.monitor",
        "credit-performance",
        "alert_rules[0].condition.metric: unknown metric 'drift_share' for a performance "
        f"monitor; performance metrics: {_listing('performance', 'accuracy')}",
    ),
    # retrain channels
    (
        f"{RULE}.retrain.channels",
        ["risk-slack"],
        "alert_rules[0].retrain.channels[0]: must be a channel of type retrain; 'risk-slack' is "
        "of type slack",
    ),
    (
        f"{RULE}.retrain.channels",
        ["retrain-pipline"],
        "alert_rules[0].retrain.channels[0]: unknown channel 'retrain-pipline'; declared "
        "channels: risk-slack, retrain-pipeline",
    ),
    (
        f"{RULE}.retrain.channels",
        [],
        "alert_rules[0].retrain.channels: must not be empty, got []",
    ),
    (
        f"{RULE}.retrain.channels",
        ["Retrain"],
        "alert_rules[0].retrain.channels[0]: must be 1-63 lower-case letters, digits, '_', '.' "
        "or '-', starting with a letter or digit, got 'Retrain'",
    ),
    (
        f"{RULE}.retrain.cooldown",
        "soon",
        "alert_rules[0].retrain.cooldown: must be a duration like 30s, 15m, 1h, 1d or 1h30m "
        "(units d, h, m, s, largest first), got 'soon'",
    ),
    (
        f"{RULE}.channels",
        ["risk-slack", "retrain-pipeline"],
        "alert_rules[0].channels[1]: channel 'retrain-pipeline' is a retrain channel: list it "
        "under retrain.channels",
    ),
    # templates
    (
        f"{RULE}.annotations",
        {"summary": "Drift {{ vlaue }}"},
        "alert_rules[0].annotations.summary: unknown placeholder {{ vlaue }}; placeholders: "
        "value, threshold, metric, op, rule, severity, model, monitor, window_start, window_end",
    ),
    (
        f"{RULE}.annotations",
        {"summary": "{{ feature }} drifted"},
        "alert_rules[0].annotations.summary: unknown placeholder {{ feature }}; placeholders: "
        "value, threshold, metric, op, rule, severity, model, monitor, window_start, window_end",
    ),
    (
        f"{RULE}.annotations",
        {"summary": "{{ value | round(2) }}"},
        "alert_rules[0].annotations.summary: unsupported placeholder {{ value | round(2) }}: "
        "only a name like {{ value }} is allowed (no attributes, filters or expressions)",
    ),
    # labels
    (
        f"{RULE}.labels",
        {"severity": "page"},
        "alert_rules[0].labels.severity: is set by Driftline on every alert (alertname, model, "
        "monitor, severity)",
    ),
    (
        f"{RULE}.labels",
        {"app.kubernetes.io/name": "x"},
        "alert_rules[0].labels['app.kubernetes.io/name']: must be a label name: letters, digits "
        "and '_', not starting with a digit, got 'app.kubernetes.io/name'",
    ),
    (
        f"{RULE}.keep_firing_for",
        "-5m",
        "alert_rules[0].keep_firing_for: must be a duration like 30s, 15m, 1h, 1d or 1h30m "
        "(units d, h, m, s, largest first), got '-5m'",
    ),
    # the alerting section
    (
        "alerting.repeat_interval",
        "1m",
        "alerting.repeat_interval: must be at least group_interval (5m), got '1m'",
    ),
    (
        "alerting.resolved_retention",
        "2m",
        "alerting.resolved_retention: must be at least group_interval (5m), got '2m'",
    ),
    ("alerting.group_interval", "0s", "alerting.group_interval: must be longer than 0s"),
    (
        "alerting.group_by",
        ["...", "model"],
        "alerting.group_by: must be ['...'] alone to group by every label, got ['...', 'model']",
    ),
    (
        "alerting.group_by",
        ["model", "model"],
        "alerting.group_by[1]: duplicate label 'model', first at group_by[0]",
    ),
    (
        "alerting.external_url",
        "dashboard.example.com",
        "alerting.external_url: must be an http:// or https:// URL, got 'dashboard.example.com'",
    ),
    (
        "alerting.inhibit_rules",
        [{"source_matchers": ["severity==critical"], "target_matchers": ["severity=warning"]}],
        "alerting.inhibit_rules[0].source_matchers[0]: invalid matcher 'severity==critical': "
        "expected name=value, name!=value, name=~regex or name!~regex, separated by commas; "
        "quote values with spaces or =!~,{}, got 'severity==critical'",
    ),
    (
        "alerting.inhibit_rules",
        [{"source_matchers": ['severity=~"(crit"'], "target_matchers": ["severity=warning"]}],
        "alerting.inhibit_rules[0].source_matchers[0]: invalid regular expression '(crit': "
        "missing ), unterminated subpattern at position 0, got 'severity=~\"(crit\"'",
    ),
    (
        "alerting.inhibit_rules",
        [{"source_matchers": [], "target_matchers": ["severity=warning"]}],
        "alerting.inhibit_rules[0].source_matchers: must not be empty, got []",
    ),
    (
        "alerting.grop_by",
        ["model"],
        "alerting.grop_by: key not allowed (did you mean 'group_by'?); allowed keys: "
        "external_url, group_by, group_wait, group_interval, repeat_interval, "
        "resolved_retention, inhibit_rules",
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), INVALID)
def test_invalid_alerting_gives_one_exact_line(path: str, value: object, expected: str) -> None:
    assert _error(_changed(path, value)) == f"driftline.yaml: {expected}"


def test_a_metric_from_the_environment_is_not_echoed() -> None:
    text = _changed(f"{RULE}.condition.metric", "${METRIC}")

    message = _error(text, {"METRIC": "s3cr3t"})

    assert message == (
        "driftline.yaml: alert_rules[0].condition.metric: unknown metric for a data_drift "
        f"monitor; data_drift metrics: {_listing('data_drift')}"
    )


def test_feature_placeholder_for_feature_metrics() -> None:
    data = copy.deepcopy(BASE)
    data["alert_rules"][0] |= {
        "condition": {"metric": "feature.age.effect", "op": ">", "value": 0.1},
        "annotations": {"summary": "{{ feature }} moved by {{ value }}"},
    }

    rule = _parse(yaml.safe_dump(data)).alert_rules[0]

    assert rule.annotations == {"summary": "{{ feature }} moved by {{ value }}"}


def test_a_monitors_features_restrict_feature_metrics() -> None:
    data = copy.deepcopy(BASE)
    data["monitors"][0]["features"] = ["country"]
    data["alert_rules"][0]["condition"] = {"metric": "feature.age.drifted", "op": "==", "value": 1}

    assert _error(yaml.safe_dump(data)) == (
        "driftline.yaml: alert_rules[0].condition.metric: unknown feature 'age' in metric "
        "'feature.age.drifted'; features the monitor compares: country"
    )


def test_a_performance_monitors_own_metric_name() -> None:
    data = copy.deepcopy(BASE)
    data["monitors"][2]["params"] = {"metric": "f1"}
    data["alert_rules"][0] |= {
        "monitor": "credit-performance",
        "condition": {"metric": "accuracy", "op": "<", "value": 0.8},
    }

    assert _error(yaml.safe_dump(data)) == (
        "driftline.yaml: alert_rules[0].condition.metric: unknown metric 'accuracy' for a "
        f"performance monitor; performance metrics: {_listing('performance', 'f1')}"
    )
    data["alert_rules"][0]["condition"]["metric"] = "f1"
    assert _parse(yaml.safe_dump(data)).alert_rules[0].condition.metric == "f1"
