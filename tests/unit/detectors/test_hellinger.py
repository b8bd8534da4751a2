"""Tests of detectors.distances.hellinger: the pinned S7 value, bounds, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from detectors.distances import EMPTY_BINS, hellinger
from tests.unit.detectors.samples import s7

POOLED_10_BINS_HELLINGER = 0.12569636378164029


def test_pooled_equal_width_bins_reproduce_pinned_s7_value() -> None:
    reference, current = s7()
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), 10)
    p = np.histogram(reference, edges)[0] / reference.size
    q = np.histogram(current, edges)[0] / current.size
    value = hellinger.from_shares(p, q)[0]
    assert value == pytest.approx(POOLED_10_BINS_HELLINGER, rel=1e-12, abs=0)
    assert value == pytest.approx(np.sqrt(1 - np.sum(np.sqrt(p * q))), rel=1e-12)


def test_result_fields() -> None:
    reference, current = s7()
    result = hellinger.test(reference, current)
    assert result.method == "hellinger"
    assert result.p_value is None
    assert result.effect is result.statistic
    assert 0 < result.statistic[0] < 0.2


def test_disjoint_supports_give_one() -> None:
    assert hellinger.from_shares([[0.5, 0.5, 0.0]], [[0.0, 0.0, 1.0]]).tolist() == [1.0]


samples = st.integers(1, 3).flatmap(
    lambda k: st.tuples(
        arrays(
            np.float64, st.tuples(st.integers(2, 40), st.just(k)), elements=st.floats(-1e6, 1e6)
        ),
        arrays(
            np.float64, st.tuples(st.integers(1, 40), st.just(k)), elements=st.floats(-1e6, 1e6)
        ),
    )
)


@settings(deadline=None, max_examples=50)
@given(pair=samples, rule=st.sampled_from(EMPTY_BINS))
def test_identical_samples_give_zero(
    pair: tuple[NDArray[np.float64], NDArray[np.float64]], rule: str
) -> None:
    result = hellinger.test(pair[0], pair[0], empty_bins=rule)  # type: ignore[arg-type]
    assert result.statistic.tolist() == [0.0] * pair[0].shape[1]


@settings(deadline=None, max_examples=50)
@given(pair=samples, rule=st.sampled_from(EMPTY_BINS), seed=st.integers(0, 2**32 - 1))
def test_bounded_and_equivariant(
    pair: tuple[NDArray[np.float64], NDArray[np.float64]], rule: str, seed: int
) -> None:
    reference, current = pair
    result = hellinger.test(reference, current, empty_bins=rule)  # type: ignore[arg-type]
    assert np.all((result.statistic >= 0) & (result.statistic <= 1))
    rng = np.random.default_rng(seed)
    columns = rng.permutation(reference.shape[1])
    permuted = hellinger.test(reference[:, columns], current[:, columns], empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(permuted.statistic, result.statistic[columns])
    shuffled = hellinger.test(
        rng.permutation(reference),
        rng.permutation(current),
        empty_bins=rule,  # type: ignore[arg-type]
    )
    np.testing.assert_array_equal(shuffled.statistic, result.statistic)
    prepared = hellinger.test(hellinger.prepare(reference), current, empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(prepared.statistic, result.statistic)
