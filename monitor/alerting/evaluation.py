"""A rule's alert moved by each new result of its monitor: Prometheus' state machine.

``inactive → pending → firing → resolved``, on a stream of monitor results, where the time
of a result is the **end of its window** (not the wall clock), so backfills and reruns give
the same states as live runs:

- the condition holds and there is no alert (or a resolved one): a new alert is ``pending``
  since the window's end (``active_since``); with ``for: 0s`` it fires at once;
- a pending alert fires at the first result where the condition has held for ``for``
  (``window_end − active_since ≥ for``); a pending alert whose condition fails is
  ``cleared``: it disappears and is never notified;
- a firing alert resolves at the first result where the condition has been false for
  ``keep_firing_for`` (``window_end − last_true_at ≥ keep_firing_for``; at once for ``0s``);
- a resolved alert whose condition holds again starts a new pending period.

Unknown conditions (:func:`~monitor.alerting.conditions.metric_value` is None, e.g. an
``insufficient_data`` or ``error`` result) change nothing: the alert neither fires nor
resolves, and time keeps running for ``for`` and ``keep_firing_for``. A result whose window
ends before the last one evaluated (an older window re-run) is ignored.

While the condition holds, the alert's value and annotations follow each result; a firing
alert kept by ``keep_firing_for`` keeps those of its last true result; a resolved alert
keeps those of the result that resolved it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from monitor.alerting.conditions import MonitorResult, compare, metric_value
from monitor.alerting.fingerprint import fingerprint
from monitor.alerting.templates import format_time, format_value, render
from monitor.project.alert_rules import AlertRuleSpec

__all__ = ["AlertEvent", "AlertRecord", "Evaluation", "alert_labels", "evaluate"]

AlertEvent = Literal["pending", "firing", "resolved", "cleared"]
RecordState = Literal["pending", "firing", "resolved"]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """The stored state of one alert (one rule on one monitor).

    Attributes
    ----------
    fingerprint
        Of ``labels`` (:func:`~monitor.alerting.fingerprint.fingerprint`).
    rule
        The rule's name.
    state
        ``pending``, ``firing`` or ``resolved``.
    labels, annotations
        Labels (identity) and rendered annotations.
    value
        The metric value that last decided the state.
    active_since
        Window end of the result that made it pending.
    fired_at, resolved_at
        Window ends of the results that made it fire and resolve.
    last_true_at
        Window end of the last result where the condition held.
    last_evaluated_at
        Window end of the last result evaluated (stale results are those before it).
    """

    fingerprint: str
    rule: str
    state: RecordState
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    value: float | None
    active_since: dt.datetime
    fired_at: dt.datetime | None
    resolved_at: dt.datetime | None
    last_true_at: dt.datetime | None
    last_evaluated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one result did to a rule's alert.

    Attributes
    ----------
    record
        The alert now: None when there is none (never was, or a pending one was cleared).
    event
        The state change, for the alert's history and notifications; None when the state
        did not change.
    value
        The metric value read from the result (None: unknown).
    holds
        Whether the condition held (None: unknown).
    """

    record: AlertRecord | None
    event: AlertEvent | None
    value: float | None
    holds: bool | None


def alert_labels(rule: AlertRuleSpec, *, model: str, monitor: str) -> dict[str, str]:
    """The labels of a rule's alert: ``alertname``, ``model``, ``monitor``, ``severity``, and
    the rule's own labels."""
    return {
        **rule.labels,
        "alertname": rule.name,
        "model": model,
        "monitor": monitor,
        "severity": rule.severity,
    }


