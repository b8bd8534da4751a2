"""Wasserstein-1, raw and normed (``detectors.univariate.wasserstein``): scipy and Evidently
parity, check values, properties and input errors."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.univariate import prepare, wasserstein
from tests.unit.detectors.samples import mixed

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


@pytest.mark.parametrize(
    ("n", "m", "seed"),
    [(1, 1, 0), (5, 7, 1), (40, 40, 2), (300, 170, 3), (1000, 800, 4), (5000, 20_000, 5)],
)
def test_matches_scipy_and_evidently_column_by_column(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = mixed(rng, n, 0.0), mixed(rng, m, 0.2)

    raw = wasserstein.test_raw(reference, current)
    normed = wasserstein.test(reference, current)

    assert (raw.method, normed.method) == ("wasserstein", "wasserstein_normed")
    assert raw.p_value is None
    assert normed.p_value is None
    for j in range(reference.shape[1]):
        x, y = reference[~np.isnan(reference[:, j]), j], current[~np.isnan(current[:, j]), j]
        if not x.size or not y.size:
            assert np.isnan(raw.statistic[j])
            continue
        distance = scipy.stats.wasserstein_distance(x, y)
        assert raw.statistic[j] == pytest.approx(distance, rel=1e-9, abs=1e-12)
        # Evidently: wasserstein_distance(reference, current) / max(np.std(reference), 0.001)
        scaled = distance / max(np.std(x), 0.001)
        assert normed.statistic[j] == pytest.approx(scaled, rel=1e-9, abs=1e-12)
    np.testing.assert_array_equal(raw.effect, raw.statistic)
    np.testing.assert_array_equal(normed.effect, normed.statistic)
    for result in (raw, normed):
        np.testing.assert_array_equal(result.n_reference, (~np.isnan(reference)).sum(axis=0))
        np.testing.assert_array_equal(result.n_current, (~np.isnan(current)).sum(axis=0))


def test_constant_reference_is_normed_by_the_floor() -> None:
    result = wasserstein.test(np.full(10, 2.0), np.full(5, 2.5))

    assert result.statistic[0] == pytest.approx(0.5 / wasserstein.STD_FLOOR, rel=1e-12)


def test_check_values() -> None:
    """statistics.md §2.1 on S7: one default_rng(7), drawn in the recipe's order."""
    rng = np.random.default_rng(7)
    reference, current = rng.normal(0.0, 1.0, 1000), rng.normal(0.1, 1.1, 800)
    rng.poisson(3.0, 300), rng.poisson(3.3, 250)
    big_reference, big_current = rng.normal(0.0, 1.0, 1_000_000), rng.normal(0.005, 1.0, 1_000_000)

    raw = wasserstein.test_raw(reference, current)
    normed = wasserstein.test(prepare(reference), current)
    huge = wasserstein.test(big_reference, big_current)

    assert raw.statistic[0] == pytest.approx(0.19180364334378613, rel=1e-9)
    assert normed.statistic[0] == pytest.approx(0.20376041891663046, rel=1e-9)
    assert huge.statistic[0] == pytest.approx(0.004464142588816457, rel=1e-9)


def test_all_missing_column_gives_nan_not_an_error() -> None:
    reference = np.array([[1.0, np.nan], [2.0, np.nan]])
    current = np.array([[1.5, 1.0], [2.5, 2.0]])

    normed, raw = wasserstein.test(reference, current), wasserstein.test_raw(reference, current)

    assert raw.statistic[0] == pytest.approx(0.5)
    assert normed.statistic[0] == pytest.approx(0.5 / 0.5)  # std([1, 2], ddof=0) = 0.5
    for result in (normed, raw):
        assert np.isnan([result.statistic[1], result.effect[1]]).all()
        assert result.n_reference.tolist() == [2, 0]


