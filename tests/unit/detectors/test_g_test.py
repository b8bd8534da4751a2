"""The G-test of :mod:`detectors.categorical.g_test`: check value, scipy parity, properties."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.categorical import g_test
from tests.unit.detectors.test_chi2 import (
    assert_same,
    from_counts,
    mixed_columns,
    samples,
    table_of,
)

Sample = tuple[NDArray[np.float64], NDArray[np.float64]]


def test_check_value(rng: np.random.Generator) -> None:
    reference = from_counts([400, 300, 200, 100], rng)
    result = g_test.test(reference, from_counts([330, 260, 150, 60], rng))
    assert result.method == "g_test"
    assert result.p_value is not None
    assert result.p_value[0] == pytest.approx(0.20455055138972664, rel=1e-12)
    assert result.effect[0] == pytest.approx(np.sqrt(result.statistic[0] / 1800), rel=1e-12)


def test_matches_chi2_contingency_log_likelihood(rng: np.random.Generator) -> None:
    reference, current = mixed_columns(rng)
    result = g_test.test(reference, current)
    assert result.p_value is not None
    for column in range(reference.shape[1]):
        table = table_of(reference[:, column], current[:, column])
        expected = scipy.stats.chi2_contingency(table, lambda_="log-likelihood", correction=False)
        assert result.statistic[column] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
        assert result.p_value[column] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_lone_category_and_empty_sample_conventions() -> None:
    result = g_test.test([[1.0, np.nan]], [[1.0, 2.0]])
    assert result.p_value is not None
    assert (result.statistic[0], result.p_value[0], result.effect[0]) == (0.0, 1.0, 0.0)
    assert np.isnan([result.statistic[1], result.p_value[1], result.effect[1]]).all()


@settings(deadline=None, max_examples=50)
@given(data=samples())
def test_p_value_is_a_probability_and_identical_samples_agree(data: Sample) -> None:
    reference, current = data
    result = g_test.test(reference, current)
    assert result.p_value is not None
    empty = (result.n_reference == 0) | (result.n_current == 0)
    assert np.isnan(result.p_value[empty]).all()
    assert ((result.p_value[~empty] >= 0) & (result.p_value[~empty] <= 1)).all()
    same = g_test.test(reference, reference)
    assert same.p_value is not None
    full = same.n_reference > 0
    np.testing.assert_allclose(same.statistic[full], 0.0, atol=1e-12)
    np.testing.assert_allclose(same.p_value[full], 1.0, rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=50)
@given(data=samples(), seed=st.integers(0, 2**32 - 1))
def test_permutations_and_prepared_reference(data: Sample, seed: int) -> None:
    reference, current = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(reference.shape[1])
    result = g_test.test(reference, current)
    assert result.p_value is not None
    permuted = g_test.test(reference[:, order], current[:, order])
    assert permuted.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, result.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, result.p_value[order])
    assert_same(g_test.test(rng.permutation(reference), rng.permutation(current)), result)
    assert_same(g_test.test(g_test.prepare(reference), current), result)


@settings(deadline=None, max_examples=50)
@given(data=samples(), labels=st.permutations([0.0, 1.0, 2.0, 5.0, -3.0]))
def test_relabelling_codes_changes_nothing(data: Sample, labels: list[float]) -> None:
    reference, current = data
    mapping = dict(zip([0.0, 1.0, 2.0, 5.0, -3.0], labels, strict=True))

    def relabel(codes: NDArray[np.float64]) -> NDArray[np.float64]:
        relabelled = [mapping.get(code, np.nan) for code in codes.ravel().tolist()]
        return np.array(relabelled, dtype=np.float64).reshape(codes.shape)

    result = g_test.test(reference, current)
    assert_same(g_test.test(relabel(reference), relabel(current)), result, rtol=1e-12, atol=1e-12)
