"""Where each alert-condition metric is found in a monitor result, per monitor kind.

The table behind :mod:`monitor.alerting.conditions`: for each kind, metric name → how to read
it from a stored result (status, score, sample size, summary, details — what
:mod:`monitor.kinds` writes), on which statuses it is known, and which monitor param it needs
(checked when the project file is loaded).

Every kind offers:

``score``
    The kind's headline number (drift share, metric drop, failure rate, p99 latency, ...).
``status``
    0 for ``ok``, 1 for ``warning``, 2 for ``alarm``.
``alarm`` / ``warning_or_worse``
    1 when the status is ``alarm`` / ``warning`` or ``alarm``, else 0.
``run_failed``
    1 when the run failed (status ``error``), else 0.
``sample_size``
    Records the run read.

and per kind (``<name>`` stands for a feature or an output):

- ``data_drift``: ``drift_share``, ``drifted_columns`` (how many), ``dataset_drift`` (1/0),
  ``missing_columns`` (how many), ``multivariate_effect`` (needs ``params.multivariate``),
  ``feature.<name>.drifted`` (1/0), ``.effect``, ``.statistic``, ``.p_value``,
  ``.adjusted_p_value``;
- ``prediction_drift``: ``drifted_outputs`` (how many), ``output.<name>.drifted`` (1/0),
  ``output.<name>.score`` — outputs ``label``, ``value`` and ``proba_<class>``;
- ``performance``: ``metric_drop`` (reference − current where higher is better: positive is
  worse), ``metric_value`` (also under the measured metric's own name, e.g. ``accuracy``),
  ``reference_value``, ``estimated`` (1 when CBPE estimated it), ``p_value``,
  ``label_coverage``, ``labelled``, ``streaming_drift`` (1/0, needs ``params.streaming``);
- ``failures``: ``failure_rate``, ``failures``, ``requests``, ``<kind>_rate`` and
  ``<kind>_rate_change`` for the failure kinds the monitor checks (``failure``, ``error``,
  ``timeout``, ``bad_input``), ``non_finite_outputs``, ``stuck_outputs`` (longest run),
  ``out_of_range_outputs`` (needs ``params.output_min`` or ``output_max``);
- ``health``: ``latency_p50``, ``latency_p95``, ``latency_p99`` (seconds; each needs its
  SLO param), ``silence_seconds``, ``failure_rate``, ``error_burst_ratio``;
- ``online_learning``: ``guard_alarms`` (in the window), ``frozen`` (1/0 at its end),
  ``examples_learnt``, ``examples_refused``, ``updates``, ``prequential_metric`` (before
  the window's newest update).

Known on which statuses (:func:`readable`): every metric on ``ok``, ``warning`` and
``alarm``; on ``insufficient_data`` only ``run_failed``, ``sample_size`` and the counts of
the window (``label_coverage``, ``labelled``, ``failures``, ``requests``, ``failure_rate``,
``silence_seconds``); on ``error`` only ``run_failed``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

__all__ = [
    "COMMON_METRICS",
    "MEASURED",
    "Entry",
    "Known",
    "MonitorFacts",
    "MonitorResult",
    "entries_for",
    "readable",
]

Known = Literal["verdict", "window", "always"]
"""On which statuses a metric is known: ``verdict`` (ok, warning, alarm), ``window`` (also
insufficient_data), ``always`` (also error)."""
_Reader = Callable[["MonitorResult", str | None], float | None]
_Needs = Callable[["MonitorFacts"], str | None]
_LEVEL: Final = {"ok": 0, "warning": 1, "alarm": 2}
_FAILURE_KINDS: Final = ("failure", "error", "timeout", "bad_input")


class MonitorResult(Protocol):
    """What conditions read of a monitor result (``ResultInfo`` has all of it)."""

    @property
    def monitor_name(self) -> str: ...
    @property
    def model_name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def window_start(self) -> dt.datetime: ...
    @property
    def window_end(self) -> dt.datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def sample_size(self) -> int: ...
    @property
    def summary(self) -> Mapping[str, Any]: ...
    @property
    def details(self) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class MonitorFacts:
    """What the project file says about a monitor, to check a metric name at load time.

    Attributes
    ----------
    kind
        The monitor's kind.
    params
        The monitor's ``params``.
    has_reference
        Whether the monitor declares a reference.
    features
        Features a ``data_drift`` monitor tests (numeric and categorical ones).
    outputs
        Outputs a ``prediction_drift`` monitor compares: ``label``, ``value``,
        ``proba_<class>``.
    measured
        The metric a ``performance`` monitor measures (``accuracy``, ``rmse``, ...).
    """

    kind: str
    params: Mapping[str, object] = field(default_factory=dict)
    has_reference: bool = False
    features: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    measured: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """How one metric is read: ``read(result, subject)``, when it is known, what it needs."""

    read: _Reader
    known: Known = "verdict"
    #: ``needs(facts)`` says what the monitor lacks to compute the metric, or None.
    needs: _Needs | None = None


def _number(value: object) -> float | None:
    """A finite float from a JSON value (booleans as 1/0); None for anything else."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _dig(data: Mapping[str, Any] | None, *path: str) -> object:
    node: object = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _row(rows: object, key: str, name: str) -> Mapping[str, Any] | None:
    """The first mapping of a JSON list whose ``key`` is ``name``."""
    if isinstance(rows, list):
        for row in rows:
            if isinstance(row, Mapping) and row.get(key) == name:
                return row
    return None


