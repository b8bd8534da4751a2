"""Two-sample Cramér–von Mises (``detectors.univariate.cvm``): scipy parity, check values,
effect size, properties, input errors and power."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.univariate import cvm, prepare
from tests.unit.detectors.samples import mixed

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


@pytest.mark.parametrize(
    ("n", "m", "seed"),
    [(6, 9, 1), (20, 20, 2), (25, 12, 3), (300, 170, 4), (1000, 800, 5), (5000, 20_000, 6)],
)
def test_matches_scipy_column_by_column(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = mixed(rng, n, 0.0), mixed(rng, m, 0.2)

    result = cvm.test(reference, current)

    assert result.method == "cvm"
    assert result.p_value is not None
    for j in range(reference.shape[1]):
        x, y = reference[~np.isnan(reference[:, j]), j], current[~np.isnan(current[:, j]), j]
        expected = scipy.stats.cramervonmises_2samp(x, y, method="auto")
        assert result.statistic[j] == pytest.approx(expected.statistic, rel=1e-9)
        assert result.p_value[j] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)
        size = x.size * y.size / (x.size + y.size)
        assert result.effect[j] == pytest.approx(np.sqrt(expected.statistic / size), rel=1e-9)
    np.testing.assert_array_equal(result.n_reference, (~np.isnan(reference)).sum(axis=0))
    np.testing.assert_array_equal(result.n_current, (~np.isnan(current)).sum(axis=0))


def test_check_values() -> None:
    """statistics.md §1.2 on S7 (``ref`` and ``cur``, the first two draws of default_rng(7))."""
    rng = np.random.default_rng(7)
    reference, current = rng.normal(0.0, 1.0, 1000), rng.normal(0.1, 1.1, 800)

    result = cvm.test(reference, current)

    assert result.statistic[0] == pytest.approx(1.193441157407392, rel=1e-9)
    assert result.p_value is not None
    assert result.p_value[0] == pytest.approx(8.71600004473172e-4, rel=1e-9)


def test_effect_estimates_the_same_distance_at_any_sample_size() -> None:
    rng = np.random.default_rng(3)
    small = cvm.test(rng.normal(size=2000), rng.normal(0.5, size=2000))
    large = cvm.test(rng.normal(size=50_000), rng.normal(0.5, size=50_000))

    assert large.statistic[0] > 10 * small.statistic[0]
    assert large.effect[0] == pytest.approx(small.effect[0], rel=0.1)


def test_too_few_values_give_nan_not_an_error() -> None:
    reference = np.array([[1.0, np.nan, 1.0], [2.0, np.nan, 2.0], [3.0, 5.0, 3.0]])
    current = np.array([[1.5, 1.0, 0.0], [2.5, 2.0, np.nan]])

    result = cvm.test(reference, current)

    assert result.p_value is not None
    assert np.isfinite([result.statistic[0], result.p_value[0], result.effect[0]]).all()
    for j in (1, 2):  # one value in the reference; one value in the current
        assert np.isnan([result.statistic[j], result.p_value[j], result.effect[j]]).all()


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
def test_invalid_input_is_refused(reference: object, current: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        cvm.test(reference, current)  # type: ignore[arg-type]


def test_detects_a_one_sd_shift() -> None:
    rng = np.random.default_rng(20261124)
    result = cvm.test(rng.normal(size=(500, 2)), rng.normal(1.0, size=(500, 2)))

    assert result.p_value is not None
    assert (result.p_value < 1e-6).all()


def test_does_not_flag_the_same_distribution() -> None:
    rng = np.random.default_rng(20261124)
    result = cvm.test(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))

    assert result.p_value is not None
    assert (result.p_value > 0.01).all()


values = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    st.just(np.nan),
)


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    """A reference and a current sample of the same width, with ties likely.

    Sizes straddle 20, so both the exact and the asymptotic p-values are exercised.
    """
    width = draw(st.integers(1, 3))
    n, m = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    reference = draw(hnp.arrays(np.float64, (n, width), elements=values))
    current = draw(hnp.arrays(np.float64, (m, width), elements=values))
    return reference, current


@settings(deadline=None, max_examples=50)
@given(pairs())
def test_p_values_are_probabilities(pair: Pair) -> None:
    result = cvm.test(*pair)

    assert result.p_value is not None
    too_few = (result.n_reference < 2) | (result.n_current < 2)
    np.testing.assert_array_equal(np.isnan(result.p_value), too_few)
    assert ((result.p_value[~too_few] >= 0) & (result.p_value[~too_few] <= 1)).all()
    assert (result.effect[~too_few] >= 0).all()


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_column_permutation_permutes_results(pair: Pair, seed: int) -> None:
    reference, current = pair
    order = np.random.default_rng(seed).permutation(reference.shape[1])

    whole, permuted = cvm.test(reference, current), cvm.test(reference[:, order], current[:, order])

    assert whole.p_value is not None
    assert permuted.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, whole.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, whole.p_value[order])


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_row_order_and_preparation_do_not_matter(pair: Pair, seed: int) -> None:
    reference, current = pair
    rng = np.random.default_rng(seed)
    shuffled = cvm.test(rng.permutation(reference, axis=0), rng.permutation(current, axis=0))
    fitted = cvm.test(prepare(reference), current)
    whole = cvm.test(reference, current)

    for other in (shuffled, fitted):
        assert other.p_value is not None
        assert whole.p_value is not None
        np.testing.assert_array_equal(other.statistic, whole.statistic)
        np.testing.assert_array_equal(other.p_value, whole.p_value)