@pytest.mark.parametrize("function", [wasserstein.test, wasserstein.test_raw])
@pytest.mark.parametrize(
    ("reference", "current", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 3)), "current has 3 column.*reference has 2"),
        (prepare(np.zeros((5, 2))), np.zeros((5, 3)), "current has 3 column.*reference has 2"),
        ([[1.0], [np.inf]], [[1.0]], "reference: column 0 holds an infinity"),
        ([[1.0]], [[1.0, -np.inf]], "current: column 1 holds an infinity"),
        ([["a"], ["b"]], [[1.0]], "reference: expected numbers"),
        ([[1.0]], np.empty((0, 1)), "current: found array with 0 row"),
        (np.empty((0, 2)), np.zeros((3, 2)), "reference: found array with 0 row"),
    ],
)
def test_invalid_input_is_refused(
    function: object, reference: object, current: object, match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        function(reference, current)  # type: ignore[operator]


def test_grows_with_the_shift() -> None:
    rng = np.random.default_rng(20261124)
    reference = rng.normal(size=500)
    shifts = [0.0, 0.5, 1.0, 2.0]

    distances = [float(wasserstein.test(reference, reference + s).statistic[0]) for s in shifts]

    assert distances == pytest.approx([s / np.std(reference) for s in shifts], rel=1e-9, abs=1e-12)


values = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    st.just(np.nan),
)


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    """A reference and a current sample of the same width, with ties likely."""
    width = draw(st.integers(1, 4))
    n, m = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    reference = draw(hnp.arrays(np.float64, (n, width), elements=values))
    current = draw(hnp.arrays(np.float64, (m, width), elements=values))
    return reference, current


@settings(deadline=None, max_examples=50)
@given(pairs())
def test_distances_are_non_negative_and_match_scipy(pair: Pair) -> None:
    reference, current = pair
    result = wasserstein.test_raw(reference, current)

    empty = (result.n_reference == 0) | (result.n_current == 0)
    np.testing.assert_array_equal(np.isnan(result.statistic), empty)
    assert (result.statistic[~empty] >= 0).all()
    for j in np.flatnonzero(~empty):
        x, y = reference[:, j], current[:, j]
        expected = scipy.stats.wasserstein_distance(x[~np.isnan(x)], y[~np.isnan(y)])
        assert result.statistic[j] == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(deadline=None, max_examples=50)
@given(pairs())
def test_identical_samples_are_at_distance_zero(pair: Pair) -> None:
    reference, _ = pair
    for result in (
        wasserstein.test(reference, reference[::-1]),
        wasserstein.test_raw(reference, reference[::-1]),
    ):
        tested = result.n_reference > 0
        assert (result.statistic[tested] == 0).all()


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_column_permutation_permutes_results(pair: Pair, seed: int) -> None:
    reference, current = pair
    order = np.random.default_rng(seed).permutation(reference.shape[1])

    for function in (wasserstein.test, wasserstein.test_raw):
        whole = function(reference, current)
        permuted = function(reference[:, order], current[:, order])
        np.testing.assert_array_equal(permuted.statistic, whole.statistic[order])


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_row_order_and_preparation_do_not_matter(pair: Pair, seed: int) -> None:
    reference, current = pair
    rng = np.random.default_rng(seed)
    shuffled_reference = rng.permutation(reference, axis=0)
    shuffled_current = rng.permutation(current, axis=0)

    for function in (wasserstein.test, wasserstein.test_raw):
        whole = function(reference, current)
        np.testing.assert_array_equal(
            function(shuffled_reference, shuffled_current).statistic, whole.statistic
        )
        fitted = function(prepare(reference), current)
        np.testing.assert_array_equal(fitted.statistic, whole.statistic)


def test_equal_sizes_take_the_sorted_pairs_path_and_agree_with_scipy() -> None:
    rng = np.random.default_rng(7)
    reference = rng.integers(0, 4, size=(500, 3)).astype(float)  # ties across the samples
    current = rng.normal(size=(500, 3)).round(1)
    result = wasserstein.test_raw(reference, current)
    expected = [scipy.stats.wasserstein_distance(reference[:, j], current[:, j]) for j in range(3)]
    np.testing.assert_allclose(result.statistic, expected, rtol=1e-12, atol=0)
