"""Alert conditions: the metric a rule reads from a monitor result, and the comparison.

A rule's condition is ``<metric> <op> <value>``. The metric is read from one stored monitor
result (:class:`storage.repositories.monitors.ResultInfo`) by :func:`metric_value`;
:mod:`monitor.alerting.vocabulary` lists the metrics of each kind (:func:`metrics_for_kind`).

Unknown values. :func:`metric_value` returns None when the result does not tell, and the
condition is then *unknown*: the alert keeps its state (it neither fires nor resolves). A
result with status ``error`` tells nothing but ``run_failed``. A result with status
``insufficient_data`` gives no verdict: every metric is unknown except ``run_failed``,
``sample_size`` and those counting what the window held (``label_coverage``, ``labelled``,
``failures``, ``requests``, ``failure_rate``, ``silence_seconds``), so that "too few labels"
or "no traffic" can still alert. A metric the result does not carry (a feature absent from
the window, a detector that did not run) is unknown too.

At project load, :func:`check_metric` checks a name against what the monitor really
computes: its kind, its features or outputs, its params.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from monitor.alerting.vocabulary import (
    COMMON_METRICS,
    MEASURED,
    Entry,
    MonitorFacts,
    MonitorResult,
    entries_for,
    readable,
)
from monitor.errors import DriftlineError

__all__ = [
    "Comparison",
    "Metric",
    "MetricError",
    "MonitorFacts",
    "MonitorResult",
    "check_metric",
    "compare",
    "metric_value",
    "metrics_for_kind",
    "parse_metric",
]

Comparison = Literal[">", ">=", "<", "<=", "==", "!="]

_OPERATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class MetricError(DriftlineError, ValueError):
    """A condition names a metric its monitor does not offer.

    ``redacted`` is the message without the metric's name, for metrics that came from an
    environment variable.
    """

    def __init__(self, message: str, *, redacted: str | None = None) -> None:
        super().__init__(message)
        self.redacted = redacted if redacted is not None else message


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric name resolved against a kind's vocabulary.

    Attributes
    ----------
    name
        As written in the condition (``feature.age.drifted``).
    pattern
        The vocabulary entry (``feature.<name>.drifted``); for a performance monitor's own
        metric name, ``<metric>``.
    subject
        The feature or output name of a ``feature.``/``output.`` metric, else None.
    """

    name: str
    pattern: str
    subject: str | None = None


def metrics_for_kind(kind: str, *, measured: str | None = None) -> list[str]:
    """The metric names a monitor of ``kind`` offers, common ones first.

    Parameters
    ----------
    kind
        A monitor kind.
    measured
        For ``performance``: the metric the monitor measures, listed last under its own
        name.

    Raises
    ------
    ValueError
        If ``kind`` is not a monitor kind.

    Examples
    --------
    >>> metrics_for_kind("prediction_drift")[-3:]
    ['drifted_outputs', 'output.<name>.drifted', 'output.<name>.score']
    """
    names = [*COMMON_METRICS, *entries_for(kind)]
    if kind == "performance" and measured is not None:
        names.append(measured)
    return names


def parse_metric(metric: str, kind: str, *, measured: str | None = None) -> Metric:
    """Resolve a metric name against the vocabulary of ``kind`` (names only, no params).

    Parameters
    ----------
    metric
        The name written in the condition.
    kind
        The monitor's kind.
    measured
        For ``performance``: the metric the monitor measures, accepted under its own name.

    Raises
    ------
    MetricError
        If the kind does not offer ``metric``; the message lists what it offers.
    """
    entries = entries_for(kind)
    if metric in COMMON_METRICS or (metric in entries and "<" not in metric):
        return Metric(metric, metric)
    if kind == "performance" and measured is not None and metric == measured:
        return Metric(metric, "<metric>")
    prefix, _, rest = metric.partition(".")
    subject, _, last = rest.rpartition(".")
    pattern = f"{prefix}.<name>.{last}"
    if subject and pattern in entries and pattern != metric:
        return Metric(metric, pattern, subject)
    listing = f"{kind} metrics: {', '.join(metrics_for_kind(kind, measured=measured))}"
    raise MetricError(
        f"unknown metric {metric!r} for a {kind} monitor; {listing}",
        redacted=f"unknown metric for a {kind} monitor; {listing}",
    )


def check_metric(metric: str, facts: MonitorFacts) -> Metric:
    """Check a condition's metric against what its monitor really computes (project load).

    Beyond :func:`parse_metric`: the feature or output must be one the monitor compares, and
    a metric of a detector that only runs with some param (``latency_p99`` needs
    ``p99_slo``, ...) needs that param.

    Raises
    ------
    MetricError
        Naming the metric and what is wrong.
    """
    found = parse_metric(metric, facts.kind, measured=facts.measured)
    if found.subject is not None:
        what = found.pattern.partition(".")[0]
        known = facts.features if what == "feature" else facts.outputs
        if found.subject not in known:
            listing = f"{what}s the monitor compares: {', '.join(known) or '(none)'}"
            raise MetricError(
                f"unknown {what} {found.subject!r} in metric {metric!r}; {listing}",
                redacted=f"unknown {what} in the metric; {listing}",
            )
    entry = entries_for(facts.kind).get(found.pattern)
    problem = entry.needs(facts) if entry is not None and entry.needs is not None else None
    if problem is not None:
        raise MetricError(
            f"metric {metric!r} is not computed by this monitor: it {problem}",
            redacted=f"the metric is not computed by this monitor: it {problem}",
        )
    return found


def metric_value(metric: str, result: MonitorResult) -> float | None:
    """Read a metric from a monitor result; None when the result does not tell.

    Parameters
    ----------
    metric
        A name of the vocabulary of ``result.kind``; for a performance result, any other
        name is read as the measured metric's and is unknown unless the result measured it.
    result
        A stored monitor result.

    Returns
    -------
    float or None
        The value; None when unknown (module notes): the condition neither holds nor fails.

    Raises
    ------
    MetricError
        If the kind does not offer ``metric`` (rules are checked at load, so this is a bug).
    """
    entry, subject = _resolve(metric, result)
    if entry is None or not readable(entry.known, result.status):
        return None
    return entry.read(result, subject)


def compare(op: Comparison, value: float, threshold: float) -> bool:
    """``value <op> threshold``.

    Raises
    ------
    ValueError
        If ``op`` is not one of ``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=``.

    Examples
    --------
    >>> compare(">=", 0.3, 0.3), compare("!=", 1.0, 1.0)
    (True, False)
    """
    try:
        function = _OPERATORS[op]
    except KeyError:
        raise ValueError(f"op must be one of {', '.join(_OPERATORS)}, got {op!r}") from None
    return function(value, threshold)


def _resolve(metric: str, result: MonitorResult) -> tuple[Entry | None, str | None]:
    """The entry reading ``metric`` from ``result``, and the metric's feature or output."""
    entries = entries_for(result.kind)
    if result.kind == "performance" and metric not in COMMON_METRICS and metric not in entries:
        # The measured metric's own name: known only when this result measured that metric.
        return (MEASURED if result.summary.get("metric") == metric else None), None
    found = parse_metric(metric, result.kind)
    return COMMON_METRICS.get(found.pattern) or entries[found.pattern], found.subject
