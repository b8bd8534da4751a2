"""Tests of :mod:`dashboards.distributions`: shared histogram edges and category bars.

Expected counts come from :func:`numpy.histogram` and :class:`collections.Counter`, never
from the code under test.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dashboards.distributions import OTHER, categorical_distribution, numeric_distribution

# --- numeric ----------------------------------------------------------------------------------


def test_plain_samples_are_counted_as_numpy_histogram_counts_them(
    rng: np.random.Generator,
) -> None:
    # With at most 200 values a sample's 0.5th/99.5th percentiles are its min and max, so
    # nothing is clipped and the bins are numpy's over the pooled range.
    reference, current = rng.normal(0, 1, 150), rng.normal(0.5, 2, 120)
    pooled = np.concatenate([reference, current])
    span = (pooled.min(), pooled.max())

    hist = numeric_distribution(reference, current, bins=12)

    expected_ref, expected_edges = np.histogram(reference, bins=12, range=span)
    expected_cur, _ = np.histogram(current, bins=12, range=span)
    np.testing.assert_allclose(hist.edges, expected_edges, rtol=1e-12)
    assert hist.reference_counts.tolist() == expected_ref.tolist()
    assert hist.current_counts.tolist() == expected_cur.tolist()
    assert (hist.reference_missing, hist.current_missing) == (0, 0)


def test_outliers_are_clipped_into_the_outer_bins(rng: np.random.Generator) -> None:
    reference = np.append(rng.normal(0, 1, 10_000), [1e6, -1e6])
    current = rng.normal(0, 1, 5_000)

    hist = numeric_distribution(reference, current, bins=20)

    hi = max(np.percentile(reference, 99.5, method="higher"), np.percentile(current, 99.5))
    assert hist.edges[-1] == pytest.approx(hi, rel=0.05)
    assert hist.edges[-1] < 10  # the axis is not stretched to the outliers
    assert hist.edges[0] > -10
    expected, _ = np.histogram(np.clip(reference, hist.edges[0], hist.edges[-1]), hist.edges)
    assert hist.reference_counts.tolist() == expected.tolist()
    assert hist.reference_counts.sum() == len(reference)
    below, above = (reference < hist.edges[0]).sum(), (reference > hist.edges[-1]).sum()
    assert below >= 1
    assert above >= 1
    assert hist.reference_counts[0] >= below
    assert hist.reference_counts[-1] >= above


def test_a_small_current_far_from_a_large_reference_keeps_its_own_bins(
    rng: np.random.Generator,
) -> None:
    reference, current = rng.normal(0, 1, 100_000), rng.normal(50, 1, 100)

    hist = numeric_distribution(reference, current, bins=30)

    assert hist.edges[-1] >= current.max()
    assert (hist.current_counts > 0).sum() >= 3  # spread over bins, not piled in the last


def test_percentiles_are_taken_per_sample_and_bins_are_equal_width(
    rng: np.random.Generator,
) -> None:
    reference, current = rng.uniform(0, 10, 5_000), rng.uniform(5, 20, 3_000)

    hist = numeric_distribution(reference, current, bins=10)

    assert hist.edges[0] == np.percentile(reference, 0.5, method="lower")
    assert hist.edges[-1] == np.percentile(current, 99.5, method="higher")
    np.testing.assert_allclose(np.diff(hist.edges), np.diff(hist.edges)[0], rtol=1e-9)
    assert len(hist.edges) == 11


def test_nan_and_infinities_are_missing_not_counted() -> None:
    hist = numeric_distribution(
        np.array([1.0, np.nan, np.inf, 2.0]), np.array([-np.inf, 1.5, np.nan]), bins=4
    )

    assert (hist.reference_missing, hist.current_missing) == (2, 2)
    assert hist.reference_counts.sum() == 2
    assert hist.current_counts.sum() == 1
    assert hist.edges[0] == 1.0
    assert hist.edges[-1] == 2.0


def test_all_equal_values_get_one_bin_around_them() -> None:
    hist = numeric_distribution(np.full(5, 3.0), np.array([3.0, np.nan]), bins=30)

    assert len(hist.edges) == 2
    assert hist.edges[0] < 3.0 < hist.edges[1]
    assert hist.reference_counts.tolist() == [5]
    assert hist.current_counts.tolist() == [1]
    assert hist.current_missing == 1


def test_a_spike_with_a_few_outliers_widens_to_the_full_range() -> None:
    reference = np.append(np.zeros(1_000), [100.0])

    hist = numeric_distribution(reference, np.zeros(500), bins=10)

    assert (hist.edges[0], hist.edges[-1]) == (0.0, 100.0)
    assert hist.reference_counts.tolist() == [1000, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert hist.current_counts.tolist() == [500, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_empty_samples() -> None:
    both = numeric_distribution(np.array([]), np.array([np.nan]), bins=5)
    assert both.edges.tolist() == [0.0, 1.0]
    assert both.reference_counts.tolist() == both.current_counts.tolist() == [0]
    assert (both.reference_missing, both.current_missing) == (0, 1)

    one = numeric_distribution(np.array([]), np.array([1.0, 2.0, 3.0]), bins=2)
    assert one.edges.tolist() == [1.0, 2.0, 3.0]
    assert one.reference_counts.tolist() == [0, 0]
    assert one.current_counts.tolist() == [1, 2]


def test_a_range_wider_than_the_largest_float_does_not_overflow() -> None:
    hist = numeric_distribution(np.array([-1e308, 1e308]), np.array([0.0]), bins=4)

    assert np.isfinite(hist.edges).all()
    assert hist.edges.tolist() == [-1e308, -5e307, 0.0, 5e307, 1e308]
    assert hist.reference_counts.tolist() == [1, 0, 0, 1]
    assert hist.current_counts.tolist() == [0, 0, 1, 0]


@pytest.mark.parametrize("bins", [0, -1, 2.5, True])
def test_bins_must_be_a_positive_integer(bins: object) -> None:
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        numeric_distribution(np.ones(3), np.ones(3), bins=bins)  # type: ignore[arg-type]


def test_samples_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError, match=r"current values must be 1-D, got shape \(2, 2\)"):
        numeric_distribution(np.ones(3), np.ones((2, 2)))


_floats = hnp.arrays(
    np.float64,
    st.integers(0, 60),
    elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
)


@settings(max_examples=200, deadline=None)
@given(reference=_floats, current=_floats, bins=st.integers(1, 50))
def test_counts_cover_every_finite_value_on_strictly_increasing_edges(
    reference: np.ndarray, current: np.ndarray, bins: int
) -> None:
    hist = numeric_distribution(reference, current, bins=bins)

    assert np.isfinite(hist.edges).all()
    assert (hist.edges[1:] > hist.edges[:-1]).all()  # not np.diff: it overflows past 1.8e308
    assert 2 <= len(hist.edges) <= bins + 1
    assert len(hist.reference_counts) == len(hist.current_counts) == len(hist.edges) - 1
    assert hist.reference_counts.sum() == np.isfinite(reference).sum()
    assert hist.current_counts.sum() == np.isfinite(current).sum()
    assert hist.reference_missing == (~np.isfinite(reference)).sum()
    assert hist.current_missing == (~np.isfinite(current)).sum()
    assert (hist.reference_counts >= 0).all()
    assert (hist.current_counts >= 0).all()


@settings(max_examples=100, deadline=None)
@given(
    reference=hnp.arrays(np.float64, st.integers(1, 150), elements=st.floats(-1e6, 1e6)),
    current=hnp.arrays(np.float64, st.integers(1, 150), elements=st.floats(-1e6, 1e6)),
)
def test_unclipped_counts_match_numpy_on_the_same_edges(
    reference: np.ndarray, current: np.ndarray
) -> None:
    hist = numeric_distribution(reference, current, bins=8)

    # At most 150 values per sample: the range is the pooled min and max, no clipping.
    pooled = np.concatenate([reference, current])
    if pooled.min() < pooled.max():
        assert (hist.edges[0], hist.edges[-1]) == (pooled.min(), pooled.max())
    assert hist.reference_counts.tolist() == np.histogram(reference, hist.edges)[0].tolist()
    assert hist.current_counts.tolist() == np.histogram(current, hist.edges)[0].tolist()


# --- categorical ------------------------------------------------------------------------------

LABELS = ["basic", "pro", "team", "enterprise"]


def test_bars_are_sorted_by_pooled_frequency() -> None:
    reference = np.array([0, 0, 0, 1, 2, 2, np.nan])
    current = np.array([1, 1, 1, 1, 2, np.nan, np.nan])

    bars = categorical_distribution(reference, current, LABELS)

    # pooled: basic 3, pro 5, team 3, enterprise 0 (no bar); ties by label.
    assert bars.labels == ("pro", "basic", "team")
    assert bars.reference_counts.tolist() == [1, 3, 2]
    assert bars.current_counts.tolist() == [4, 0, 1]
    assert (bars.reference_missing, bars.current_missing) == (1, 2)


def test_categories_past_top_merge_into_other(rng: np.random.Generator) -> None:
    labels = [f"c{k:02d}" for k in range(40)]
    weights = np.arange(40, 0, -1) / np.arange(40, 0, -1).sum()
    reference = rng.choice(40, 3_000, p=weights).astype(float)
    current = rng.choice(40, 2_000, p=weights[::-1]).astype(float)

    bars = categorical_distribution(reference, current, labels, top=10)

    pooled = Counter(reference.tolist()) + Counter(current.tolist())
    ranked = sorted(pooled, key=lambda code: (-pooled[code], labels[int(code)]))
    assert bars.labels == (*(labels[int(code)] for code in ranked[:9]), OTHER)
    ref_counter, cur_counter = Counter(reference.tolist()), Counter(current.tolist())
    assert bars.reference_counts.tolist()[:9] == [ref_counter[c] for c in ranked[:9]]
    assert bars.current_counts.tolist()[:9] == [cur_counter[c] for c in ranked[:9]]
    assert bars.reference_counts[-1] == sum(ref_counter[c] for c in ranked[9:])
    assert bars.current_counts[-1] == sum(cur_counter[c] for c in ranked[9:])


def test_exactly_top_categories_need_no_other() -> None:
    bars = categorical_distribution(np.array([0.0, 1.0]), np.array([2.0, 3.0]), LABELS, top=4)

    assert OTHER not in bars.labels
    assert sorted(bars.labels) == sorted(LABELS)


def test_all_missing_gives_no_bars() -> None:
    bars = categorical_distribution(np.full(3, np.nan), np.array([]), LABELS)

    assert bars.labels == ()
    assert bars.reference_counts.tolist() == bars.current_counts.tolist() == []
    assert (bars.reference_missing, bars.current_missing) == (3, 0)


@pytest.mark.parametrize("code", [4.0, -1.0, 1.5, np.inf])
def test_codes_must_index_the_labels(code: float) -> None:
    with pytest.raises(ValueError, match="current codes must be integer indices into the 4"):
        categorical_distribution(np.array([0.0]), np.array([1.0, code]), LABELS)


def test_top_must_leave_room_for_other() -> None:
    with pytest.raises(ValueError, match="top must be an integer of at least 2, got 1"):
        categorical_distribution(np.array([0.0]), np.array([1.0]), LABELS, top=1)


_codes = hnp.arrays(
    np.float64,
    st.integers(0, 80),
    elements=st.one_of(st.integers(0, 11).map(float), st.just(np.nan)),
)


@settings(max_examples=80, deadline=None)
@given(reference=_codes, current=_codes, top=st.integers(2, 14))
def test_bars_cover_every_present_code(
    reference: np.ndarray, current: np.ndarray, top: int
) -> None:
    labels = [f"v{k}" for k in range(12)]

    bars = categorical_distribution(reference, current, labels, top=top)

    assert bars.reference_counts.sum() == (~np.isnan(reference)).sum()
    assert bars.current_counts.sum() == (~np.isnan(current)).sum()
    assert bars.reference_missing == np.isnan(reference).sum()
    assert len(bars.labels) == len(set(bars.labels)) <= top
    named = [i for i, label in enumerate(bars.labels) if label != OTHER]
    pooled = bars.reference_counts[named] + bars.current_counts[named]
    assert (np.diff(pooled) <= 0).all()
    assert (pooled > 0).all()


@pytest.mark.parametrize("value", [np.finfo(np.float64).max, np.finfo(np.float64).min])
def test_one_value_at_the_end_of_the_float_range_gets_a_finite_bin(value: float) -> None:
    hist = numeric_distribution(np.array([value]), np.array([value, value]))
    assert np.isfinite(hist.edges).all()
    assert hist.edges[0] < hist.edges[1]
    assert (hist.reference_counts.sum(), hist.current_counts.sum()) == (1, 2)
