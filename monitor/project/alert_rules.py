"""The ``alert_rules`` and ``alerting`` sections: when results fire alerts, how they are sent.

A rule watches one monitor: ``condition`` is read from each of its results
(:mod:`monitor.alerting.vocabulary` lists the metrics per kind), ``for`` and
``keep_firing_for`` are Prometheus' (measured on the results' window ends), and
``annotations`` are ``{{ name }}`` templates (:mod:`monitor.alerting.templates`). The
``alerting`` section holds Alertmanager's grouping and timing settings and the inhibition
rules; its defaults are Alertmanager's.

The checks that need other sections (the monitor's kind, features and params, channel
types) are in :func:`check_rule_references`, which :class:`~monitor.project.Project` calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Final, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from monitor.alerting.conditions import Comparison, MetricError, MonitorFacts, check_metric
from monitor.alerting.fingerprint import ALL_LABELS
from monitor.alerting.inhibition import InhibitRule
from monitor.alerting.silences import MatcherError, parse_matcher
from monitor.alerting.templates import TemplateError, check_template, placeholders_for
from monitor.project._base import Loc, Slug, Spec, Text, check_unique, spec_error
from monitor.project.durations import Duration, format_duration
from monitor.project.model_specs import ModelSpec
from monitor.project.monitors import MonitorSpec

__all__ = [
    "RESERVED_LABELS",
    "AlertRuleSpec",
    "AlertingSpec",
    "Comparison",
    "Condition",
    "InhibitRuleSpec",
    "RetrainSpec",
    "Severity",
    "check_rule_references",
    "monitor_facts",
]

Severity = Literal["info", "warning", "critical"]
RESERVED_LABELS: Final = ("alertname", "model", "monitor", "severity")
"""Labels Driftline sets on every alert from its rule; a rule's ``labels`` cannot set them."""
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RETRAIN: Final = "retrain"


def _check_label_name(value: str) -> str:
    if _LABEL_NAME.fullmatch(value) is None:
        raise spec_error("must be a label name: letters, digits and '_', not starting with a digit")
    return value


def _check_group_label(value: str) -> str:
    return value if value == ALL_LABELS else _check_label_name(value)


def _check_matcher(value: str) -> str:
    try:
        parse_matcher(value)
    except MatcherError as exc:
        raise spec_error(str(exc)) from None
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise spec_error("must be an http:// or https:// URL")
    return value


LabelName = Annotated[str, AfterValidator(_check_label_name)]
MatcherText = Annotated[Text, AfterValidator(_check_matcher)]


def _not_empty(items: tuple[str, ...], name: str) -> None:
    """Refuse an empty list (as a validator: an invalid item is not reported twice)."""
    if not items:
        raise spec_error("must not be empty", at=(name,), got=[], got_mode="value")


def _default(text: str) -> Any:
    """Schema extras showing a duration default as the file writes it."""
    return {"default": text}


class Condition(Spec):
    """``<metric> <op> <value>``, evaluated on each monitor result."""

    metric: Text
    """Name of a metric the monitor's results carry (``drift_share``, ``latency_p99``, ...);
    the metrics of each kind are listed by :mod:`monitor.alerting.vocabulary`."""
    op: Comparison
    """Comparison operator."""
    value: float = Field(allow_inf_nan=False)
    """Threshold the metric is compared with."""


class RetrainSpec(Spec):
    """Retraining triggered when the alert fires, at most once per ``cooldown``."""

    channels: tuple[Slug, ...]
    """Names of channels of type ``retrain`` (at least one), declared under ``channels``."""
    cooldown: Duration = Field(default=timedelta(hours=6), json_schema_extra=_default("6h"))
    """Shortest time between two retraining requests of this rule."""

    @model_validator(mode="after")
    def _check_channels(self) -> Self:
        _not_empty(self.channels, "channels")
        check_unique(self.channels, ("channels",), "channel")
        return self


