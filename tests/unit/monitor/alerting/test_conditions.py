"""Condition metrics read from what the monitor kinds really output."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from monitor.alerting.conditions import (
    MetricError,
    MonitorFacts,
    check_metric,
    compare,
    metric_value,
    metrics_for_kind,
    parse_metric,
)
from monitor.alerting.vocabulary import COMMON_METRICS
from monitor.kinds import prepare, run
from storage import Window
from tests.unit.monitor.alerting.results import Result
from tests.unit.monitor.kinds.windows import START, make_spec, make_window

TASK = "binary_classification"
NOW = START + dt.timedelta(hours=1)
SUBJECTS = {"feature": "income", "output": "proba_bad"}
PARAMS: dict[str, dict[str, Any]] = {
    "data_drift": {"multivariate": True, "drift_share": 0.25},
    "prediction_drift": {},
    "performance": {"streaming": "ddm"},
    "failures": {
        "kinds": ["failure", "error", "timeout", "bad_input"],
        "output_min": 0,
        "output_max": 1,
    },
    "health": {"p50_slo": 0.1, "p95_slo": 0.3, "p99_slo": 0.5},
}


def traffic(n: int, seed: int, *, shift: float = 0.0) -> Window:
    """Features, classes, probabilities, labels, latencies and a few failed requests."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, 2))
    numeric[:, 1] += shift
    plan = rng.choice(3, size=n).astype(float)
    p = rng.uniform(size=n)
    status = rng.choice(4, size=n, p=[0.91, 0.03, 0.03, 0.03])
    return make_window(
        n,
        numeric=numeric,
        numeric_names=("age", "income"),
        categorical=plan[:, np.newaxis],
        categorical_names=("plan",),
        predictions=(p > 0.5).astype(float),
        probabilities=np.c_[1 - p, p],
        labels=(rng.uniform(size=n) < p).astype(float),
        classes=("good", "bad"),
        latency_seconds=rng.exponential(0.1, size=n),
        status=status,
    )


def kind_result(kind: str) -> Result:
    """A stored result of a real run of ``kind`` (every detector the kind has switched on)."""
    spec = make_spec(kind, PARAMS[kind])
    prepared = prepare(spec, traffic(800, 1), task=TASK)
    outcome = run(spec, prepared, traffic(600, 2, shift=0.8), task=TASK, now=NOW, state=None)
    return Result(
        kind=kind,
        status=outcome.status,
        score=outcome.score,
        sample_size=600,
        summary=outcome.summary,
        details=outcome.details,
    )


def concrete(pattern: str) -> str:
    prefix = pattern.partition(".")[0]
    return pattern.replace("<name>", SUBJECTS.get(prefix, ""))


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    return {kind: kind_result(kind) for kind in PARAMS}


@pytest.mark.parametrize("kind", list(PARAMS))
def test_every_metric_of_a_kind_is_read_from_a_real_result(
    kind: str, results: dict[str, Result]
) -> None:
    result = results[kind]
    values = {
        name: metric_value(concrete(name), result)
        for name in metrics_for_kind(kind, measured="accuracy")
    }

    missing = [name for name, value in values.items() if value is None]
    assert missing == []
    assert all(math.isfinite(value) for value in values.values() if value is not None)


def test_values_are_the_kinds_numbers(results: dict[str, Result]) -> None:
    drift = results["data_drift"]
    income = next(c for c in drift.details["columns"] if c["name"] == "income")  # type: ignore[index]

    assert metric_value("drift_share", drift) == drift.summary["drift_share"]
    assert metric_value("drifted_columns", drift) == drift.summary["n_drifted"]
    assert metric_value("feature.income.drifted", drift) == 1.0
    assert metric_value("feature.age.drifted", drift) == 0.0
    assert metric_value("feature.income.effect", drift) == income["effect"]
    assert metric_value("feature.income.adjusted_p_value", drift) == income["adjusted_p_value"]
    assert metric_value("feature.nope.effect", drift) is None
    performance = results["performance"]
    assert metric_value("metric_value", performance) == performance.summary["current_value"]
    assert metric_value("accuracy", performance) == performance.summary["current_value"]
    assert metric_value("f1", performance) is None  # the result measured accuracy
    assert metric_value("metric_drop", performance) == performance.score
    failures = results["failures"]
    assert metric_value("failure_rate", failures) == failures.summary["failure_rate"]
    assert metric_value("requests", failures) == 600.0
    health = results["health"]
    latencies = health.summary["latency_seconds"]
    assert metric_value("latency_p95", health) == latencies["health.latency_p95"]


def test_status_encodings() -> None:
    def read(metric: str, status: str) -> float | None:
        return metric_value(metric, Result(status=status))

    assert [read("status", s) for s in ("ok", "warning", "alarm")] == [0.0, 1.0, 2.0]
    assert [read("alarm", s) for s in ("ok", "warning", "alarm")] == [0.0, 0.0, 1.0]
    assert [read("warning_or_worse", s) for s in ("ok", "warning", "alarm")] == [0.0, 1.0, 1.0]
    assert [read("run_failed", s) for s in ("ok", "insufficient_data", "error")] == [0, 0, 1]


@pytest.mark.parametrize("kind", list(PARAMS))
def test_an_error_result_only_tells_that_the_run_failed(kind: str) -> None:
    failed = Result(kind=kind, status="error", sample_size=0, summary={"error": "boom"})

    values = {name: metric_value(concrete(name), failed) for name in metrics_for_kind(kind)}

    assert {name for name, value in values.items() if value is not None} == {"run_failed"}
    assert values["run_failed"] == 1.0


