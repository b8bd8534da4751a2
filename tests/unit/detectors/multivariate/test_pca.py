"""PCA reconstruction error (``detectors.multivariate.pca``): sklearn / scipy parity, the
correlation break, calibration under no drift, explanation, input errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats
from sklearn.decomposition import PCA

from detectors.errors import InvalidInputError
from detectors.multivariate import pca
from detectors.multivariate._rows import ordered
from detectors.univariate import ks
from tests.unit.detectors.multivariate.samples import correlation_break


def test_errors_equal_sklearn_pca_and_p_value_equals_welch(rng: np.random.Generator) -> None:
    reference = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    current = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))

    fitted = pca.prepare(reference, variance=0.8, seed=3)
    result = pca.test(fitted, current)

    order = ordered(reference, 3)
    fit, held = reference[order[:200]], reference[order[200:]]
    mean, scale = fit.mean(axis=0), fit.std(axis=0)
    k = len(fitted.components)
    model = PCA(n_components=k, svd_solver="full").fit((fit - mean) / scale)
    assert np.cumsum(model.explained_variance_ratio_)[k - 1] >= 0.8
    assert k == 1 or np.cumsum(model.explained_variance_ratio_)[k - 2] < 0.8

    def errors(rows: NDArray[np.float64]) -> NDArray[np.float64]:
        standard = (rows - mean) / scale
        residual = standard - model.inverse_transform(model.transform(standard))
        return np.asarray(np.linalg.norm(residual, axis=1), dtype=np.float64)

    np.testing.assert_allclose(fitted.errors, errors(held), rtol=1e-9, atol=1e-12)
    welch = stats.ttest_ind(errors(current), errors(held), equal_var=False, alternative="greater")
    assert result.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert result.statistic == pytest.approx(errors(current).mean(), rel=1e-9)
    assert result.effect == pytest.approx(errors(current).mean() / errors(held).mean(), rel=1e-9)


def test_correlation_break_is_found_where_ks_sees_nothing() -> None:
    reference, current = correlation_break(11, 1200, 600)

    univariate = ks.test(reference, current)
    result = pca.test(reference, current, names=["a", "b"])

    assert univariate.p_value is not None
    assert bool(np.all(univariate.p_value > 0.05))
    assert result.drift
    assert result.p_value < 1e-10
    assert result.effect > 2
    assert {f.name for f in result.features} == {"a", "b"}
    assert all(f.current > f.reference for f in result.features)  # type: ignore[operator]


def test_no_drift_under_the_null_loosely_calibrated() -> None:
    rejections = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        mixing = np.random.default_rng(999).normal(size=(4, 4))
        reference, current = rng.normal(size=(200, 4)) @ mixing, rng.normal(size=(100, 4)) @ mixing
        result = pca.test(reference, current, min_ratio=0.0, seed=seed)
        rejections += result.p_value <= 0.05
    assert rejections <= 6  # 5 % of 40 is 2; binomial 99.9 % bound


def test_at_least_one_dimension_is_left_for_the_residual(rng: np.random.Generator) -> None:
    reference = rng.normal(size=(300, 3))

    fitted = pca.prepare(reference, variance=0.999)

    assert fitted.components.shape == (2, 3)
    assert fitted.errors.min() > 0


def test_missing_values_are_filled_with_reference_means() -> None:
    rng = np.random.default_rng(2)
    mixing = np.random.default_rng(999).normal(size=(3, 3))
    reference, current = rng.normal(size=(600, 3)) @ mixing, rng.normal(size=(300, 3)) @ mixing
    reference[rng.random(600) < 0.1, 0] = np.nan
    current[rng.random(300) < 0.1, 0] = np.nan  # as often as in the reference

    result = pca.test(reference, current)

    assert np.isfinite(result.statistic)
    assert not result.drift


def test_constant_data_is_no_drift() -> None:
    result = pca.test(np.ones((20, 3)), np.ones((10, 3)))

    assert (result.statistic, result.p_value, result.effect, result.drift) == (0.0, 1.0, 1.0, False)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pca.prepare(np.zeros((20, 1))), "PCA needs at least 2 columns, got 1"),
        (lambda: pca.prepare(np.zeros((5, 2))), "found array with 5 row"),
        (lambda: pca.prepare(np.zeros((20, 2)), variance=1.0), "variance must be a number"),
        (lambda: pca.test(np.zeros((20, 2)), np.zeros((5, 3))), "current has 3 column"),
        (lambda: pca.test(np.zeros((20, 2)), np.zeros((5, 2)), min_ratio=-1), "min_ratio"),
    ],
)
def test_bad_inputs_are_named(call: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call()  # type: ignore[operator]