class AlertRuleSpec(Spec):
    """An alert fired when a monitor's condition holds for long enough."""

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    name: Slug
    """Unique name of the rule."""
    monitor: Slug
    """Name of the monitor whose results are watched, declared under ``monitors``."""
    condition: Condition
    """When the rule is breached."""
    for_: Duration = Field(default=timedelta(0), alias="for", json_schema_extra=_default("0s"))
    """How long the condition must hold before the alert fires (``for`` in the file)."""
    severity: Severity = "warning"
    """How urgent the alert is."""
    labels: dict[LabelName, str] = Field(default_factory=dict)
    """Labels attached to the alert, used for routing, grouping, silences and inhibition."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Templated texts (``{{ value }}``, ``{{ model }}``) rendered into notifications."""
    channels: tuple[Slug, ...] = ()
    """Names of the channels notified, declared under ``channels`` (not retrain channels)."""
    keep_firing_for: Duration = Field(default=timedelta(0), json_schema_extra=_default("0s"))
    """How long the condition must have been false before a firing alert resolves."""
    retrain: RetrainSpec | None = None
    """Retraining requested when the alert fires."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_unique(self.channels, ("channels",), "channel")
        for name in self.labels:
            if name in RESERVED_LABELS:
                msg = f"is set by Driftline on every alert ({', '.join(RESERVED_LABELS)})"
                raise spec_error(msg, at=("labels", name))
        allowed = placeholders_for(self.condition.metric)
        for key, text in self.annotations.items():
            try:
                check_template(text, allowed)
            except TemplateError as exc:
                raise spec_error(str(exc), at=("annotations", key)) from None
        return self


class InhibitRuleSpec(Spec):
    """Mutes the alerts matching ``target_matchers`` while one matching ``source_matchers``
    fires with the same values of the ``equal`` labels."""

    name: Text | None = None
    """Optional name, for people."""
    source_matchers: tuple[MatcherText, ...]
    """Matchers (``severity=critical``) an inhibiting alert matches, all of them."""
    target_matchers: tuple[MatcherText, ...]
    """Matchers (``severity=~"warning|info"``) a muted alert matches, all of them."""
    equal: tuple[LabelName, ...] = ()
    """Labels whose values must be equal on both alerts (a missing label equals '')."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        _not_empty(self.source_matchers, "source_matchers")
        _not_empty(self.target_matchers, "target_matchers")
        return self

    def rule(self) -> InhibitRule:
        """The rule with its matchers parsed."""
        return InhibitRule(
            source_matchers=tuple(parse_matcher(text) for text in self.source_matchers),
            target_matchers=tuple(parse_matcher(text) for text in self.target_matchers),
            equal=self.equal,
            name=self.name,
        )


_CRITICAL_MUTES_LOWER: Final = InhibitRuleSpec(
    name="critical mutes warning and info",
    source_matchers=("severity=critical",),
    target_matchers=('severity=~"warning|info"',),
    equal=("model",),
)


