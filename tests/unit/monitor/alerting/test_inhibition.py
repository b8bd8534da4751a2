"""Inhibition: equal labels (missing = empty), firing sources only, no self-inhibition."""

from __future__ import annotations

from monitor.alerting.inhibition import InhibitRule, inhibited, inhibited_by
from monitor.alerting.silences import parse_matchers

CRITICAL_MUTES_WARNING = InhibitRule(
    parse_matchers("severity=critical"),
    parse_matchers('severity=~"warning|info"'),
    equal=("model",),
)
WARNING = {"alertname": "drift-high", "model": "churn", "severity": "warning"}
CRITICAL = {"alertname": "accuracy-low", "model": "churn", "severity": "critical"}


def test_a_firing_source_with_equal_labels_inhibits() -> None:
    assert inhibited(WARNING, [CRITICAL], [CRITICAL_MUTES_WARNING])
    assert inhibited_by(WARNING, [WARNING, CRITICAL], [CRITICAL_MUTES_WARNING]) == CRITICAL


def test_different_equal_labels_do_not_inhibit() -> None:
    other_model = {**CRITICAL, "model": "credit"}

    assert not inhibited(WARNING, [other_model], [CRITICAL_MUTES_WARNING])


def test_a_missing_equal_label_equals_the_empty_value() -> None:
    no_model = {"alertname": "x", "severity": "critical"}
    warning_without_model = {"alertname": "y", "severity": "warning"}
    empty_model = {"alertname": "z", "severity": "critical", "model": ""}

    assert inhibited(warning_without_model, [no_model], [CRITICAL_MUTES_WARNING])
    assert inhibited(warning_without_model, [empty_model], [CRITICAL_MUTES_WARNING])
    assert not inhibited(WARNING, [no_model], [CRITICAL_MUTES_WARNING])


def test_without_equal_labels_any_source_inhibits() -> None:
    rule = InhibitRule(parse_matchers("severity=critical"), parse_matchers("severity=warning"))

    assert inhibited(WARNING, [{**CRITICAL, "model": "credit"}], [rule])


def test_targets_and_sources_must_match_their_matchers() -> None:
    info = {**WARNING, "severity": "info"}
    critical_target = {**CRITICAL, "alertname": "other"}

    assert inhibited(info, [CRITICAL], [CRITICAL_MUTES_WARNING])
    assert not inhibited(critical_target, [CRITICAL], [CRITICAL_MUTES_WARNING])
    assert not inhibited(WARNING, [WARNING], [CRITICAL_MUTES_WARNING])
    assert not inhibited(WARNING, [], [CRITICAL_MUTES_WARNING])
    assert not inhibited(WARNING, [CRITICAL], [])


def test_no_self_inhibition_when_both_sides_match() -> None:
    rule = InhibitRule(parse_matchers("team=risk"), parse_matchers("team=risk"), equal=("model",))
    one = {**WARNING, "team": "risk"}
    other = {**CRITICAL, "team": "risk"}

    assert not inhibited(one, [one], [rule])
    assert not inhibited(one, [other], [rule])  # the source matches both sides too
    source_only = InhibitRule(
        parse_matchers("team=risk"), parse_matchers("severity=warning"), equal=("model",)
    )
    assert inhibited(one, [other], [source_only])  # ``other`` is no target: it may inhibit


def test_first_matching_rule_wins() -> None:
    by_team = InhibitRule(parse_matchers("team=ops"), parse_matchers("severity=warning"))
    ops = {"alertname": "disk", "team": "ops"}

    assert inhibited_by(WARNING, [ops, CRITICAL], [by_team, CRITICAL_MUTES_WARNING]) == ops
