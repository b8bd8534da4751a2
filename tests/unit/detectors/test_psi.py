"""Tests of detectors.distances.psi and the shared share matrices / empty-bin rules.

Pinned values: statistics.md §2.3 (S7 data) and its null critical values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from detectors import InvalidInputError
from detectors.distances import EMPTY_BINS, psi
from detectors.distances._shares import shares
from tests.unit.detectors.samples import s7

EVIDENTLY_PSI = 0.14639265339378216
DECILES_PSI = 0.0812259204333353


def evidently_fill(share: NDArray[np.float64]) -> NDArray[np.float64]:
    """Evidently 0.7's empty-bin rule, written out independently of detectors."""
    smallest = min(s for s in share if s > 0)
    epsilon = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return np.array([epsilon if s == 0 else s for s in share])


def evidently_shares(
    reference: NDArray[np.float64], current: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Evidently's PSI shares: Sturges edges on pooled data, each side ε-filled."""
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), "sturges")
    p = np.histogram(reference, edges)[0] / reference.size
    q = np.histogram(current, edges)[0] / current.size
    return evidently_fill(p), evidently_fill(q)


def test_evidently_convention_reproduces_pinned_s7_value() -> None:
    p, q = evidently_shares(*s7())
    assert p.size == 12
    assert psi.from_shares(p, q)[0] == pytest.approx(EVIDENTLY_PSI, rel=1e-12, abs=0)


def test_reference_deciles_with_clip_reproduce_pinned_s7_value() -> None:
    reference, current = s7()
    result = psi.test(reference, current, empty_bins="clip")
    assert result.method == "psi"
    assert result.statistic[0] == pytest.approx(DECILES_PSI, rel=1e-12, abs=0)
    assert result.effect is result.statistic
    assert result.p_value is None
    assert result.n_reference.tolist() == [1000]
    assert result.n_current.tolist() == [800]


def test_psi_is_the_symmetric_kl_sum() -> None:
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    q = np.array([[0.25, 0.25, 0.5], [0.3, 0.3, 0.4]])
    expected = ((q - p) * np.log(q / p)).sum(axis=1)
    np.testing.assert_allclose(psi.from_shares(p, q), expected, rtol=1e-14)


def test_empty_bin_on_one_side_is_infinite_without_a_rule() -> None:
    reference = np.arange(100.0)
    current = np.full(10, 50.0)
    assert psi.test(reference, current, empty_bins="none").statistic[0] == np.inf
    for rule in ("evidently", "clip", "laplace"):
        assert np.isfinite(psi.test(reference, current, empty_bins=rule).statistic[0])


def test_evidently_rule_fills_with_1e_4_or_a_millionth_of_the_smallest_share() -> None:
    filled = shares((np.array([0, 5, 5]), np.array([0, 1, 99_999])), "evidently")
    np.testing.assert_array_equal(filled[0], [1e-4, 0.5, 0.5])
    np.testing.assert_allclose(filled[1], [1e-11, 1e-5, 0.99999], rtol=1e-15)


def test_laplace_and_clip_rules() -> None:
    counts = (np.array([0, 2, 8]), np.array([10, 0]))
    laplace = shares(counts, "laplace")
    np.testing.assert_allclose(laplace[0], np.array([0.5, 2.5, 8.5]) / 11.5, rtol=1e-15)
    np.testing.assert_allclose(laplace[1], [10.5 / 11.0, 0.5 / 11.0, 0.0], rtol=1e-15)
    clip = shares(counts, "clip")
    np.testing.assert_array_equal(clip[0], [1e-4, 0.2, 0.8])
    np.testing.assert_array_equal(clip[1], [1.0, 1e-4, 0.0])


def test_padding_is_never_filled() -> None:
    for rule in EMPTY_BINS:
        matrix = shares((np.array([1, 1, 1, 1]), np.array([3, 1])), rule)  # type: ignore[arg-type]
        assert matrix.shape == (2, 4)
        assert matrix[1, 2:].tolist() == [0.0, 0.0]


def test_current_column_without_values_gives_nan() -> None:
    reference = np.random.default_rng(0).normal(size=(100, 2))
    current = np.column_stack([np.full(5, np.nan), np.zeros(5)])
    result = psi.test(reference, current)
    assert np.isnan(result.statistic[0])
    assert np.isfinite(result.statistic[1])
    assert result.n_current.tolist() == [0, 5]


