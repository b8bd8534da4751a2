"""Fisher's exact test of :mod:`detectors.categorical.fisher`."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.categorical import fisher
from detectors.errors import InvalidInputError
from tests.unit.detectors.test_chi2 import assert_same, from_counts, table_of
from tests.unit.detectors.test_z_test import Sample, binary_columns, binary_samples


def test_check_value(rng: np.random.Generator) -> None:
    result = fisher.test(from_counts([700, 300], rng), from_counts([520, 280], rng))
    assert result.method == "fisher"
    assert result.p_value is not None
    assert result.p_value[0] == pytest.approx(0.025567218200349157, rel=1e-9)
    assert result.statistic[0] == pytest.approx(700 * 280 / (520 * 300), rel=1e-12)
    assert result.effect[0] == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize("rows", [(500, 350), (14, 9)])
def test_matches_fisher_exact(rng: np.random.Generator, rows: tuple[int, int]) -> None:
    reference, current = binary_columns(rng)
    reference, current = reference[: rows[0]], current[: rows[1]]
    result = fisher.test(reference, current)
    assert result.p_value is not None
    for column in range(reference.shape[1]):
        table = table_of(reference[:, column], current[:, column])
        if table.shape[1] == 1:
            table = np.column_stack([table, [0, 0]])
        expected = scipy.stats.fisher_exact(table, alternative="two-sided")
        np.testing.assert_equal(result.statistic[column], expected.statistic)
        assert result.p_value[column] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_one_category_and_empty_sample_conventions() -> None:
    result = fisher.test([[1.0, np.nan]], [[1.0, 2.0]])
    assert result.p_value is not None
    assert np.isnan(result.statistic[0])  # scipy's odds ratio for a one-category table
    assert (result.p_value[0], result.effect[0]) == (1.0, 0.0)
    assert np.isnan([result.statistic[1], result.p_value[1], result.effect[1]]).all()


def test_three_categories_name_the_column() -> None:
    with pytest.raises(InvalidInputError, match=r"column 1 has 3 categories.*fisher"):
        fisher.test([[0.0, 0.0], [1.0, 1.0]], [[0.0, 2.0], [1.0, 1.0]])


@settings(deadline=None, max_examples=50)
@given(data=binary_samples())
def test_p_value_is_a_probability_and_identical_samples_agree(data: Sample) -> None:
    reference, current = data
    result = fisher.test(reference, current)
    assert result.p_value is not None
    empty = (result.n_reference == 0) | (result.n_current == 0)
    assert np.isnan(result.p_value[empty]).all()
    assert ((result.p_value[~empty] >= 0) & (result.p_value[~empty] <= 1)).all()
    same = fisher.test(reference, reference)
    assert same.p_value is not None
    assert (same.p_value[same.n_reference > 0] == 1).all()


@settings(deadline=None, max_examples=50)
@given(data=binary_samples(), seed=st.integers(0, 2**32 - 1))
def test_permutations_and_prepared_reference(data: Sample, seed: int) -> None:
    reference, current = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(reference.shape[1])
    result = fisher.test(reference, current)
    assert result.p_value is not None
    permuted = fisher.test(reference[:, order], current[:, order])
    assert permuted.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, result.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, result.p_value[order])
    assert_same(fisher.test(rng.permutation(reference), rng.permutation(current)), result)
    assert_same(fisher.test(fisher.prepare(reference), current), result)


@settings(deadline=None, max_examples=50)
@given(data=binary_samples())
def test_swapping_the_codes_keeps_p_and_effect(data: Sample) -> None:
    reference, current = data

    def swap(codes: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(codes == 0.0, 4.0, np.where(codes == 4.0, 0.0, codes))

    result = fisher.test(reference, current)
    swapped = fisher.test(swap(reference), swap(current))
    assert result.p_value is not None
    assert swapped.p_value is not None
    np.testing.assert_allclose(swapped.p_value, result.p_value, rtol=1e-12)
    np.testing.assert_allclose(swapped.effect, result.effect, rtol=1e-12, atol=1e-15)