def test_insufficient_data_hides_verdicts_but_not_window_counts() -> None:
    summary = {"reason": "too few labels", "label_coverage": 0.02, "labelled": 3, "metric": "f1"}
    result = Result(kind="performance", status="insufficient_data", summary=summary)

    known = {
        name: value
        for name in metrics_for_kind("performance", measured="f1")
        if (value := metric_value(name, result)) is not None
    }

    assert known == {"run_failed": 0.0, "sample_size": 500.0, "label_coverage": 0.02, "labelled": 3}
    drift = Result(status="insufficient_data", score=0.9, summary={"drift_share": 0.9})
    assert metric_value("drift_share", drift) is None
    assert metric_value("score", drift) is None


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown result status 'skipped'"):
        metric_value("score", Result(status="skipped"))


def test_non_finite_and_non_numeric_values_are_unknown() -> None:
    assert metric_value("drift_share", Result(summary={"drift_share": None})) is None
    assert metric_value("drift_share", Result(summary={"drift_share": "high"})) is None
    assert metric_value("drift_share", Result(summary={"drift_share": math.inf})) is None
    assert metric_value("score", Result(score=math.nan)) is None


def test_listing_puts_common_metrics_first() -> None:
    names = metrics_for_kind("health")

    assert names[: len(COMMON_METRICS)] == list(COMMON_METRICS)
    assert names[len(COMMON_METRICS) :] == [
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "silence_seconds",
        "failure_rate",
        "error_burst_ratio",
    ]
    assert metrics_for_kind("performance", measured="rmse")[-1] == "rmse"


def test_parse_metric_resolves_subjects() -> None:
    assert parse_metric("feature.plan.v2.drifted", "data_drift").subject == "plan.v2"
    assert parse_metric("output.label.score", "prediction_drift").pattern == ("output.<name>.score")
    assert parse_metric("accuracy", "performance", measured="accuracy").pattern == "<metric>"


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        ("drift", "data_drift"),
        ("feature.<name>.drifted", "data_drift"),
        ("feature.drifted", "data_drift"),
        ("drift_share", "health"),
        ("accuracy", "performance"),
        ("feature.age.drifted", "prediction_drift"),
    ],
)
def test_unknown_metrics_are_refused_with_the_listing(metric: str, kind: str) -> None:
    with pytest.raises(MetricError) as info:
        parse_metric(metric, kind)

    listing = f"{kind} metrics: {', '.join(metrics_for_kind(kind))}"
    assert str(info.value) == f"unknown metric {metric!r} for a {kind} monitor; {listing}"
    assert info.value.redacted == f"unknown metric for a {kind} monitor; {listing}"


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown monitor kind 'drift'; kinds: data_drift"):
        metrics_for_kind("drift")


@pytest.mark.parametrize(
    ("metric", "facts", "expected"),
    [
        (
            "feature.income.drifted",
            MonitorFacts("data_drift", features=("age",)),
            "unknown feature 'income' in metric 'feature.income.drifted'; features the monitor "
            "compares: age",
        ),
        (
            "output.proba_good.score",
            MonitorFacts("prediction_drift", outputs=("label", "proba_bad")),
            "unknown output 'proba_good' in metric 'output.proba_good.score'; outputs the "
            "monitor compares: label, proba_bad",
        ),
        (
            "multivariate_effect",
            MonitorFacts("data_drift"),
            "metric 'multivariate_effect' is not computed by this monitor: it needs "
            "params.multivariate: true on the monitor",
        ),
        (
            "latency_p95",
            MonitorFacts("health", params={"p99_slo": 0.5}),
            "metric 'latency_p95' is not computed by this monitor: it needs params.p95_slo on "
            "the monitor",
        ),
        (
            "timeout_rate",
            MonitorFacts("failures"),
            "metric 'timeout_rate' is not computed by this monitor: it needs 'timeout' in "
            "params.kinds of the monitor",
        ),
        (
            "failure_rate_change",
            MonitorFacts("failures"),
            "metric 'failure_rate_change' is not computed by this monitor: it needs a reference "
            "on the monitor (the rate is compared with its rate)",
        ),
        (
            "out_of_range_outputs",
            MonitorFacts("failures"),
            "metric 'out_of_range_outputs' is not computed by this monitor: it needs "
            "params.output_min or params.output_max on the monitor",
        ),
        (
            "streaming_drift",
            MonitorFacts("performance", measured="accuracy"),
            "metric 'streaming_drift' is not computed by this monitor: it needs params.streaming "
            "on the monitor",
        ),
    ],
)
def test_check_metric_against_the_monitor(metric: str, facts: MonitorFacts, expected: str) -> None:
    with pytest.raises(MetricError) as info:
        check_metric(metric, facts)

    assert str(info.value) == expected


def test_check_metric_accepts_what_the_monitor_computes() -> None:
    failures = MonitorFacts("failures", params={"kinds": ("error",)}, has_reference=True)

    assert check_metric("error_rate_change", failures).pattern == "error_rate_change"
    assert check_metric("out_of_range_outputs", MonitorFacts("failures", params={"output_max": 1}))
    assert check_metric("latency_p99", MonitorFacts("health", params={"p99_slo": 0.5}))
    assert check_metric("mae", MonitorFacts("performance", measured="mae")).pattern == "<metric>"


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (">", [False, False, True]),
        (">=", [False, True, True]),
        ("<", [True, False, False]),
        ("<=", [True, True, False]),
        ("==", [False, True, False]),
        ("!=", [True, False, True]),
    ],
)
def test_compare(op: Any, expected: list[bool]) -> None:
    assert [compare(op, value, 0.5) for value in (0.4, 0.5, 0.6)] == expected


def test_compare_rejects_unknown_operators() -> None:
    with pytest.raises(ValueError, match="op must be one of >, >=, <, <=, ==, !=, got '=>'"):
        compare("=>", 1.0, 1.0)  # type: ignore[arg-type]