def test_critical_value_pins_and_broadcasts() -> None:
    values = psi.critical_value([100, 1000, 100_000], [100, 1000, 100_000], 10)
    np.testing.assert_allclose(
        values,
        [0.33837955209240894, 0.0338379552092409, 0.00033837955209240893],
        rtol=1e-12,
    )
    assert psi.critical_value(1000, 1000, [5, 10]).shape == (2,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "'alpha' parameter must be in"),
        ({"alpha": 1.0}, "'alpha' parameter must be in"),
        ({"n_reference": 0}, "at least 1"),
        ({"bins": 1}, "bins must be at least 2"),
    ],
)
def test_critical_value_refuses_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    arguments: dict[str, object] = {"n_reference": 10, "n_current": 10, "bins": 10}
    with pytest.raises(InvalidInputError, match=match):
        psi.critical_value(**(arguments | kwargs))  # type: ignore[arg-type]


def test_null_rejection_rate_at_the_critical_value_is_near_alpha() -> None:
    rng = np.random.default_rng(20240605)
    reference, current = rng.normal(size=(1000, 200)), rng.normal(size=(1000, 200))
    result = psi.test(reference, current)
    critical = psi.critical_value(
        result.n_reference, result.n_current, psi.prepare(reference).n_bins
    )
    assert 0.01 <= np.mean(result.statistic > critical) <= 0.10


def test_prepared_reference_must_not_be_contradicted() -> None:
    reference = np.arange(50.0)
    binned = psi.prepare(reference, bins=5, strategy="uniform")
    same = psi.test(binned, reference, bins=5, strategy="uniform")
    assert same.statistic.tolist() == [0.0]
    with pytest.raises(InvalidInputError, match="bins=10 contradicts"):
        psi.test(binned, reference, bins=10)
    with pytest.raises(InvalidInputError, match="strategy='quantile' contradicts"):
        psi.test(binned, reference, strategy="quantile")


def test_invalid_inputs_are_refused() -> None:
    reference = np.ones((10, 2))
    with pytest.raises(InvalidInputError, match="current has 3 column"):
        psi.test(reference, np.ones((10, 3)))
    with pytest.raises(InvalidInputError, match="current has 3 column"):
        psi.test(psi.prepare(reference), np.ones((10, 3)))
    with pytest.raises(InvalidInputError, match="current: column 1 holds an infinity"):
        psi.test(reference, [[1.0, np.inf]])
    with pytest.raises(InvalidInputError, match="'bins' parameter"):
        psi.test(reference, reference, bins=1)
    with pytest.raises(InvalidInputError, match="'quantile', 'uniform'"):
        psi.test(reference, reference, strategy="bogus")  # type: ignore[arg-type]
    with pytest.raises(
        InvalidInputError, match=r"'evidently', 'clip', 'laplace', 'none'\. Got 'zero'"
    ):
        psi.test(reference, reference, empty_bins="zero")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="one shape"):
        psi.from_shares([[0.5, 0.5]], [[1.0]])
    with pytest.raises(InvalidInputError, match="non-negative"):
        psi.from_shares([0.5, 0.5], [1.5, -0.5])


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
rules = st.sampled_from(EMPTY_BINS)
strategies = st.sampled_from(["quantile", "uniform"])


@settings(deadline=None, max_examples=50)
@given(pair=samples, rule=rules, strategy=strategies)
def test_identical_samples_give_zero(
    pair: tuple[NDArray[np.float64], NDArray[np.float64]], rule: str, strategy: str
) -> None:
    result = psi.test(pair[0], pair[0], empty_bins=rule, strategy=strategy)  # type: ignore[arg-type]
    assert result.statistic.tolist() == [0.0] * pair[0].shape[1]


@settings(deadline=None, max_examples=50)
@given(pair=samples, rule=rules, seed=st.integers(0, 2**32 - 1))
def test_nonnegative_and_equivariant(
    pair: tuple[NDArray[np.float64], NDArray[np.float64]], rule: str, seed: int
) -> None:
    reference, current = pair
    result = psi.test(reference, current, empty_bins=rule)  # type: ignore[arg-type]
    assert np.all(result.statistic >= 0)
    rng = np.random.default_rng(seed)
    columns = rng.permutation(reference.shape[1])
    permuted = psi.test(reference[:, columns], current[:, columns], empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(permuted.statistic, result.statistic[columns])
    shuffled = psi.test(rng.permutation(reference), rng.permutation(current), empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(shuffled.statistic, result.statistic)
    prepared = psi.test(psi.prepare(reference), current, empty_bins=rule)  # type: ignore[arg-type]
    np.testing.assert_array_equal(prepared.statistic, result.statistic)
