"""Tests of detectors.distances.js: scipy parity, the pinned S7 value, bounds, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.spatial.distance import jensenshannon

from detectors import InvalidInputError
from detectors.distances import EMPTY_BINS, js
from detectors.distances._shares import shares
from tests.unit.detectors.samples import s7

EVIDENTLY_JS = 0.12325961502937836


def test_evidently_convention_reproduces_pinned_s7_value() -> None:
    reference, current = s7()
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), "sturges")
    p = np.histogram(reference, edges)[0] / reference.size
    q = np.histogram(current, edges)[0] / current.size
    assert js.from_shares(p, q)[0] == pytest.approx(EVIDENTLY_JS, rel=1e-12, abs=0)
    assert js.from_shares(p, q, base=2)[0] == pytest.approx(
        EVIDENTLY_JS / math.sqrt(math.log(2)), rel=1e-12, abs=0
    )


@pytest.mark.parametrize("base", [None, 2.0, 10.0])
@pytest.mark.parametrize("rule", EMPTY_BINS)
def test_matches_scipy_per_column(base: float | None, rule: str) -> None:
    rng = np.random.default_rng(5)
    reference = np.column_stack(
        [rng.normal(size=400), rng.poisson(1.0, 400), rng.uniform(size=400)]
    )
    current = np.column_stack(
        [rng.normal(0.3, 1, 300), rng.poisson(1.5, 300), rng.uniform(size=300)]
    )
    binned = js.prepare(reference)
    assert len(set(binned.n_bins.tolist())) > 1  # padding is exercised
    result = js.test(binned, current, empty_bins=rule, base=base)  # type: ignore[arg-type]
    p = shares(binned.counts, rule)  # type: ignore[arg-type]
    current_counts = [
        np.bincount((current[:, j, None] >= edges).sum(axis=1), minlength=len(edges) + 1)
        for j, edges in enumerate(binned.edges)
    ]
    q = shares(tuple(current_counts), rule)  # type: ignore[arg-type]
    for j, bins in enumerate(binned.n_bins):
        expected = jensenshannon(p[j, :bins], q[j, :bins], base=base)
        assert result.statistic[j] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert result.method == "jensen_shannon"
    assert result.p_value is None


def test_disjoint_supports_reach_the_bound() -> None:
    p, q = [[1.0, 0.0]], [[0.0, 1.0]]
    assert js.from_shares(p, q)[0] == pytest.approx(math.sqrt(math.log(2)), rel=1e-15)
    assert js.from_shares(p, q, base=2)[0] == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("base", [0, -2.0, 1, 1.0, True, "2"])
def test_bad_base_is_refused(base: object) -> None:
    with pytest.raises(InvalidInputError, match="'base' parameter"):
        js.test(np.arange(10.0), np.arange(10.0), base=base)  # type: ignore[arg-type]


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
    result = js.test(pair[0], pair[0], empty_bins=rule)  # type: ignore[arg-type]
    assert result.statistic.tolist() == [0.0] * pair[0].shape[1]


@settings(deadline=None, max_examples=50)
@given(pair=samples, rule=st.sampled_from(EMPTY_BINS), seed=st.integers(0, 2**32 - 1))
def test_bounded_and_equivariant(
    pair: tuple[NDArray[np.float64], NDArray[np.float64]], rule: str, seed: int
) -> None:
    reference, current = pair
    result = js.test(reference, current, empty_bins=rule)  # type: ignore[arg-type]
    assert np.all(result.statistic >= 0)
    assert np.all(result.statistic <= math.sqrt(math.log(2)) + 1e-12)
    base2 = js.test(reference, current, empty_bins=rule, base=2)  # type: ignore[arg-type]
    assert np.all(base2.statistic <= 1.0 + 1e-12)
    rng = np.random.default_rng(seed)
    columns = rng.permutation(reference.shape[1])
    permuted = js.test(reference[:, columns], current[:, columns], empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(permuted.statistic, result.statistic[columns])
    shuffled = js.test(rng.permutation(reference), rng.permutation(current), empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(shuffled.statistic, result.statistic)
    prepared = js.test(js.prepare(reference), current, empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(prepared.statistic, result.statistic)
