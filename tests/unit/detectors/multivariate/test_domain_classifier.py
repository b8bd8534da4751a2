"""Domain classifier (``detectors.multivariate.domain_classifier``) and its AUC arithmetic:
sklearn / scipy parity, DeLong against a bootstrap, verdicts, properties, input errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from detectors.errors import InvalidInputError
from detectors.multivariate import domain_classifier
from detectors.multivariate._auc import auc_by_row, delong
from detectors.multivariate._rows import ordered
from detectors.univariate import ks
from tests.unit.detectors.multivariate.samples import correlation_break

FAST: dict[str, Any] = {"max_iter": 10, "importance_rows": 200}


# --- AUC arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize("ties", [False, True])
def test_auc_and_p_value_equal_sklearn_and_scipy(rng: np.random.Generator, ties: bool) -> None:
    labels = rng.random(700) < 0.4
    scores = rng.normal(size=700) + 0.3 * labels
    if ties:
        scores = np.round(scores, 1)

    estimate = delong(scores, labels)

    assert estimate.auc == pytest.approx(roc_auc_score(labels, scores), rel=1e-12)
    expected = stats.mannwhitneyu(
        scores[labels], scores[~labels], alternative="greater", method="asymptotic"
    )
    assert estimate.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    # AUC ≡ U / (n1 n0)
    assert estimate.auc == pytest.approx(expected.statistic / (labels.sum() * (~labels).sum()))
    rows = auc_by_row(np.vstack([scores, -scores]), labels)
    assert rows == pytest.approx([estimate.auc, 1 - estimate.auc], rel=1e-12)


def test_delong_standard_error_agrees_with_a_bootstrap() -> None:
    rng = np.random.default_rng(3)
    n1, n0 = 300, 400
    scores = np.concatenate([rng.normal(0.8, 1.0, n1), rng.normal(0.0, 1.0, n0)])
    labels = np.arange(n1 + n0) < n1
    resamples = np.concatenate(
        [rng.integers(0, n1, (1000, n1)), rng.integers(n1, n1 + n0, (1000, n0))], axis=1
    )  # stratified: each side resampled within itself

    boot = auc_by_row(scores[resamples], labels)
    estimate = delong(scores, labels)

    assert estimate.standard_error == pytest.approx(boot.std(ddof=1), rel=0.1)
    low, high = estimate.interval(0.95)
    assert low < estimate.auc < high
    assert (low, high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), abs=0.01)


# --- the test ---------------------------------------------------------------------------------


def test_equals_sklearn_cross_validation_on_the_same_rows() -> None:
    reference, current = correlation_break(5, 400, 300)
    seed = 4

    result = domain_classifier.test(reference, current, seed=seed, max_iter=10)

    size = 300
    rows = np.vstack(
        [reference[ordered(reference, seed, 10_000)][:size], current[ordered(current, seed, size)]]
    )
    labels = np.repeat([0, 1], size)
    model = HistGradientBoostingClassifier(
        max_iter=10, max_leaf_nodes=15, early_stopping=False, random_state=seed
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1, user_api="openmp"):
        predicted = cross_val_predict(model, rows, labels, cv=folds, method="predict_proba")
    scores = predicted[:, 1]
    assert result.statistic == pytest.approx(roc_auc_score(labels, scores), rel=1e-12)
    assert (result.n_reference, result.n_current) == (size, size)


def test_correlation_break_is_found_where_ks_sees_nothing() -> None:
    reference, current = correlation_break(11, 600, 600)

    univariate = ks.test(reference, current)
    result = domain_classifier.test(reference, current, names=["a", "b"], **FAST)

    assert univariate.p_value is not None
    assert bool(np.all(univariate.p_value > 0.05))
    assert result.drift
    assert result.ci is not None
    assert result.ci[0] > 0.55
    assert result.p_value < 1e-10
    assert {f.name for f in result.features} == {"a", "b"}
    assert min(f.score for f in result.features) > 0.05  # both columns carry it


def test_a_shifted_column_is_named_first(rng: np.random.Generator) -> None:
    reference = rng.normal(size=(500, 4))
    current = rng.normal(size=(500, 4))
    current[:, 2] += 1.0

    result = domain_classifier.test(reference, current, **FAST)

    assert result.drift
    assert result.features[0].name == "x2"


def test_same_distribution_has_no_drift_and_a_ci_around_one_half(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=(2, 500, 3))

    result = domain_classifier.test(reference, current, **FAST)

    assert not result.drift
    assert result.p_value > 0.05
    assert result.ci is not None
    assert result.ci[0] < 0.5 < result.ci[1]
    assert result.confidence == 0.95


def test_identical_samples_are_never_drift(rng: np.random.Generator) -> None:
    """Exact copies on both sides make the out-of-fold AUC fall below 0.5 (each held-out row's
    twin trains the model against it); the one-sided p-value keeps the verdict right."""
    rows = rng.normal(size=(300, 2))

    result = domain_classifier.test(rows, rows.copy(), **FAST)

    assert not result.drift
    assert result.p_value > 0.5


def test_missing_values_are_allowed_and_a_change_in_them_is_drift(
    rng: np.random.Generator,
) -> None:
    reference, current = rng.normal(size=(2, 400, 3))
    reference[rng.random(400) < 0.05, 0] = np.nan
    current[rng.random(400) < 0.5, 0] = np.nan

    result = domain_classifier.test(reference, current, **FAST)

    assert result.drift
    assert result.features[0].name == "x0"


def test_balancing_and_row_cap(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=(900, 2)), rng.normal(size=(200, 2))

    balanced = domain_classifier.test(reference, current, **FAST)
    capped = domain_classifier.test(reference, current, max_rows=100, **FAST)

    assert (balanced.n_reference, balanced.n_current) == (200, 200)
    assert (capped.n_reference, capped.n_current) == (50, 50)


def test_prepared_reference_gives_the_same_result(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=(300, 3)), rng.normal(0.3, 1.0, size=(250, 3))

    prepared = domain_classifier.prepare(reference, names=["a", "b", "c"], seed=2)

    direct = domain_classifier.test(reference, current, names=["a", "b", "c"], seed=2, **FAST)
    assert domain_classifier.test(prepared, current, seed=2, **FAST) == direct
    assert domain_classifier.test(reference, current, seed=3, **FAST) != direct


def test_permutation_p_value_reruns_the_cross_validation(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=(2, 60, 2))
    options: dict[str, Any] = {
        "n_splits": 3,
        "max_iter": 5,
        "importance_rows": 0,
        "n_permutations": 19,
    }

    moved = domain_classifier.test(reference, current + np.array([1.5, 0.0]), **options)
    same = domain_classifier.test(reference, current, **options)

    assert moved.p_value == 1 / 20  # no relabelling reached the observed AUC
    assert moved.drift
    assert 1 / 20 <= same.p_value <= 1
    assert same.p_value > 0.05
    assert domain_classifier.test(reference, current, **options) == same
    plain = domain_classifier.test(reference, current, **{**options, "n_permutations": 0})
    assert (plain.statistic, plain.ci) == (same.statistic, same.ci)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_the_result(rng: np.random.Generator, seed: int) -> None:
    reference, current = rng.normal(size=(80, 2)), rng.normal(0.2, 1.0, size=(70, 2))
    shuffle = np.random.default_rng(seed)
    options: dict[str, Any] = {"max_iter": 3, "n_splits": 3, "importance_rows": 30}

    first = domain_classifier.test(reference, current, **options)
    again = domain_classifier.test(
        shuffle.permutation(reference), shuffle.permutation(current), **options
    )

    assert again == first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_splits": 1}, "n_splits must be an integer >= 2, got 1"),
        ({"alpha": 1.5}, r"alpha must be a number in \(0, 1\), got 1.5"),
        ({"min_auc": 2}, r"min_auc must be a number in \[0, 1\], got 2"),
        ({"max_rows": 2}, "max_rows must be an integer >= 4"),
        ({"names": ["a"]}, "names: expected 2 feature name"),
        ({"threads": 0}, "threads must be an integer >= 1, got 0"),
    ],
)
def test_bad_parameters_are_named(options: dict[str, object], message: str) -> None:
    rows = np.zeros((20, 2))

    with pytest.raises(InvalidInputError, match=message):
        domain_classifier.test(rows, rows, **options)  # type: ignore[arg-type]


def test_bad_inputs_are_named() -> None:
    rows = np.random.default_rng(0).normal(size=(20, 2))
    infinite = rows.copy()
    infinite[3, 1] = np.inf

    with pytest.raises(InvalidInputError, match="current: column 1 holds an infinity"):
        domain_classifier.test(rows, infinite)
    with pytest.raises(InvalidInputError, match="current has 3 column"):
        domain_classifier.test(rows, np.zeros((20, 3)))
    with pytest.raises(InvalidInputError, match="at least n_splits=5 rows each, got 20 and 4"):
        domain_classifier.test(rows, rows[:4])
