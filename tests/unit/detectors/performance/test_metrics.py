"""Tests of detectors.performance.metrics and the metric modules: scikit-learn parity to 1e-12,
zero-division semantics, kernels (row weights) and properties."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from sklearn import metrics as sk
from sklearn.calibration import calibration_curve

from detectors import InvalidInputError
from detectors.performance import classification, regression, scores
from detectors.performance.metrics import METRICS, compute, prepare

TOLERANCE = 1e-12


def classified(
    rng: np.random.Generator, n: int, k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Labels, rounded (hence tied) probabilities and the argmax predictions."""
    y = rng.integers(0, k, n).astype(np.float64)
    proba = np.round(rng.dirichlet(np.ones(k), n), 2)
    proba /= proba.sum(axis=1, keepdims=True)
    return y, proba, np.argmax(proba, axis=1).astype(np.float64)


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_label_metrics_equal_sklearn(rng: np.random.Generator, k: int, average: str) -> None:
    y, _, predicted = classified(rng, 3000, k)
    assert compute("accuracy", y, predicted) == sk.accuracy_score(y, predicted)
    for name, reference in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        expected = reference(y, predicted, average=average, zero_division=0.0)
        assert compute(f"{name}_{average}", y, predicted) == pytest.approx(expected, abs=TOLERANCE)


def test_binary_label_metrics_score_the_second_class(rng: np.random.Generator) -> None:
    y, _, predicted = classified(rng, 2000, 2)
    for name, reference in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        expected = reference(y, predicted, zero_division=0.0)
        assert compute(name, y, predicted) == pytest.approx(expected, abs=TOLERANCE)
    with pytest.raises(InvalidInputError, match="two classes"):
        compute("f1", [0, 1, 2], [0, 1, 1])


@pytest.mark.parametrize("zero_division", [0.0, 1.0, math.nan])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_zero_division_follows_sklearn(
    zero_division: float, average: Literal["macro", "weighted"]
) -> None:
    # class 2 is never predicted, class 3 never true, class 4 in neither (explicit classes)
    y_true = np.array([0, 0, 1, 1, 2, 2, 0, 1], dtype=np.float64)
    y_pred = np.array([0, 1, 1, 3, 0, 1, 0, 3], dtype=np.float64)
    classes = [0, 1, 2, 3, 4]
    for ours, theirs in (
        (classification.precision, sk.precision_score),
        (classification.recall, sk.recall_score),
        (classification.f1, sk.f1_score),
    ):
        got = ours(y_true, y_pred, classes=classes, average=average, zero_division=zero_division)
        expected = theirs(
            y_true, y_pred, labels=classes, average=average, zero_division=zero_division
        )
        assert got == pytest.approx(expected, abs=TOLERANCE, nan_ok=True)


def test_confusion_matrix_equals_sklearn(rng: np.random.Generator) -> None:
    y, _, predicted = classified(rng, 500, 4)
    np.testing.assert_array_equal(
        classification.confusion_matrix(y, predicted), sk.confusion_matrix(y, predicted)
    )


@pytest.mark.parametrize("k", [2, 3, 5])
def test_score_metrics_equal_sklearn(rng: np.random.Generator, k: int) -> None:
    y, proba, _ = classified(rng, 3000, k)
    if k == 2:
        auc = sk.roc_auc_score(y, proba[:, 1])
        ap = sk.average_precision_score(y, proba[:, 1])
        assert compute("roc_auc", y, proba[:, 1]) == pytest.approx(auc, abs=TOLERANCE)
        assert compute("pr_auc", y, proba[:, 1]) == pytest.approx(ap, abs=TOLERANCE)
        assert compute("log_loss", y, proba[:, 1]) == pytest.approx(
            sk.log_loss(y, y_proba=proba[:, 1]), abs=TOLERANCE
        )
    auc = sk.roc_auc_score(y, proba, multi_class="ovr", average="macro") if k > 2 else auc
    ap = sk.average_precision_score(y, proba, average="macro") if k > 2 else ap
    assert compute("roc_auc", y, proba) == pytest.approx(auc, abs=TOLERANCE)
    assert compute("pr_auc", y, proba) == pytest.approx(ap, abs=TOLERANCE)
    assert compute("log_loss", y, proba) == pytest.approx(
        sk.log_loss(y, y_proba=proba), abs=TOLERANCE
    )


def test_log_loss_clips_like_sklearn() -> None:
    y, proba = [0, 1, 1], [0.0, 1.0, 0.0]
    assert scores.log_loss(y, proba) == pytest.approx(sk.log_loss(y, y_proba=proba), rel=1e-12)


@pytest.mark.parametrize("bins", [5, 10, 15])
def test_binary_calibration_error_is_the_reliability_curve_of_sklearn(
    rng: np.random.Generator, bins: int
) -> None:
    y, proba, _ = classified(rng, 4000, 2)
    p = proba[:, 1]
    p[:5] = [0.0, 0.2, 0.5, 1.0, 0.1]  # values on bin edges
    true_share, mean_p = calibration_curve(y, p, n_bins=bins)
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], p), minlength=bins)
    expected = float(np.sum(counts[counts > 0] / p.size * np.abs(true_share - mean_p)))
    got = scores.calibration_error(y, p, bins=bins)
    assert got == pytest.approx(expected, abs=TOLERANCE)


