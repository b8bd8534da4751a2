"""Tests of detectors.distances.kl: scipy parity, the pinned S7 value, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from scipy.stats import entropy

from detectors.distances import EMPTY_BINS, kl
from detectors.distances._shares import shares
from tests.unit.detectors.samples import s7

EVIDENTLY_KL = 0.05233248834797637


def evidently_fill(share: NDArray[np.float64]) -> NDArray[np.float64]:
    """Evidently 0.7's empty-bin rule, written out independently of detectors."""
    smallest = min(s for s in share if s > 0)
    epsilon = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return np.array([epsilon if s == 0 else s for s in share])


def test_evidently_convention_reproduces_pinned_s7_value() -> None:
    reference, current = s7()
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), "sturges")
    p = evidently_fill(np.histogram(reference, edges)[0] / reference.size)
    q = evidently_fill(np.histogram(current, edges)[0] / current.size)
    assert kl.from_shares(p, q)[0] == pytest.approx(EVIDENTLY_KL, rel=1e-12, abs=0)


@pytest.mark.parametrize("rule", EMPTY_BINS)
def test_matches_scipy_entropy_per_column(rule: str) -> None:
    rng = np.random.default_rng(6)
    reference = np.column_stack(
        [rng.normal(size=400), rng.poisson(1.0, 400), rng.uniform(size=400)]
    )
    current = np.column_stack(
        [rng.normal(0.3, 1, 300), rng.poisson(1.5, 300), rng.uniform(size=300)]
    )
    binned = kl.prepare(reference)
    result = kl.test(binned, current, empty_bins=rule)  # type: ignore[arg-type]
    p = shares(binned.counts, rule)  # type: ignore[arg-type]
    current_counts = [
        np.bincount((current[:, j, None] >= edges).sum(axis=1), minlength=len(edges) + 1)
        for j, edges in enumerate(binned.edges)
    ]
    q = shares(tuple(current_counts), rule)  # type: ignore[arg-type]
    for j, bins in enumerate(binned.n_bins):
        expected = entropy(p[j, :bins], q[j, :bins])
        assert result.statistic[j] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert result.method == "kl"
    assert result.p_value is None


def test_kl_is_reference_first_and_infinite_on_an_empty_current_bin() -> None:
    p, q = [[0.5, 0.5]], [[0.9, 0.1]]
    assert kl.from_shares(p, q)[0] == pytest.approx(entropy([0.5, 0.5], [0.9, 0.1]), rel=1e-14)
    assert kl.from_shares(p, q)[0] != pytest.approx(kl.from_shares(q, p)[0])
    assert kl.from_shares([[0.5, 0.5]], [[1.0, 0.0]]).tolist() == [np.inf]
    assert kl.from_shares([[1.0, 0.0]], [[0.5, 0.5]])[0] == pytest.approx(np.log(2), rel=1e-15)


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
    result = kl.test(pair[0], pair[0], empty_bins=rule)  # type: ignore[arg-type]
    assert result.statistic.tolist() == [0.0] * pair[0].shape[1]


@settings(deadline=None, max_examples=50)
@given(pair=samples, rule=st.sampled_from(EMPTY_BINS), seed=st.integers(0, 2**32 - 1))
def test_nonnegative_and_equivariant(
    pair: tuple[NDArray[np.float64], NDArray[np.float64]], rule: str, seed: int
) -> None:
    reference, current = pair
    result = kl.test(reference, current, empty_bins=rule)  # type: ignore[arg-type]
    assert np.all(result.statistic >= 0)
    rng = np.random.default_rng(seed)
    columns = rng.permutation(reference.shape[1])
    permuted = kl.test(reference[:, columns], current[:, columns], empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(permuted.statistic, result.statistic[columns])
    shuffled = kl.test(rng.permutation(reference), rng.permutation(current), empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(shuffled.statistic, result.statistic)
    prepared = kl.test(kl.prepare(reference), current, empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(prepared.statistic, result.statistic)