def _summary(*path: str) -> _Reader:
    return lambda result, _: _number(_dig(result.summary, *path))


def _details(*path: str) -> _Reader:
    return lambda result, _: _number(_dig(result.details, *path))


def _detector(name: str, what: Literal["score", "alarm"] = "score") -> _Reader:
    """A row of ``summary.detectors``: its score, or 1/0 for an alarm status."""

    def read(result: MonitorResult, _: str | None) -> float | None:
        row = _row(result.summary.get("detectors"), "detector", name)
        if row is None:
            return None
        return _number(row.get("status") == "alarm" if what == "alarm" else row.get("score"))

    return read


def _result_row(detector: str, *path: str) -> _Reader:
    """A value inside ``details.results[detector == ...]``."""

    def read(result: MonitorResult, _: str | None) -> float | None:
        row = _row(_dig(result.details, "results"), "detector", detector)
        return _number(_dig(row, *path))

    return read


def _status_level(result: MonitorResult, _: str | None) -> float | None:
    level = _LEVEL.get(result.status)
    return None if level is None else float(level)


def _column(name: str) -> _Reader:
    def read(result: MonitorResult, feature: str | None) -> float | None:
        row = _row(_dig(result.details, "columns"), "name", feature or "")
        return None if row is None else _number(row.get(name))

    return read


def _output(what: Literal["score", "alarm"]) -> _Reader:
    def read(result: MonitorResult, output: str | None) -> float | None:
        detector = "prediction.label" if output == "label" else f"prediction.score.{output}"
        return _detector(detector, what)(result, None)

    return read


def _count(*path: str) -> _Reader:
    def read(result: MonitorResult, _: str | None) -> float | None:
        items = _dig(result.summary, *path)
        return float(len(items)) if isinstance(items, list) else None

    return read


def _streaming_drift(result: MonitorResult, _: str | None) -> float | None:
    found = _dig(result.details, "streaming", "detections_at")
    return _number(bool(found)) if isinstance(found, list) else None


def _param(key: str, text: str) -> _Needs:
    return lambda facts: None if facts.params.get(key) not in (None, False) else text


def _failure_kind(kind: str, *, change: bool) -> _Needs:
    def needs(facts: MonitorFacts) -> str | None:
        kinds = facts.params.get("kinds", ("failure",))
        kinds = (kinds,) if isinstance(kinds, str) else kinds
        if not isinstance(kinds, Sequence) or kind not in kinds:
            return f"needs {kind!r} in params.kinds of the monitor"
        if change and not facts.has_reference:
            return "needs a reference on the monitor (the rate is compared with its rate)"
        return None

    return needs


def _out_of_range(facts: MonitorFacts) -> str | None:
    given = any(facts.params.get(key) is not None for key in ("output_min", "output_max"))
    return None if given else "needs params.output_min or params.output_max on the monitor"


COMMON_METRICS: Final[dict[str, Entry]] = {
    "score": Entry(lambda result, _: _number(result.score)),
    "status": Entry(_status_level),
    "alarm": Entry(lambda result, _: _number(result.status == "alarm")),
    "warning_or_worse": Entry(lambda result, _: _number(result.status in ("warning", "alarm"))),
    "run_failed": Entry(lambda result, _: _number(result.status == "error"), "always"),
    "sample_size": Entry(lambda result, _: _number(result.sample_size), "window"),
}
"""Metrics every kind offers, in listing order."""