def test_multiclass_calibration_error_is_top_label() -> None:
    y = [0, 1, 2, 2]
    proba = [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.5, 0.1, 0.4], [0.1, 0.1, 0.8]]
    # top confidences 0.7 (right), 0.6 (right), 0.5 (wrong), 0.8 (right); 10 bins, 0.5 and
    # 0.6 and 0.7 on edges go to the lower bin: bins 4, 5, 6, 7 hold one row each
    expected = (0.3 + 0.4 + 0.5 + 0.2) / 4
    assert scores.calibration_error(y, proba) == pytest.approx(expected, abs=TOLERANCE)


def test_multiclass_areas_leave_out_a_class_without_positives(rng: np.random.Generator) -> None:
    y, proba, _ = classified(rng, 1000, 3)
    y[y == 2] = 0
    classes = [0, 1, 2]
    auc = np.mean([sk.roc_auc_score(y == c, proba[:, c]) for c in (0, 1)])
    ap = np.mean([sk.average_precision_score(y == c, proba[:, c]) for c in (0, 1)])
    assert scores.roc_auc(y, proba, classes=classes) == pytest.approx(auc, abs=TOLERANCE)
    assert scores.average_precision(y, proba, classes=classes) == pytest.approx(ap, abs=TOLERANCE)
    assert math.isnan(scores.roc_auc([1, 1, 1], [0.2, 0.4, 0.9], classes=[0, 1]))


def test_regression_metrics_equal_sklearn(rng: np.random.Generator) -> None:
    y = rng.normal(3.0, 2.0, 2000)
    y[:3] = 0.0  # MAPE divides by max(|y|, eps)
    predicted = y + rng.normal(0.0, 1.0, 2000)
    for name, reference in (
        ("mae", sk.mean_absolute_error),
        ("rmse", sk.root_mean_squared_error),
        ("mape", sk.mean_absolute_percentage_error),
        ("r2", sk.r2_score),
    ):
        expected = reference(y, predicted)
        assert compute(name, y, predicted) == pytest.approx(expected, rel=TOLERANCE)


def test_r2_on_a_constant_target_is_forced_finite_like_sklearn() -> None:
    assert regression.r2([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == sk.r2_score([2, 2, 2], [2, 2, 2])
    assert regression.r2([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]) == sk.r2_score([2, 2, 2], [1, 2, 3])
    assert math.isnan(regression.r2([1.0], [2.0]))


def sample(rng: np.random.Generator, metric: str, n: int) -> tuple[NDArray[np.float64], ...]:
    """Labels and the prediction ``metric`` takes."""
    spec = METRICS[metric]
    if spec.prediction == "values":
        y = rng.normal(size=n) + 5.0
        return y, y + rng.normal(size=n)
    k = 2 if spec.label_metric is not None and spec.label_metric[1] == "binary" else 3
    y, proba, predicted = classified(rng, n, k)
    return y, predicted if spec.prediction == "labels" else proba


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_kernel_weights_count_rows_as_repetitions(rng: np.random.Generator, metric: str) -> None:
    y, prediction = sample(rng, metric, 300)
    counts = rng.integers(0, 4, size=(3, 300)).astype(np.float64)
    kernel = prepare(metric, y, prediction).kernel
    classes = prepare(metric, y, prediction).classes
    for weights, got in zip(counts, kernel(counts), strict=True):
        rows = np.repeat(np.arange(300), weights.astype(np.intp))
        expected = compute(metric, y[rows], prediction[rows], classes=classes)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_unknown_metric_and_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown metric 'auc'"):
        compute("auc", [0, 1], [0, 1])
    with pytest.raises(InvalidInputError, match="y_true: holds NaN"):
        compute("accuracy", [0, np.nan], [0, 1])
    with pytest.raises(InvalidInputError, match="one row per prediction"):
        compute("accuracy", [0, 1, 1], [0, 1])
    with pytest.raises(InvalidInputError, match="sums to"):
        compute("log_loss", [0, 1], [[0.5, 0.6], [0.2, 0.8]])
    with pytest.raises(InvalidInputError, match=r"not among classes"):
        compute("accuracy", [0, 5], [0, 1], classes=[0, 1])
    with pytest.raises(InvalidInputError, match="one column per class"):
        compute("roc_auc", [0, 1, 2], np.ones((3, 4)) / 4)
    with pytest.raises(InvalidInputError, match="zero_division"):
        classification.f1([0, 1], [0, 1], zero_division=0.5)


scores_strategy = st.lists(st.integers(0, 20), min_size=4, max_size=40)


@settings(max_examples=60, deadline=None)
@given(raw=scores_strategy, seed=st.integers(0, 2**16))
def test_auc_is_a_probability_and_reverses_with_the_scores(raw: list[int], seed: int) -> None:
    y = np.random.default_rng(seed).integers(0, 2, len(raw)).astype(np.float64)
    if y.min() == y.max():
        y[0] = 1.0 - y[0]
    s = np.array(raw, dtype=np.float64)
    auc = scores.roc_auc(y, s)
    assert 0.0 <= auc <= 1.0
    assert scores.roc_auc(y, -s) == pytest.approx(1.0 - auc, abs=1e-12)
    assert scores.roc_auc(y, np.exp(s / 5.0)) == pytest.approx(auc, abs=1e-12)  # monotone
    assert 0.0 < scores.average_precision(y, s) <= 1.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 60))
def test_label_metrics_are_bounded_and_permutation_invariant(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    y, _, predicted = classified(rng, n, 3)
    order = rng.permutation(n)
    for name in ("accuracy", "f1_macro", "recall_weighted", "precision_macro"):
        value = compute(name, y, predicted)
        assert 0.0 <= value <= 1.0
        assert compute(name, y[order], predicted[order]) == pytest.approx(value, abs=1e-15)
