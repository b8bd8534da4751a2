"""Anderson–Darling two-sample (``detectors.univariate.anderson``): scipy parity, the clipped
p-value contract, check values, effect size, properties, input errors and power."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.univariate import anderson, prepare
from tests.unit.detectors.samples import mixed

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def scipy_anderson(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """scipy's midrank result on the non-missing values, NaN where scipy refuses the column.

    Only scipy's clipping notices are silenced; a deprecation warning would still fail.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "p-value (capped|floored)", UserWarning)
        try:
            result = scipy.stats.anderson_ksamp(
                [x[~np.isnan(x)], y[~np.isnan(y)]], variant="midrank"
            )
        except ValueError:  # a single distinct value
            return np.nan, np.nan
    return float(result.statistic), float(result.pvalue)


@pytest.mark.parametrize(
    ("n", "m", "shift", "seed"),
    [
        (6, 9, 0.2, 1),
        (40, 40, 0.0, 2),
        (300, 170, 0.2, 3),
        (1000, 800, 0.1, 4),
        (800, 600, 0.05, 5),
        (5000, 20_000, 0.02, 6),
    ],
)
def test_matches_scipy_column_by_column(n: int, m: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = mixed(rng, n, 0.0), mixed(rng, m, shift)

    result = anderson.test(reference, current)

    assert result.method == "anderson"
    assert result.p_value is not None
    for j in range(reference.shape[1]):
        statistic, p = scipy_anderson(reference[:, j], current[:, j])
        np.testing.assert_allclose(result.statistic[j], statistic, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(result.p_value[j], p, rtol=1e-9)
    np.testing.assert_array_equal(result.n_reference, (~np.isnan(reference)).sum(axis=0))
    np.testing.assert_array_equal(result.n_current, (~np.isnan(current)).sum(axis=0))


def test_interpolated_p_values_match_scipy_between_the_clips() -> None:
    """Shifts chosen so the p-values fall inside (0.001, 0.25), where scipy interpolates."""
    rng = np.random.default_rng(11)
    reference = rng.normal(size=(400, 8))
    current = rng.normal([0.05, 0.1, 0.12, 0.15, 0.18, 0.2, 0.25, 0.3], size=(300, 8))

    result = anderson.test(reference, current)

    assert result.p_value is not None
    inside = (result.p_value > anderson.P_VALUE_FLOOR) & (result.p_value < anderson.P_VALUE_CAP)
    assert inside.sum() == 4
    for j in range(8):
        statistic, p = scipy_anderson(reference[:, j], current[:, j])
        assert result.statistic[j] == pytest.approx(statistic, rel=1e-9)
        assert result.p_value[j] == pytest.approx(p, rel=1e-9)


def test_check_values() -> None:
    """statistics.md §1.3 on S7 (``ref`` and ``cur``, the first two draws of default_rng(7))."""
    rng = np.random.default_rng(7)
    reference, current = rng.normal(0.0, 1.0, 1000), rng.normal(0.1, 1.1, 800)

    result = anderson.test(reference, current)

    assert result.statistic[0] == pytest.approx(9.40212246897369, rel=1e-9)
    assert result.p_value is not None
    assert result.p_value[0] == anderson.P_VALUE_FLOOR == 0.001


def test_effect_estimates_the_same_distance_at_any_sample_size() -> None:
    rng = np.random.default_rng(3)
    small = anderson.test(rng.normal(size=2000), rng.normal(0.5, size=2000))
    large = anderson.test(rng.normal(size=50_000), rng.normal(0.5, size=50_000))

    assert large.statistic[0] > 10 * small.statistic[0]
    assert large.effect[0] == pytest.approx(small.effect[0], rel=0.1)


def test_untestable_columns_give_nan_not_an_error() -> None:
    reference = np.array([[1.0, np.nan, 2.0, 1.0], [2.0, np.nan, 2.0, 2.0], [3.0, 4.0, 2.0, 3.0]])
    current = np.array([[1.5, 1.0, 2.0, 9.0], [2.5, 2.0, 2.0, np.nan]])

    result = anderson.test(reference, current)

    assert result.p_value is not None
    assert np.isfinite([result.statistic[0], result.p_value[0], result.effect[0]]).all()
    # 1 + 2 values in all; one distinct value; 3 + 1 values: N = 4 is enough
    assert np.isnan(result.statistic[1:3]).all()
    assert np.isnan(result.p_value[1:3]).all()
    assert np.isnan(result.effect[1:3]).all()
    assert np.isfinite(result.statistic[3])


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
        anderson.test(reference, current)  # type: ignore[arg-type]


def test_detects_a_one_sd_shift() -> None:
    """The floor 0.001 stands for "p < 0.001": that is the most this test can say."""
    rng = np.random.default_rng(20261124)
    result = anderson.test(rng.normal(size=(500, 2)), rng.normal(1.0, size=(500, 2)))

    assert result.p_value is not None
    assert (result.p_value <= anderson.P_VALUE_FLOOR).all()
    assert (result.statistic > 100).all()


def test_does_not_flag_the_same_distribution() -> None:
    rng = np.random.default_rng(20261124)
    result = anderson.test(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))

    assert result.p_value is not None
    assert (result.p_value > 0.01).all()


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
def test_p_values_are_clipped_probabilities(pair: Pair) -> None:
    result = anderson.test(*pair)

    assert result.p_value is not None
    tested = ~np.isnan(result.statistic)
    np.testing.assert_array_equal(np.isnan(result.p_value), ~tested)
    p = result.p_value[tested]
    assert ((p >= anderson.P_VALUE_FLOOR) & (p <= anderson.P_VALUE_CAP)).all()
    assert (result.effect[tested] >= 0).all()


@settings(deadline=None, max_examples=50)
@given(pairs())
def test_matches_scipy_on_arbitrary_columns(pair: Pair) -> None:
    reference, current = pair
    result = anderson.test(reference, current)

    assert result.p_value is not None
    for j in range(reference.shape[1]):
        if result.n_reference[j] + result.n_current[j] < 4 or not result.n_current[j]:
            continue  # below scipy's domain; documented as NaN
        statistic, p = scipy_anderson(reference[:, j], current[:, j])
        np.testing.assert_allclose(result.statistic[j], statistic, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(result.p_value[j], p, rtol=1e-9)


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_column_permutation_permutes_results(pair: Pair, seed: int) -> None:
    reference, current = pair
    order = np.random.default_rng(seed).permutation(reference.shape[1])

    whole = anderson.test(reference, current)
    permuted = anderson.test(reference[:, order], current[:, order])

    assert whole.p_value is not None
    assert permuted.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, whole.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, whole.p_value[order])


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_row_order_and_preparation_do_not_matter(pair: Pair, seed: int) -> None:
    reference, current = pair
    rng = np.random.default_rng(seed)
    shuffled = anderson.test(rng.permutation(reference, axis=0), rng.permutation(current, axis=0))
    fitted = anderson.test(prepare(reference), current)
    whole = anderson.test(reference, current)

    for other in (shuffled, fitted):
        assert other.p_value is not None
        assert whole.p_value is not None
        np.testing.assert_array_equal(other.statistic, whole.statistic)
        np.testing.assert_array_equal(other.p_value, whole.p_value)