def _failure_metrics() -> dict[str, Entry]:
    metrics = {
        "failure_rate": Entry(_summary("failure_rate"), "window"),
        "failures": Entry(_summary("failures"), "window"),
        "requests": Entry(_summary("requests"), "window"),
    }
    for kind in _FAILURE_KINDS[1:]:
        needs = _failure_kind(kind, change=False)
        metrics[f"{kind}_rate"] = Entry(_detector(f"failures.{kind}_rate"), needs=needs)
    for kind in _FAILURE_KINDS:
        needs = _failure_kind(kind, change=True)
        metrics[f"{kind}_rate_change"] = Entry(
            _detector(f"failures.{kind}_rate_change"), needs=needs
        )
    return metrics | {
        "non_finite_outputs": Entry(_detector("failures.non_finite_outputs")),
        "stuck_outputs": Entry(_detector("failures.stuck_outputs")),
        "out_of_range_outputs": Entry(
            _detector("failures.out_of_range_outputs"), needs=_out_of_range
        ),
    }


_VOCABULARY: Final[dict[str, dict[str, Entry]]] = {
    "data_drift": {
        "drift_share": Entry(_summary("drift_share")),
        "drifted_columns": Entry(_summary("n_drifted")),
        "dataset_drift": Entry(_summary("dataset_drift")),
        "missing_columns": Entry(_summary("n_missing_columns")),
        "multivariate_effect": Entry(
            _details("multivariate", "effect"),
            needs=_param("multivariate", "needs params.multivariate: true on the monitor"),
        ),
        "feature.<name>.drifted": Entry(_column("drifted")),
        "feature.<name>.effect": Entry(_column("effect")),
        "feature.<name>.statistic": Entry(_column("statistic")),
        "feature.<name>.p_value": Entry(_column("p_value")),
        "feature.<name>.adjusted_p_value": Entry(_column("adjusted_p_value")),
    },
    "prediction_drift": {
        "drifted_outputs": Entry(_count("drifted_outputs")),
        "output.<name>.drifted": Entry(_output("alarm")),
        "output.<name>.score": Entry(_output("score")),
    },
    "performance": {
        "metric_drop": Entry(lambda result, _: _number(result.score)),
        "metric_value": Entry(_summary("current_value")),
        "reference_value": Entry(_summary("reference_value")),
        "estimated": Entry(_summary("estimated")),
        "p_value": Entry(_details("result", "details", "p_value")),
        "label_coverage": Entry(_summary("label_coverage"), "window"),
        "labelled": Entry(_summary("labelled"), "window"),
        "streaming_drift": Entry(
            _streaming_drift, needs=_param("streaming", "needs params.streaming on the monitor")
        ),
    },
    "failures": _failure_metrics(),
    "health": {
        **{
            f"latency_{q}": Entry(
                _summary("latency_seconds", f"health.latency_{q}"),
                needs=_param(f"{q}_slo", f"needs params.{q}_slo on the monitor"),
            )
            for q in ("p50", "p95", "p99")
        },
        "silence_seconds": Entry(_summary("silence_seconds"), "window"),
        "failure_rate": Entry(_result_row("health.error_bursts", "details", "rate"), "window"),
        "error_burst_ratio": Entry(_detector("health.error_bursts")),
    },
    "online_learning": {
        "guard_alarms": Entry(_summary("guard_alarms")),
        "frozen": Entry(_summary("frozen")),
        "examples_learnt": Entry(_summary("examples_learnt")),
        "examples_refused": Entry(_summary("examples_refused")),
        "updates": Entry(_summary("updates")),
        "prequential_metric": Entry(_summary("prequential")),
    },
}
MEASURED: Final = Entry(_summary("current_value"))
"""How a performance result's measured metric is read under its own name."""


def entries_for(kind: str) -> Mapping[str, Entry]:
    """The metrics of ``kind`` beyond :data:`COMMON_METRICS`, in listing order.

    Raises
    ------
    ValueError
        If ``kind`` is not a monitor kind.
    """
    try:
        return _VOCABULARY[kind]
    except KeyError:
        msg = f"unknown monitor kind {kind!r}; kinds: {', '.join(_VOCABULARY)}"
        raise ValueError(msg) from None


def readable(known: Known, status: str) -> bool:
    """Whether a metric known on ``known`` statuses is known on a result of ``status``.

    Raises
    ------
    ValueError
        If ``status`` is not a result status.
    """
    if status in _LEVEL:
        return True
    if status == "insufficient_data":
        return known != "verdict"
    if status == "error":
        return known == "always"
    raise ValueError(f"unknown result status {status!r}")
