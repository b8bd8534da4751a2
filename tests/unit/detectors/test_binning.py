"""Tests of detectors.binning: reference-fitted edges, open outer bins, ties, NaN, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detectors import InvalidInputError
from detectors.binning import BinnedReference, count, fit


def test_quantile_edges_are_the_reference_quantiles() -> None:
    reference = np.random.default_rng(1).normal(size=(500, 2))
    binned = fit(reference)
    fractions = np.arange(1, 10) / 10
    for j in range(2):
        np.testing.assert_array_equal(binned.edges[j], np.quantile(reference[:, j], fractions))
        assert binned.counts[j].tolist() == [50] * 10
    assert binned.strategy == "quantile"
    assert binned.bins == 10
    assert binned.n_bins.tolist() == [10, 10]
    assert binned.n_reference.tolist() == [500, 500]


def test_uniform_edges_split_the_reference_range_equally() -> None:
    reference = np.array([[0.0, -3.0], [10.0, 5.0], [2.5, 1.0]])
    binned = fit(reference, bins=4, strategy="uniform")
    assert binned.edges[0].tolist() == [2.5, 5.0, 7.5]
    assert binned.edges[1].tolist() == [-1.0, 1.0, 3.0]
    assert binned.counts[0].tolist() == [1, 1, 0, 1]
    assert binned.counts[1].tolist() == [1, 0, 1, 1]


def test_quantile_and_uniform_differ_on_skewed_data() -> None:
    reference = np.random.default_rng(2).exponential(size=1000)
    quantile, uniform = fit(reference), fit(reference, strategy="uniform")
    assert quantile.counts[0].tolist() == [100] * 10
    assert uniform.counts[0][0] > 300
    np.testing.assert_allclose(np.diff(uniform.edges[0]), np.ptp(reference) / 10)


def test_open_outer_bins_count_values_outside_the_reference_range() -> None:
    binned = fit(np.arange(100.0))
    counts = count(binned, [-1e9, -1.0, 50.0, 99.0, 1e3, 1e300])[0]
    assert counts[0] == 2
    assert counts[-1] == 3
    assert counts.sum() == 6


def test_bins_are_half_open_on_the_right() -> None:
    binned = fit(np.arange(11.0), bins=5, strategy="uniform")
    assert binned.edges[0].tolist() == [2.0, 4.0, 6.0, 8.0]
    assert count(binned, [2.0, 3.999, 4.0, 8.0])[0].tolist() == [0, 2, 1, 0, 1]


@pytest.mark.parametrize("bins", [10, 33, 64])
def test_counts_agree_on_both_counting_paths(bins: int) -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=(300, 2))
    current = rng.normal(0.5, 2.0, size=(200, 2))
    current[::7, 1] = np.nan
    binned = fit(reference, bins=bins)
    for j, counts in enumerate(count(binned, current)):
        values = current[~np.isnan(current[:, j]), j]
        index = (values[:, np.newaxis] >= binned.edges[j]).sum(axis=1)
        expected = np.bincount(index, minlength=len(binned.edges[j]) + 1)
        np.testing.assert_array_equal(counts, expected)


def test_nan_is_dropped_from_reference_and_current() -> None:
    reference = np.array([[1.0, np.nan], [2.0, 1.0], [np.nan, 2.0], [3.0, 3.0], [4.0, np.nan]])
    binned = fit(reference, bins=2)
    assert binned.n_reference.tolist() == [4, 3]
    counts = count(binned, [[np.nan, 1.0], [np.nan, np.nan], [5.0, 0.0]])
    assert [int(c.sum()) for c in counts] == [1, 2]


def test_ties_do_not_create_zero_width_bins() -> None:
    reference = np.concatenate([np.zeros(600), np.arange(1.0, 401.0)])
    binned = fit(reference)
    edges = binned.edges[0]
    assert np.all(np.diff(edges) > 0)
    assert len(edges) + 1 < 10
    assert edges[0] == 0.0
    assert binned.counts[0][:2].tolist() == [0, 600]
    assert int(binned.counts[0].sum()) == 1000


def test_constant_column_gets_below_at_and_above_bins() -> None:
    binned = fit(np.full((50, 1), 3.0), bins=10)
    assert binned.edges[0].tolist() == [3.0, float(np.nextafter(3.0, np.inf))]
    assert binned.counts[0].tolist() == [0, 50, 0]
    assert count(binned, [2.9, 3.0, 3.0, 3.1])[0].tolist() == [1, 2, 1]


def test_binned_reference_is_immutable() -> None:
    binned = fit(np.arange(20.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        binned.bins = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        binned.edges[0][0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        binned.counts[0][0] = 1
    assert isinstance(binned, BinnedReference)


@pytest.mark.parametrize("bins", [1, 0, -3, True, 2.5, "10", None])
def test_bins_must_be_an_integer_of_at_least_two(bins: object) -> None:
    with pytest.raises(InvalidInputError, match="'bins' parameter must be an integer >= 2"):
        fit(np.arange(10.0), bins=bins)  # type: ignore[arg-type]


def test_unknown_strategy_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError, match=r"'quantile', 'uniform'\. Got 'sturges'"):
        fit(np.arange(10.0), strategy="sturges")  # type: ignore[arg-type]


def test_infinity_and_empty_columns_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="reference: column 1 holds an infinity"):
        fit([[1.0, 2.0], [3.0, np.inf]])
    with pytest.raises(InvalidInputError, match="reference: column 0 has no present"):
        fit([[np.nan, 2.0], [np.nan, 1.0]])
    with pytest.raises(InvalidInputError, match="current: column 0 holds an infinity"):
        count(fit(np.arange(10.0)), [-np.inf])


def test_count_refuses_a_width_mismatch() -> None:
    with pytest.raises(InvalidInputError, match="current has 3 column"):
        count(fit(np.ones((5, 2))), np.ones((5, 3)))


columns = st.integers(1, 3).flatmap(
    lambda k: arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.just(k)),
        elements=st.floats(-1e9, 1e9, allow_nan=False) | st.just(np.nan),
    )
)


@settings(deadline=None, max_examples=50)
@given(
    reference=columns, bins=st.integers(2, 12), strategy=st.sampled_from(["quantile", "uniform"])
)
def test_edges_increase_strictly_and_counts_sum_to_n(
    reference: np.ndarray, bins: int, strategy: str
) -> None:
    reference[0] = 0.0  # at least one present value per column
    binned = fit(reference, bins=bins, strategy=strategy)  # type: ignore[arg-type]
    present = (~np.isnan(reference)).sum(axis=0)
    for j in range(reference.shape[1]):
        assert np.all(np.diff(binned.edges[j]) > 0)
        assert len(binned.counts[j]) == len(binned.edges[j]) + 1 <= max(bins, 3)
    assert binned.n_reference.tolist() == present.tolist()
    assert [int(c.sum()) for c in count(binned, reference)] == present.tolist()