def evaluate(
    rule: AlertRuleSpec, result: MonitorResult, previous: AlertRecord | None
) -> Evaluation:
    """Apply one monitor result to a rule's alert (module notes).

    Parameters
    ----------
    rule
        The rule; its ``monitor`` must be the result's.
    result
        A result of the rule's monitor; its ``window_end`` is the time of the evaluation.
    previous
        The alert as the previous evaluation left it (with the fingerprint of this rule's
        labels), or None.

    Returns
    -------
    Evaluation
        The new record and the event, if any.

    Raises
    ------
    ValueError
        If the result is of another monitor, its window end is naive, or ``previous`` is
        another alert's record.
    """
    labels = alert_labels(rule, model=result.model_name, monitor=result.monitor_name)
    identity = fingerprint(labels)
    _check_inputs(rule, result, previous, identity)
    at = result.window_end
    value = metric_value(rule.condition.metric, result)
    if previous is not None and at < previous.last_evaluated_at:
        holds = None if value is None else _holds(rule, value)
        return Evaluation(previous, None, value, holds)
    if value is None:
        kept = None if previous is None else dataclasses.replace(previous, last_evaluated_at=at)
        return Evaluation(kept, None, None, None)
    holds = _holds(rule, value)
    annotations = _annotations(rule, result, value)
    record: AlertRecord | None
    event: AlertEvent | None
    if holds:
        record, event = _on_true(rule, previous, labels, identity, annotations, value, at)
    elif previous is None:
        record, event = None, None
    else:
        record, event = _on_false(rule, previous, annotations, value, at)
    return Evaluation(record, event, value, holds)


def _holds(rule: AlertRuleSpec, value: float) -> bool:
    return compare(rule.condition.op, value, rule.condition.value)


def _on_true(
    rule: AlertRuleSpec,
    previous: AlertRecord | None,
    labels: Mapping[str, str],
    identity: str,
    annotations: Mapping[str, str],
    value: float,
    at: dt.datetime,
) -> tuple[AlertRecord, AlertEvent | None]:
    started = previous is None or previous.state == "resolved"
    if previous is not None and not started:
        record = dataclasses.replace(
            previous, annotations=annotations, value=value, last_true_at=at, last_evaluated_at=at
        )
    else:
        record = AlertRecord(
            fingerprint=identity,
            rule=rule.name,
            state="pending",
            labels=labels,
            annotations=annotations,
            value=value,
            active_since=at,
            fired_at=None,
            resolved_at=None,
            last_true_at=at,
            last_evaluated_at=at,
        )
    if record.state == "pending" and at - record.active_since >= rule.for_:
        return dataclasses.replace(record, state="firing", fired_at=at), "firing"
    return record, "pending" if started else None


def _on_false(
    rule: AlertRuleSpec,
    previous: AlertRecord,
    annotations: Mapping[str, str],
    value: float,
    at: dt.datetime,
) -> tuple[AlertRecord | None, AlertEvent | None]:
    if previous.state == "pending":
        return None, "cleared"
    if previous.state == "resolved":
        return dataclasses.replace(previous, last_evaluated_at=at), None
    last_true = previous.last_true_at or previous.active_since
    if at - last_true >= rule.keep_firing_for:
        resolved = dataclasses.replace(
            previous,
            state="resolved",
            resolved_at=at,
            annotations=annotations,
            value=value,
            last_evaluated_at=at,
        )
        return resolved, "resolved"
    return dataclasses.replace(previous, last_evaluated_at=at), None


def _annotations(rule: AlertRuleSpec, result: MonitorResult, value: float) -> dict[str, str]:
    """The rule's annotations rendered for this result."""
    metric = rule.condition.metric
    values = {
        "value": format_value(value),
        "threshold": format_value(rule.condition.value),
        "metric": metric,
        "op": rule.condition.op,
        "rule": rule.name,
        "severity": rule.severity,
        "model": result.model_name,
        "monitor": result.monitor_name,
        "window_start": format_time(result.window_start),
        "window_end": format_time(result.window_end),
    }
    prefix, _, rest = metric.partition(".")
    if prefix in ("feature", "output") and "." in rest:
        values[prefix] = rest.rpartition(".")[0]
    return {key: render(text, values) for key, text in rule.annotations.items()}


def _check_inputs(
    rule: AlertRuleSpec, result: MonitorResult, previous: AlertRecord | None, identity: str
) -> None:
    if result.monitor_name != rule.monitor:
        msg = f"rule {rule.name!r} watches monitor {rule.monitor!r}, got a result of "
        raise ValueError(msg + f"{result.monitor_name!r}")
    if result.window_end.tzinfo is None or result.window_end.utcoffset() is None:
        raise ValueError(f"window_end must be timezone-aware, got {result.window_end!r}")
    if previous is not None and (previous.rule != rule.name or previous.fingerprint != identity):
        raise ValueError(
            f"previous record is alert {previous.fingerprint} of rule {previous.rule!r}, "
            f"not alert {identity} of rule {rule.name!r}: its labels changed or it is another "
            "rule's"
        )
