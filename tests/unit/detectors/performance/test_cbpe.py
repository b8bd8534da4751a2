"""Tests of detectors.performance.cbpe, .calibration and the expected confusion matrix.

Pinned values: statistics.md §8.2 (NannyML 0.13.1 CBPE, isotonic calibration always on).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.datasets import make_classification
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from detectors import InvalidInputError
from detectors.outcome import Status
from detectors.performance import _expected, calibration, cbpe
from detectors.performance.classification import accuracy, f1, from_confusion
from detectors.performance.metrics import METRICS
from tests.unit.detectors.performance.streams import logistic

#: statistics.md §8.2: NannyML's estimate and the realised accuracy per analysis chunk.
NANNYML_ESTIMATES = [
    0.7795813601792916,
    0.7804046421511913,
    0.7893794345303979,
    0.8453261971999773,
    0.8310491828939816,
]
REALISED = [0.7610, 0.7782, 0.7780, 0.8342, 0.8234]


def nannyml_data() -> tuple[LogisticRegression, list[tuple[NDArray[np.float64], ...]]]:
    """statistics.md §8.2 ``CBPE`` recipe: training, reference, five shifted chunks."""
    rng = np.random.default_rng(11)
    weights = np.array([1.5, -1.0, 0.7, 0.0])

    def block(rows: int, shift: float = 0.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x = rng.normal(size=(rows, 4))
        x[:, 0] += shift
        p = 1.0 / (1.0 + np.exp(-(x @ weights - 0.3)))
        return x, (rng.random(rows) < p).astype(np.float64)

    train = block(20_000)
    blocks = [block(50_000)] + [block(5000, s) for s in (0.0, 0.0, 0.75, 1.5, -1.0)]
    model = LogisticRegression().fit(*train)
    out = []
    for x, y in blocks:
        p = model.predict_proba(x)[:, 1]
        out.append((y, p, (p >= 0.5).astype(np.float64)))
    return model, out


def test_isotonic_cbpe_reproduces_nannyml() -> None:
    _, ((y, p, predicted), *chunks) = nannyml_data()
    reference = cbpe.fit(y, p, y_pred=predicted, calibrate="always")
    assert reference.calibration.method == "isotonic"
    for (y_chunk, p_chunk, predicted_chunk), pinned, realised in zip(
        chunks, NANNYML_ESTIMATES, REALISED, strict=True
    ):
        found = cbpe.estimate(reference, p_chunk, y_pred=predicted_chunk)
        assert found.values["accuracy"] == pytest.approx(pinned, rel=1e-12)
        assert accuracy(y_chunk, predicted_chunk) == pytest.approx(realised, abs=5e-5)


def test_calibration_maps_equal_sklearn_isotonic(rng: np.random.Generator) -> None:
    p = rng.uniform(0.0, 1.0, 3000)
    y = (rng.random(3000) < p**1.5).astype(np.float64)
    fitted = calibration.fit(y, np.column_stack([1 - p, p]), calibrate="always")
    model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
    probe = np.r_[rng.uniform(-0.1, 1.1, 500), 0.0, 1.0]
    got = fitted.apply(np.column_stack([1 - probe, probe]))[:, 1]
    np.testing.assert_allclose(got, model.predict(probe), rtol=0, atol=1e-12)


def quadratic_model(
    seed: int, classes: int
) -> tuple[object, NDArray[np.float64], NDArray[np.float64]]:
    x, y = make_classification(
        n_samples=24_000,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=classes,
        n_clusters_per_class=1,
        class_sep=0.6,
        flip_y=0.0,
        random_state=seed,
    )
    model = make_pipeline(PolynomialFeatures(2), StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(x[:6000], y[:6000])
    return model, x[6000:], y[6000:].astype(np.float64)


@pytest.mark.parametrize("classes", [2, 3])
def test_estimated_accuracy_tracks_realised_under_covariate_shift(classes: int) -> None:
    """Within 0.03 of the realised accuracy on a calibrated scikit-learn classifier.

    make_classification's classes are Gaussian clusters with different covariances, so
    P(y | x) is logistic in quadratic features: logistic regression on them is calibrated
    given x, and a shift of x keeps P(y | x) and the calibration. (Plain logistic regression
    is calibrated only on average there; under covariate shift its errors reached 0.033.)
    """
    for seed in range(3):
        model, x, y = quadratic_model(seed, classes)
        reference = cbpe.fit(y[:8000], model.predict_proba(x[:8000]))
        pool_x, pool_y = x[8000:], y[8000:]
        rng = np.random.default_rng(seed)
        # covariate shift: rows kept with a probability rising with feature 0
        keep = rng.random(pool_y.size) < 1.0 / (1.0 + np.exp(-2.0 * (pool_x[:, 0] - 1.0)))
        shifted_x, shifted_y = pool_x[keep], pool_y[keep]
        assert abs(shifted_x[:, 0].mean() - x[:8000, 0].mean()) > 0.5  # the shift is real
        proba = model.predict_proba(shifted_x)
        predicted = model.predict(shifted_x).astype(np.float64)
        found = cbpe.estimate(reference, proba)
        assert abs(found.values["accuracy"] - accuracy(shifted_y, predicted)) < 0.03, seed
        realised_f1 = f1(shifted_y, predicted, classes=reference.classes)
        assert abs(found.values["f1_macro"] - realised_f1) < 0.05, seed


def test_standard_errors_match_simulated_realised_metrics(rng: np.random.Generator) -> None:
    n, k, repetitions = 1500, 3, 3000
    proba = rng.dirichlet([0.4, 1.0, 2.5], n)
    predicted = np.argmax(proba + rng.normal(0, 0.1, proba.shape), axis=1).astype(np.intp)
    expected = _expected.expected_confusion(proba, predicted)
    drawn = (rng.random((repetitions, n, 1)) > proba.cumsum(axis=1)).sum(axis=2)
    cells = drawn * k + predicted
    counts = np.stack([np.bincount(c, minlength=k * k) for c in cells]).reshape(-1, k, k)
    for name in cbpe.ESTIMATED:
        metric, average = METRICS[name].label_metric
        simulated = from_confusion(counts, metric, average=average)
        estimate = float(from_confusion(expected, metric, average=average))
        slope = _expected.gradient(expected, metric, average)
        error = _expected.Spread.of(proba, predicted).standard_error(slope)
        # the same sum written row by row: Var over Y ~ π_r of slope[Y, ŷ_r]
        g = slope.T[predicted]
        by_row = np.sqrt(((proba * g * g).sum(axis=1) - (proba * g).sum(axis=1) ** 2).sum())
        assert error == pytest.approx(by_row, rel=1e-9), name
        assert estimate == pytest.approx(simulated.mean(), abs=0.2 * simulated.std()), name
        assert error == pytest.approx(simulated.std(), rel=0.1), name


def test_check_alarms_when_the_window_gets_harder(rng: np.random.Generator) -> None:
    window = logistic(rng, 20_000)
    reference = cbpe.fit(window.y[:10_000], window.scores[:10_000])
    same = logistic(rng, 3000)
    assert cbpe.check(reference, same.scores).status is not Status.ALARM
    hard = window.scores[10_000:][np.abs(window.scores[10_000:] - 0.5) < 0.2]
    result = cbpe.check(reference, hard, metric="f1_macro")
    assert result.status is Status.ALARM
    assert result.detector == "cbpe.f1_macro"
    assert result.score == pytest.approx(result.details["reference"] - result.details["estimate"])
    json.dumps(result.to_dict(), allow_nan=False)
    short = cbpe.check(reference, hard[:50])
    assert short.status is Status.INSUFFICIENT_DATA
    assert math.isnan(short.score)


def test_reconcile_sees_concept_drift_the_estimate_cannot(rng: np.random.Generator) -> None:
    reference_window = logistic(rng, 10_000)
    reference = cbpe.fit(reference_window.y, reference_window.scores)
    drifted = logistic(rng, 3000, flip=0.3)
    assert cbpe.check(reference, drifted.scores).status is not Status.ALARM  # same inputs
    y = drifted.y.copy()
    y[2000:] = np.nan  # a third of the labels not arrived yet
    result = cbpe.reconcile(reference, drifted.scores, y)
    assert result.status is Status.ALARM
    assert result.details["labelled"] == 2000
    assert result.details["gap"] < -0.05
    same = logistic(rng, 3000)
    assert cbpe.reconcile(reference, same.scores, same.y).status is not Status.ALARM
    y[40:] = np.nan
    assert cbpe.reconcile(reference, drifted.scores, y).status is Status.INSUFFICIENT_DATA


def test_calibration_is_kept_only_when_it_helps(rng: np.random.Generator) -> None:
    p = rng.uniform(0.05, 0.95, 5000)
    y = (rng.random(5000) < p**2).astype(np.float64)  # over-confident scores
    pair = np.column_stack([1 - p, p])
    for calibrator in ("isotonic", "sigmoid"):
        fitted = calibration.fit(y, pair, calibrator=calibrator)
        assert fitted.method == calibrator
        assert fitted.ece_calibrated is not None
        assert fitted.ece_calibrated < fitted.ece_raw / 2
    flat = np.full(5000, 0.5)
    noise = calibration.fit(y, np.column_stack([1 - flat, flat]), calibrator="sigmoid")
    assert noise.method in ("none", "sigmoid")
    never = calibration.fit(y, pair, calibrate="never")
    assert never.method == "none"
    assert never.apply(pair) is pair


def test_multiclass_calibration_keeps_rows_summing_to_one(rng: np.random.Generator) -> None:
    proba = rng.dirichlet(np.ones(4), 3000)
    y = np.array([rng.choice(4, p=row**2 / (row**2).sum()) for row in proba], dtype=np.float64)
    for calibrator in ("isotonic", "sigmoid"):
        fitted = calibration.fit(y, proba, calibrator=calibrator, calibrate="always")
        calibrated = fitted.apply(proba)
        np.testing.assert_allclose(calibrated.sum(axis=1), 1.0, rtol=1e-12)
        assert calibration.classwise_error(y, calibrated) < calibration.classwise_error(y, proba)


def test_bad_metrics_and_options_are_refused(rng: np.random.Generator) -> None:
    proba = rng.dirichlet(np.ones(3), 300)
    y = np.argmax(proba, axis=1).astype(np.float64)
    reference = cbpe.fit(y, proba)
    assert "f1" not in reference.realised.values  # binary metrics only for two classes
    with pytest.raises(InvalidInputError, match="CBPE estimates"):
        cbpe.check(reference, proba, metric="f1")
    with pytest.raises(InvalidInputError, match="'calibrator' parameter"):
        cbpe.fit(y, proba, calibrator="beta")
    with pytest.raises(InvalidInputError, match="'folds' parameter"):
        cbpe.fit(y, proba, folds=1)
    with pytest.raises(InvalidInputError, match="not among classes"):
        cbpe.estimate(reference, proba, y_pred=np.full(300, 7.0))
