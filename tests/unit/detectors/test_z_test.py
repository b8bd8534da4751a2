"""The two-proportion Z test of :mod:`detectors.categorical.z_test`."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from detectors.categorical import z_test
from detectors.errors import InvalidInputError
from tests.unit.detectors.test_chi2 import assert_same, from_counts, table_of

Sample = tuple[NDArray[np.float64], NDArray[np.float64]]
BINARY = st.sampled_from([0.0, 4.0, np.nan])
CHECK_Z = 2.2555753422051863  # statistics.md §3 gives −z: the sign is the first category's


@st.composite
def binary_samples(draw: st.DrawFn) -> Sample:
    width = draw(st.integers(1, 4))
    reference = draw(arrays(np.float64, (draw(st.integers(1, 40)), width), elements=BINARY))
    current = draw(arrays(np.float64, (draw(st.integers(1, 40)), width), elements=BINARY))
    return reference, current


def binary_columns(rng: np.random.Generator) -> Sample:
    """Binary columns: shared pair, one-sided categories, a lone category, NaN."""
    n, m = 500, 350
    reference_sets = [[0, 1], [3, 8], [5], [2], [-1, 6]]
    current_sets = [[0, 1], [8], [5], [2, 7], [-1, 6]]
    reference = np.column_stack([rng.choice(s, n) for s in reference_sets]).astype(np.float64)
    current = np.column_stack([rng.choice(s, m) for s in current_sets]).astype(np.float64)
    reference[rng.random(reference.shape) < 0.1] = np.nan
    current[rng.random(current.shape) < 0.1] = np.nan
    return reference, current


def test_check_values_and_sign_convention(rng: np.random.Generator) -> None:
    # Category 0 (700 of 1000 in reference, 520 of 800 in current) comes first: its share
    # fell, so z > 0. Giving the 300-category the smaller code flips the sign only.
    result = z_test.test(from_counts([700, 300], rng), from_counts([520, 280], rng))
    assert result.method == "z_test"
    assert result.p_value is not None
    assert result.statistic[0] == pytest.approx(CHECK_Z, rel=1e-12)
    assert result.p_value[0] == pytest.approx(0.024097238903178234, rel=1e-12)
    assert result.effect[0] == pytest.approx(0.05, rel=1e-12)
    flipped = z_test.test(
        from_counts([700, 300], rng, [1, 0]), from_counts([520, 280], rng, [1, 0])
    )
    assert flipped.statistic[0] == pytest.approx(-CHECK_Z, rel=1e-12)


def test_square_is_the_uncorrected_chi2(rng: np.random.Generator) -> None:
    reference, current = binary_columns(rng)
    result = z_test.test(reference, current)
    assert result.p_value is not None
    for column in range(reference.shape[1]):
        table = table_of(reference[:, column], current[:, column])
        expected = scipy.stats.chi2_contingency(table, correction=False)
        assert result.statistic[column] ** 2 == pytest.approx(expected.statistic, rel=1e-9)
        assert result.p_value[column] == pytest.approx(expected.pvalue, rel=1e-9)
        shares = table[:, 0] / table.sum(axis=1)  # union sorted: the first is the smallest
        if table[0, 0] > 0:  # ... when the reference has it
            assert np.sign(result.statistic[column]) == np.sign(shares[0] - shares[1])
            assert result.effect[column] == pytest.approx(abs(shares[0] - shares[1]))


def test_one_category_and_empty_sample_conventions() -> None:
    result = z_test.test([[1.0, np.nan]], [[1.0, 2.0]])
    assert result.p_value is not None
    assert (result.statistic[0], result.p_value[0], result.effect[0]) == (0.0, 1.0, 0.0)
    assert np.isnan([result.statistic[1], result.p_value[1], result.effect[1]]).all()


def test_three_categories_name_the_column() -> None:
    reference = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    current = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 3.0]])
    with pytest.raises(InvalidInputError, match=r"column 2 has 3 categories.*z_test"):
        z_test.test(reference, current)


@settings(deadline=None, max_examples=50)
@given(data=binary_samples())
def test_p_value_is_a_probability_and_identical_samples_agree(data: Sample) -> None:
    reference, current = data
    result = z_test.test(reference, current)
    assert result.p_value is not None
    empty = (result.n_reference == 0) | (result.n_current == 0)
    assert np.isnan(result.p_value[empty]).all()
    assert ((result.p_value[~empty] >= 0) & (result.p_value[~empty] <= 1)).all()
    same = z_test.test(reference, reference)
    assert same.p_value is not None
    full = same.n_reference > 0
    assert (same.statistic[full] == 0).all()
    assert (same.p_value[full] == 1).all()


@settings(deadline=None, max_examples=50)
@given(data=binary_samples(), seed=st.integers(0, 2**32 - 1))
def test_permutations_and_prepared_reference(data: Sample, seed: int) -> None:
    reference, current = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(reference.shape[1])
    result = z_test.test(reference, current)
    assert result.p_value is not None
    permuted = z_test.test(reference[:, order], current[:, order])
    assert permuted.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, result.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, result.p_value[order])
    assert_same(z_test.test(rng.permutation(reference), rng.permutation(current)), result)
    assert_same(z_test.test(z_test.prepare(reference), current), result)


@settings(deadline=None, max_examples=50)
@given(data=binary_samples(), low=st.integers(-5, 5), high=st.integers(-5, 5))
def test_relabelling_codes_keeps_p_and_effect(data: Sample, low: int, high: int) -> None:
    reference, current = data
    if low == high:
        return

    def relabel(codes: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(codes == 0.0, float(low), np.where(codes == 4.0, float(high), codes))

    result = z_test.test(reference, current)
    relabelled = z_test.test(relabel(reference), relabel(current))
    assert result.p_value is not None
    assert relabelled.p_value is not None
    np.testing.assert_allclose(np.abs(relabelled.statistic), np.abs(result.statistic), rtol=1e-12)
    np.testing.assert_allclose(relabelled.p_value, result.p_value, rtol=1e-12)
    np.testing.assert_allclose(relabelled.effect, result.effect, rtol=1e-12, atol=1e-15)
