"""validate_params and the params errors of every kind."""

from __future__ import annotations

import re
from typing import Any

import pytest

from monitor.errors import ConfigError
from monitor.kinds import MonitorParamsError, prepare, validate_params
from tests.unit.monitor.kinds.windows import make_spec

BINARY = "binary_classification"
MULTI = "multiclass_classification"
REGRESSION = "regression"


@pytest.mark.parametrize(
    ("kind", "params", "task"),
    [
        ("data_drift", {}, BINARY),
        ("data_drift", {"policy": "evidently", "test": "psi", "threshold": 0.2}, BINARY),
        ("data_drift", {"drift_share": 1, "correction": "none", "multivariate": True}, REGRESSION),
        ("prediction_drift", {"test": "ks", "threshold": 0.01, "correction": "by"}, MULTI),
        ("performance", {}, BINARY),
        ("performance", {"metric": "f1", "streaming": "ddm", "min_effect": 0}, BINARY),
        ("performance", {"metric": "mae", "streaming": "adwin", "estimate": False}, REGRESSION),
        ("failures", {"kinds": ["error", "timeout"], "slo_rate": 0, "output_max": 1.0}, BINARY),
        ("failures", {"kinds": "error", "min_increase": 0.05}, REGRESSION),
        ("health", {"p99_slo": 0.5, "bucket_seconds": 30, "max_silence_seconds": 60}, BINARY),
        ("health", {"p50_slo": 0.1, "p99_slo": None}, BINARY),
    ],
)
def test_valid_params_pass(kind: str, params: dict[str, Any], task: str) -> None:
    validate_params(kind, params, task=task, has_reference=True)


@pytest.mark.parametrize(
    ("kind", "params", "task", "message"),
    [
        (
            "data_drift",
            {"drift_share": 1.5},
            BINARY,
            "params.drift_share of a data_drift monitor: must be a number in (0, 1], got 1.5",
        ),
        (
            "data_drift",
            {"drift_share": True},
            BINARY,
            "params.drift_share of a data_drift monitor: must be a number in (0, 1], got true",
        ),
        (
            "data_drift",
            {"correction": "holm"},
            BINARY,
            "params.correction of a data_drift monitor: must be one of bh, bonferroni, by, none, "
            "got 'holm'",
        ),
        (
            "data_drift",
            {"threshold": 0.1},
            BINARY,
            "params.threshold of a data_drift monitor: must be given together with params.test",
        ),
        (
            "data_drift",
            {"test": "ks", "threshold": 1.5},
            BINARY,
            "params.threshold of a data_drift monitor: must be a number in (0, 1), got 1.5",
        ),
        ("data_drift", {"test": "t_test"}, BINARY, "params.test of a data_drift monitor: must be"),
        (
            "data_drift",
            {"multivariate": "yes"},
            BINARY,
            "params.multivariate of a data_drift monitor: must be true or false, got 'yes'",
        ),
        (
            "prediction_drift",
            {"test": "psi", "threshold": 0},
            MULTI,
            "params.threshold of a prediction_drift monitor: must be a number > 0, got 0",
        ),
        (
            "performance",
            {"metric": "rmse"},
            BINARY,
            "params.metric of a performance monitor: must be one of accuracy, precision",
        ),
        ("performance", {"metric": "f1"}, MULTI, "params.metric of a performance monitor"),
        ("performance", {"metric": "accuracy"}, REGRESSION, "params.metric of a performance"),
        (
            "performance",
            {"streaming": "ddm"},
            REGRESSION,
            "params.streaming of a performance monitor: must be one of adwin, page_hinkley, kswin",
        ),
        (
            "performance",
            {"min_labels": 1},
            BINARY,
            "params.min_labels of a performance monitor: must be an integer >= 2, got 1",
        ),
        (
            "failures",
            {"kinds": ["error", "oops"]},
            BINARY,
            "params.kinds of a failures monitor: must be a non-empty list of distinct values "
            "among failure, error, timeout, bad_input, got ['error', 'oops']",
        ),
        (
            "failures",
            {"slo_rate": 1.0},
            BINARY,
            "params.slo_rate of a failures monitor: must be a number in [0, 1), got 1.0",
        ),
        (
            "failures",
            {"output_min": 1, "output_max": 0},
            REGRESSION,
            "params.output_max of a failures monitor: must be above output_min (1), got 0.0",
        ),
        (
            "health",
            {"p99_slo": -1},
            BINARY,
            "params.p99_slo of a health monitor: must be a number > 0, got -1",
        ),
        (
            "health",
            {"p95_slo": 0.2, "bucket_seconds": 1e-9},
            BINARY,
            "params.bucket_seconds of a health monitor: must be a whole number of microseconds",
        ),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(
    kind: str, params: dict[str, Any], task: str, message: str
) -> None:
    with pytest.raises(MonitorParamsError, match=re.escape(message)) as raised:
        validate_params(kind, params, task=task, has_reference=True)

    assert isinstance(raised.value, ConfigError)
    assert isinstance(raised.value, ValueError)
    assert raised.value.kind == kind
    assert raised.value.keys[0] in str(raised.value)


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(MonitorParamsError) as raised:
        validate_params("data_drift", {"treshold": 0.1}, task=BINARY, has_reference=True)

    assert str(raised.value) == (
        "params.treshold of a data_drift monitor: unknown parameter (did you mean 'threshold'?); "
        "known parameters: policy, test, threshold, drift_share, correction, multivariate, "
        "min_reference_rows"
    )
    assert raised.value.keys == ("treshold",)


def test_health_needs_a_latency_objective() -> None:
    with pytest.raises(MonitorParamsError, match="at least one latency objective") as raised:
        validate_params("health", {"max_silence_seconds": 60}, task=BINARY, has_reference=False)

    assert raised.value.keys == ("p50_slo", "p95_slo", "p99_slo")
    assert "params.p99_slo" in str(raised.value)


def test_performance_without_reference_needs_a_streaming_detector() -> None:
    validate_params("performance", {"streaming": "adwin"}, task=BINARY, has_reference=False)

    with pytest.raises(MonitorParamsError, match=r"params\.streaming of a performance monitor"):
        validate_params("performance", {}, task=BINARY, has_reference=False)


def test_failures_min_increase_needs_a_reference() -> None:
    with pytest.raises(MonitorParamsError, match=r"params\.min_increase of a failures monitor"):
        validate_params("failures", {"min_increase": 0.02}, task=BINARY, has_reference=False)


def test_null_means_the_default() -> None:
    validate_params("data_drift", {"drift_share": None}, task=BINARY, has_reference=True)


def test_unknown_kind_or_task_is_refused() -> None:
    with pytest.raises(ValueError, match="monitor kind must be one of"):
        validate_params("latency", {}, task=BINARY, has_reference=True)
    with pytest.raises(ValueError, match="task must be one of"):
        validate_params("health", {"p99_slo": 1}, task="ranking", has_reference=True)


def test_prepare_names_the_monitor() -> None:
    spec = make_spec("data_drift", {"correction": "holm"})

    with pytest.raises(MonitorParamsError, match=r"^monitor 'watch': params\.correction of a"):
        prepare(spec, None, task=BINARY)