class AlertingSpec(Spec):
    """How alerts are grouped, timed and muted on their way to channels (Alertmanager's)."""

    external_url: Annotated[str, AfterValidator(_check_url)] = "http://127.0.0.1:8000"
    """Base URL of the dashboard, for the links in notifications."""
    group_by: tuple[Annotated[str, AfterValidator(_check_group_label)], ...] = (
        "alertname",
        "model",
    )
    """Labels whose values form a group notified together; ``[]`` puts every alert in one
    group, ``["..."]`` makes each alert its own group."""
    group_wait: Duration = Field(default=timedelta(seconds=30), json_schema_extra=_default("30s"))
    """Wait before a new group's first notification, for more alerts to join it."""
    group_interval: Duration = Field(default=timedelta(minutes=5), json_schema_extra=_default("5m"))
    """Wait between notifications of a group about new or resolved alerts."""
    repeat_interval: Duration = Field(default=timedelta(hours=4), json_schema_extra=_default("4h"))
    """Wait before notifying an unchanged group again (rounded up to group_interval ticks)."""
    resolved_retention: Duration = Field(
        default=timedelta(minutes=15), json_schema_extra=_default("15m")
    )
    """How long a resolved alert is kept, to be announced; at least group_wait and
    group_interval."""
    inhibit_rules: tuple[InhibitRuleSpec, ...] = (_CRITICAL_MUTES_LOWER,)
    """Inhibition rules; by default a critical alert mutes the warning and info alerts of
    the same model."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_unique(self.group_by, ("group_by",), "label")
        if ALL_LABELS in self.group_by and len(self.group_by) > 1:
            msg = f"must be ['{ALL_LABELS}'] alone to group by every label"
            raise spec_error(msg, at=("group_by",), got=list(self.group_by), got_mode="value")
        if self.group_interval <= timedelta(0):
            raise spec_error("must be longer than 0s", at=("group_interval",), got_mode="none")
        if self.repeat_interval < self.group_interval:
            self._too_short("repeat_interval", self.repeat_interval, "group_interval")
        shortest = max(self.group_wait, self.group_interval)
        if self.resolved_retention < shortest:
            which = "group_wait" if self.group_wait > self.group_interval else "group_interval"
            self._too_short("resolved_retention", self.resolved_retention, which)
        return self

    def _too_short(self, name: str, value: timedelta, other: str) -> None:
        limit = format_duration(getattr(self, other))
        msg = f"must be at least {other} ({limit})"
        raise spec_error(msg, at=(name,), got=format_duration(value), got_mode="value")

    def inhibitions(self) -> tuple[InhibitRule, ...]:
        """The inhibition rules with their matchers parsed."""
        return tuple(spec.rule() for spec in self.inhibit_rules)


def monitor_facts(monitor: MonitorSpec, model: ModelSpec) -> MonitorFacts:
    """What alert conditions may read from ``monitor``'s results (its kind, features, params)."""
    wanted = monitor.features
    features = tuple(
        feature.name
        for feature in model.features
        if feature.kind in ("numeric", "categorical") and (wanted is None or feature.name in wanted)
    )
    classes = model.classes or ()
    if model.task == "regression":
        outputs: tuple[str, ...] = ("value",)
    else:  # two classes: only the second class's probability is compared
        scored = classes[1:] if model.task == "binary_classification" else classes
        outputs = ("label", *(f"proba_{name}" for name in scored))
    metric = monitor.params.get("metric")
    default = "rmse" if model.task == "regression" else "accuracy"
    return MonitorFacts(
        kind=monitor.kind,
        params=monitor.params,
        has_reference=monitor.reference is not None,
        features=features,
        outputs=outputs,
        measured=metric if isinstance(metric, str) else default,
    )


def check_rule_references(
    rule: AlertRuleSpec,
    *,
    monitor: MonitorSpec,
    model: ModelSpec,
    channel_types: Mapping[str, str],
    at: Loc,
) -> None:
    """Check what a rule says about its monitor and channels; channel names are known.

    Parameters
    ----------
    rule
        The rule.
    monitor, model
        Its monitor and the monitor's model.
    channel_types
        The ``type`` of every declared channel, by name.
    at
        Path of the rule in the document.
    """
    try:
        check_metric(rule.condition.metric, monitor_facts(monitor, model))
    except MetricError as exc:
        raise spec_error(str(exc), at=(*at, "condition", "metric"), redacted=exc.redacted) from None
    for position, name in enumerate(rule.channels):
        if channel_types[name] == _RETRAIN:
            hint = "list it under retrain.channels"
            msg = f"channel {name!r} is a retrain channel: {hint}"
            where = (*at, "channels", position)
            raise spec_error(msg, at=where, redacted=f"is a retrain channel: {hint}")
    for position, name in enumerate(rule.retrain.channels if rule.retrain else ()):
        kind = channel_types[name]
        if kind != _RETRAIN:
            msg = f"must be a channel of type retrain; {name!r} is of type {kind}"
            redacted = f"must be a channel of type retrain, not {kind}"
            where = (*at, "retrain", "channels", position)
            raise spec_error(msg, at=where, redacted=redacted)
