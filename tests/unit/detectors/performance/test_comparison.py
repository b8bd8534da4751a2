"""Tests of detectors.performance.comparison and its intervals, bootstrap and decision rule.

Scenarios use windows of labelled model outputs (``streams.logistic``): a sudden and a
gradual label flip in one segment (concept drift) must alarm with a bounded delay, and the
no-change stream may raise at most the nominal number of false alarms.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from detectors import InvalidInputError
from detectors.outcome import Span, Status
from detectors.performance import _bootstrap
from detectors.performance._decision import Levels, status
from detectors.performance._intervals import (
    Moments,
    mean_difference,
    proportion_difference,
    wilson,
)
from detectors.performance.comparison import ReferencePerformance, compare, prepare
from detectors.performance.metrics import METRICS
from detectors.performance.metrics import prepare as prepare_metric
from tests.unit.detectors.performance.streams import logistic

ALPHA = 0.05
ROWS = 5000


def references(rng: np.random.Generator, **options: int) -> dict[str, ReferencePerformance]:
    window = logistic(rng, 10_000)
    return {
        "accuracy": prepare("accuracy", window.y, window.predicted, **options),
        "f1_macro": prepare("f1_macro", window.y, window.predicted, **options),
    }


def alarms(
    reference: ReferencePerformance, rng: np.random.Generator, flips: list[float]
) -> list[int]:
    """Indices of the windows that alarm, one window per flip probability."""
    found = []
    for t, flip in enumerate(flips):
        window = logistic(rng, ROWS, flip=flip)
        scored = reference.metric in ("roc_auc", "pr_auc")
        prediction = window.scores if scored else window.predicted
        if compare(reference, window.y, prediction).status is Status.ALARM:
            found.append(t)
    return found


def test_sudden_label_flip_in_a_segment_alarms_at_once(rng: np.random.Generator) -> None:
    window = logistic(rng, 10_000)
    found = {
        name: alarms(reference, np.random.default_rng(1), [0.0] * 10 + [0.3] * 5)
        for name, reference in {
            **references(rng),
            "roc_auc": prepare("roc_auc", window.y, window.scores),
            "pr_auc": prepare("pr_auc", window.y, window.scores, n_resamples=200),
        }.items()
    }
    # 30 % of the labels of half the rows flipped from window 10: delay 0, no false alarm
    assert found == {name: [10, 11, 12, 13, 14] for name in found}


def test_gradual_label_flip_is_caught_within_a_few_windows(rng: np.random.Generator) -> None:
    flips = [0.0] * 10 + [0.3 * t / 20 for t in range(1, 16)]  # +1.5 % a window
    for name, reference in references(rng).items():
        found = alarms(reference, np.random.default_rng(2), flips)
        assert found, name
        # the accuracy falls ~0.5 point a window: 0.02 is reached near window 14
        assert 12 <= found[0] <= 18, (name, found)  # none before the drift starts at 10
        assert set(range(20, len(flips))) <= set(found), (name, found)  # and it stays


def test_no_change_raises_at_most_the_nominal_false_alarms(rng: np.random.Generator) -> None:
    windows = 50
    for name, reference in references(rng).items():
        found = alarms(reference, np.random.default_rng(3), [0.0] * windows)
        assert len(found) <= math.floor(ALPHA * windows), (name, found)


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        ("accuracy", "labels"),
        ("f1_macro", "labels"),
        ("roc_auc", "scores"),
        ("mae", "values"),
        ("rmse", "values"),
        ("r2", "values"),
    ],
)
def test_tests_without_effect_gate_hold_their_level(metric: str, kind: str) -> None:
    """Rejection rate under no change ≈ alpha (one-sided), each repetition independent."""
    rng = np.random.default_rng(20261124)
    repetitions, rejected = 300, 0
    for _ in range(repetitions):
        if kind == "values":
            ref_y, cur_y = rng.normal(size=1000), rng.normal(size=500)
            ref_pred = ref_y + rng.standard_t(5, 1000)
            cur_pred = cur_y + rng.standard_t(5, 500)
        else:
            ref, cur = logistic(rng, 1000), logistic(rng, 500)
            ref_y, cur_y = ref.y, cur.y
            ref_pred = ref.predicted if kind == "labels" else ref.scores
            cur_pred = cur.predicted if kind == "labels" else cur.scores
        reference = prepare(metric, ref_y, ref_pred, n_resamples=200, seed=int(rng.integers(1e9)))
        result = compare(reference, cur_y, cur_pred, min_effect=0.0)
        rejected += result.details["p_value"] <= ALPHA
    rate = rejected / repetitions
    spread = 3 * math.sqrt(ALPHA * (1 - ALPHA) / repetitions)
    assert ALPHA - spread <= rate <= ALPHA + spread, rate


@pytest.mark.parametrize(("metric", "classes"), [("roc_auc", 2), ("roc_auc", 4), ("r2", 0)])
def test_influence_errors_match_the_bootstrap(
    rng: np.random.Generator, metric: str, classes: int
) -> None:
    n = 2000
    if classes:
        y = rng.integers(0, classes, n).astype(np.float64)
        proba = rng.dirichlet(np.ones(classes), n)
        proba[np.arange(n), y.astype(int)] += 0.5
        proba /= proba.sum(axis=1, keepdims=True)
        prepared = prepare_metric(metric, y, proba[:, 1] if classes == 2 else proba)
    else:
        y = rng.normal(size=n)
        prepared = prepare_metric(metric, y, y + rng.standard_t(4, n) * 0.6)
    replicates = _bootstrap.replicates(prepared, 2000, np.random.default_rng(0))
    assert prepared.moments is not None
    assert prepared.moments.se == pytest.approx(replicates.std(), rel=0.1)


def test_each_metric_is_compared_with_its_documented_interval(rng: np.random.Generator) -> None:
    families = {name: spec.interval for name, spec in METRICS.items()}
    assert families == {
        "accuracy": "proportion",
        **{name: "bootstrap" for name in METRICS if name.startswith(("precision", "recall", "f1"))},
        "roc_auc": "influence",
        "pr_auc": "bootstrap",
        "log_loss": "mean",
        "calibration_error": "bootstrap",
        "mae": "mean",
        "mape": "mean",
        "rmse": "root_mean",
        "r2": "influence",
    }
    window = logistic(rng, 400)
    for metric, expected in (("roc_auc", "influence"), ("pr_auc", "bootstrap")):
        reference = prepare(metric, window.y, window.scores, n_resamples=50)
        assert compare(reference, window.y, window.scores).details["method"] == expected
        assert (reference.replicates is None) == (expected != "bootstrap")


def test_too_few_labels_is_insufficient_data_with_coverage(rng: np.random.Generator) -> None:
    reference = references(rng)["accuracy"]
    window = logistic(rng, 1000, flip=0.5)
    y = window.y.copy()
    y[40:] = np.nan  # 40 labels so far
    result = compare(reference, y, window.predicted, window=Span(n=1000))
    assert result.status is Status.INSUFFICIENT_DATA
    assert math.isnan(result.score)
    assert result.threshold == 0.02
    assert result.details["labelled"] == 40
    assert result.details["predicted"] == 1000
    assert result.details["coverage"] == 0.04
    json.dumps(result.to_dict(), allow_nan=False)


def test_result_details_draw_the_comparison(rng: np.random.Generator) -> None:
    reference = references(rng)["accuracy"]
    window = logistic(rng, 2000, flip=0.3)
    y = window.y.copy()
    y[1500:] = np.nan
    result = compare(reference, y, window.predicted)
    details = result.details
    assert result.detector == "performance.accuracy"
    assert result.status is Status.ALARM
    assert result.score == pytest.approx(details["reference"] - details["current"])
    low, high = details["difference_ci"]
    assert low < details["difference"] < high < 0
    assert details["coverage"] == 0.75
    assert details["method"] == "newcombe+z"
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_class_absent_from_a_window_is_not_in_its_macro_average(
    rng: np.random.Generator,
) -> None:
    y = rng.integers(0, 3, 4000).astype(np.float64)
    predicted = np.where(rng.random(4000) < 0.9, y, (y + 1) % 3)
    without_two = (y != 2) & (predicted != 2)
    reference = prepare("f1_macro", y, predicted)
    assert compare(reference, y[without_two], predicted[without_two]).status is Status.OK
    # with the classes given, class 2 stays in every average (and scores 0 when absent)
    fixed = prepare("f1_macro", y, predicted, classes=[0, 1, 2])
    assert compare(fixed, y[without_two], predicted[without_two]).status is Status.ALARM


def test_regression_error_growth_alarms_with_a_relative_effect(rng: np.random.Generator) -> None:
    y = rng.normal(10.0, 3.0, 4000)
    reference = prepare("mae", y, y + rng.normal(0, 1.0, 4000))
    same = compare(reference, y[:2000], y[:2000] + rng.normal(0, 1.0, 2000))
    worse = compare(reference, y[:2000], y[:2000] + rng.normal(0, 1.3, 2000))
    assert same.status is not Status.ALARM
    assert worse.status is Status.ALARM
    assert worse.threshold == pytest.approx(0.05 * reference.value)  # 5 % of the reference
    assert (
        compare(reference, y[:2000], y[:2000] + rng.normal(0, 1.3, 2000), min_effect=1.0).status
        is not Status.ALARM
    )


@pytest.mark.parametrize(
    "metric", ["rmse", "r2", "log_loss", "calibration_error", "pr_auc", "roc_auc"]
)
def test_every_interval_family_alarms_on_a_worse_window(
    rng: np.random.Generator, metric: str
) -> None:
    if metric in ("rmse", "r2"):
        y = rng.normal(size=6000)
        prediction = y + rng.normal(0, 0.5, 6000)
        prediction[3000:] = y[3000:] + rng.normal(0, 0.9, 3000)
    else:
        window = logistic(rng, 6000)
        y, prediction = window.y, window.scores.copy()
        prediction[3000:] = np.clip(prediction[3000:] + rng.normal(0, 0.25, 3000), 0.0, 1.0)
    reference = prepare(metric, y[:3000], prediction[:3000], n_resamples=200)
    assert compare(reference, y[3000:], prediction[3000:]).status is Status.ALARM


def test_wilson_and_the_z_test_equal_scipy() -> None:
    low, high = wilson(37, 120, stats.norm.ppf(0.975))
    expected = stats.binomtest(37, 120).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-12)
    found = proportion_difference(400, 500, 370, 500, alpha=0.05, higher_is_better=True)
    table = np.array([[400, 100], [370, 130]])
    two_sided = stats.chi2_contingency(table, correction=False).pvalue
    assert found.p_value == pytest.approx(two_sided / 2, rel=1e-9)


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 − 48/80, method 10: 0.0524 to 0.3339
    found = proportion_difference(48, 80, 56, 70, alpha=0.025, higher_is_better=True)
    assert (found.low, found.high) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_welch_equals_scipy(rng: np.random.Generator) -> None:
    reference, current = rng.exponential(1.0, 300), rng.exponential(1.2, 200)
    found = mean_difference(
        Moments.of(reference), Moments.of(current), alpha=0.05, higher_is_better=False
    )
    expected = stats.ttest_ind(current, reference, equal_var=False, alternative="greater")
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    ci = expected.confidence_interval(0.95)
    assert found.low == pytest.approx(ci.low, rel=1e-9)


def replicate_moments(values: NDArray[np.float64]) -> tuple[float, float]:
    return float(values.mean()), float(values.std())


def test_confusion_bootstrap_is_distributed_as_the_row_bootstrap(rng: np.random.Generator) -> None:
    window = logistic(rng, 800)
    prepared = prepare_metric("f1_macro", window.y, window.predicted)
    cells = _bootstrap.replicates(prepared, 4000, np.random.default_rng(0))
    rows = _bootstrap.replicates(
        dataclasses.replace(prepared, confusion=None), 4000, np.random.default_rng(0)
    )
    (m1, s1), (m2, s2) = replicate_moments(cells), replicate_moments(rows)
    assert m1 == pytest.approx(m2, abs=0.002)
    assert s1 == pytest.approx(s2, rel=0.1)


def test_bootstrap_spread_of_accuracy_is_the_binomial_one(rng: np.random.Generator) -> None:
    window = logistic(rng, 1000)
    prepared = dataclasses.replace(
        prepare_metric("accuracy", window.y, window.predicted), confusion=None
    )
    values = _bootstrap.replicates(prepared, 2000, np.random.default_rng(0))
    p = prepared.value
    assert values.std() == pytest.approx(math.sqrt(p * (1 - p) / 1000), rel=0.1)


def test_bootstrap_is_seeded_and_chunked(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = logistic(rng, 300)
    prepared = prepare_metric("roc_auc", window.y, window.scores)
    first = _bootstrap.replicates(prepared, 50, np.random.default_rng(5))
    np.testing.assert_array_equal(
        first, _bootstrap.replicates(prepared, 50, np.random.default_rng(5))
    )
    monkeypatch.setattr(_bootstrap, "CHUNK", 100)  # one replicate per chunk
    chunked = _bootstrap.replicates(prepared, 50, np.random.default_rng(5))
    assert chunked.shape == (50,)
    assert abs(chunked.mean() - first.mean()) < 0.02


def test_decision_levels() -> None:
    levels = Levels(alpha=0.05, warning_alpha=0.2, min_effect=0.04, warning_effect=None)
    resolved = levels.resolved(0.0)
    assert resolved.warning_effect == 0.02
    assert status(0.05, 0.01, resolved) is Status.ALARM
    assert status(0.03, 0.01, resolved) is Status.WARNING  # significant, below min_effect
    assert status(0.05, 0.1, resolved) is Status.WARNING  # large, only lightly significant
    assert status(0.05, 0.3, resolved) is Status.OK
    assert status(-0.1, 0.99, resolved) is Status.OK  # better than the reference
    with pytest.raises(InvalidInputError, match="warning_alpha"):
        Levels(alpha=0.1, warning_alpha=0.05)
    with pytest.raises(InvalidInputError, match="'alpha' parameter"):
        Levels(alpha=1.5)
    with pytest.raises(InvalidInputError, match="must not exceed"):
        Levels(min_effect=0.01, warning_effect=0.02).resolved(0.0)


def test_prepare_refuses_what_cannot_be_compared(rng: np.random.Generator) -> None:
    window = logistic(rng, 500)
    with pytest.raises(InvalidInputError, match="fewer than 100"):
        prepare("accuracy", window.y[:50], window.predicted[:50])
    with pytest.raises(InvalidInputError, match="no analytic interval"):
        prepare("pr_auc", window.y, window.scores, method="analytic")
    with pytest.raises(InvalidInputError, match="undefined on the reference"):
        prepare("roc_auc", np.ones(200), window.scores[:200], classes=[0, 1])
    with pytest.raises(InvalidInputError, match="n_resamples"):
        prepare("roc_auc", window.y, window.scores, n_resamples=5)
    with pytest.raises(InvalidInputError, match="method must be"):
        prepare("accuracy", window.y, window.predicted, method="exact")
    forced = prepare("roc_auc", window.y, window.scores, method="bootstrap", n_resamples=50)
    assert forced.method == "bootstrap"
    assert compare(forced, window.y, window.scores).details["method"] == "bootstrap"
    reference = prepare("accuracy", window.y, window.predicted)
    with pytest.raises(InvalidInputError, match="one per y_true"):
        compare(reference, window.y, window.predicted[:10])
