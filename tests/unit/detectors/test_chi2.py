"""Pearson χ² tests of :mod:`detectors.categorical.chi2`: check values, scipy parity,
properties, and the calibration gap between homogeneity and Evidently's goodness of fit."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from detectors.categorical import chi2
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

NAN = np.nan
CODES = st.sampled_from([0.0, 1.0, 2.0, 5.0, -3.0, NAN])


def from_counts(
    counts: list[int], rng: np.random.Generator, codes: list[float] | None = None
) -> NDArray[np.float64]:
    """Shuffled codes with the given counts (codes 0, 1, … unless given)."""
    labels = np.arange(len(counts), dtype=np.float64) if codes is None else np.array(codes)
    values = np.repeat(labels, counts)
    rng.shuffle(values)
    return values


def mixed_columns(rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Columns with different category sets, one-sided categories, NaN and a lone category."""
    n, m = 400, 300
    reference_sets = [[0, 1, 2, 3, 4], [10, 20, 30], [0, 1], [5], [-7, 3, 10**6], [2], [0, 1]]
    current_sets = [[0, 1, 2, 3, 4], [20, 30, 40], [0, 1], [5, 6], [-7, 3, 10**6], [2], [1, 9]]
    reference = np.column_stack([rng.choice(s, n, p=rng.dirichlet(np.ones(len(s))))
                                 for s in reference_sets]).astype(np.float64)  # fmt: skip
    current = np.column_stack([rng.choice(s, m, p=rng.dirichlet(np.ones(len(s))))
                               for s in current_sets]).astype(np.float64)  # fmt: skip
    reference[rng.random(reference.shape) < 0.1] = NAN
    current[rng.random(current.shape) < 0.1] = NAN
    return reference, current


def table_of(reference: NDArray[np.float64], current: NDArray[np.float64]) -> NDArray[np.int64]:
    """The 2 × c table of one column, built independently of the code under test."""
    reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
    categories = np.union1d(reference, current)
    return np.array([[np.count_nonzero(sample == c) for c in categories]
                     for sample in (reference, current)])  # fmt: skip


def assert_same(left: ColumnTest, right: ColumnTest, rtol: float = 0.0, atol: float = 0.0) -> None:
    assert left.method == right.method
    assert left.p_value is not None
    assert right.p_value is not None
    for a, b in [(left.statistic, right.statistic), (left.p_value, right.p_value),
                 (left.effect, right.effect)]:  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_array_equal(left.n_reference, right.n_reference)
    np.testing.assert_array_equal(left.n_current, right.n_current)


@st.composite
def samples(draw: st.DrawFn) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    width = draw(st.integers(1, 4))
    reference = draw(arrays(np.float64, (draw(st.integers(1, 40)), width), elements=CODES))
    current = draw(arrays(np.float64, (draw(st.integers(1, 40)), width), elements=CODES))
    return reference, current


Kind = Literal["homogeneity", "goodness_of_fit"]
BOTH_KINDS: tuple[Kind, ...] = ("homogeneity", "goodness_of_fit")
KINDS: st.SearchStrategy[tuple[Kind, bool]] = st.sampled_from(
    [("homogeneity", False), ("homogeneity", True), ("goodness_of_fit", False)]
)


# --- check values (statistics.md §3, data set CAT) -------------------------------------------


def test_homogeneity_check_values(rng: np.random.Generator) -> None:
    result = chi2.test(
        from_counts([400, 300, 200, 100], rng), from_counts([330, 260, 150, 60], rng)
    )
    assert result.method == "chi2"
    assert result.p_value is not None
    assert result.statistic[0] == pytest.approx(4.546232876712327, rel=1e-12)
    assert result.p_value[0] == pytest.approx(0.20820330716612057, rel=1e-12)
    assert result.effect[0] == pytest.approx(np.sqrt(4.546232876712327 / 1800), rel=1e-12)
    assert (result.n_reference[0], result.n_current[0]) == (1000, 800)


def test_goodness_of_fit_check_values(rng: np.random.Generator) -> None:
    reference = from_counts([400, 300, 200, 100], rng)
    result = chi2.test(reference, from_counts([330, 260, 150, 60], rng), kind="goodness_of_fit")
    assert result.method == "chi2_gof"
    assert result.p_value is not None
    assert result.statistic[0] == pytest.approx(7.604166666666667, rel=1e-12)
    assert result.p_value[0] == pytest.approx(0.05494151425618913, rel=1e-12)
    assert result.effect[0] == pytest.approx(np.sqrt(7.604166666666667 / (800 * 3)), rel=1e-12)


def test_yates_correction_check_values(rng: np.random.Generator) -> None:
    reference, current = from_counts([700, 300], rng), from_counts([520, 280], rng)
    corrected = chi2.test(reference, current, correction=True).p_value
    plain = chi2.test(reference, current).p_value
    assert corrected is not None
    assert plain is not None
    assert corrected[0] == pytest.approx(0.02746638425759847, rel=1e-12)
    assert plain[0] == pytest.approx(0.024097238903178286, rel=1e-12)


def test_current_only_category_makes_goodness_of_fit_infinite() -> None:
    result = chi2.test([0.0, 1.0, 1.0], [0.0, 1.0, 2.0], kind="goodness_of_fit")
    assert result.p_value is not None
    assert result.statistic[0] == np.inf
    assert result.p_value[0] == 0.0


# --- scipy parity, column by column ----------------------------------------------------------


@pytest.mark.parametrize("correction", [False, True])
def test_homogeneity_matches_chi2_contingency(rng: np.random.Generator, correction: bool) -> None:
    reference, current = mixed_columns(rng)
    result = chi2.test(reference, current, correction=correction)
    assert result.p_value is not None
    for column in range(reference.shape[1]):
        table = table_of(reference[:, column], current[:, column])
        expected = scipy.stats.chi2_contingency(table, correction=correction)
        assert result.statistic[column] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
        assert result.p_value[column] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)
        assert result.n_reference[column] == table[0].sum()
        assert result.n_current[column] == table[1].sum()


def test_goodness_of_fit_matches_chisquare(rng: np.random.Generator) -> None:
    reference, current = mixed_columns(rng)
    result = chi2.test(reference, current, kind="goodness_of_fit")
    assert result.p_value is not None
    for column in range(reference.shape[1]):
        table = table_of(reference[:, column], current[:, column])
        if (table[0] == 0).any():  # scipy warns and returns inf: pinned above
            assert (result.statistic[column], result.p_value[column]) == (np.inf, 0.0)
            continue
        if table.shape[1] < 2:  # scipy has dof 0 here; Driftline says 0 and 1
            assert (result.statistic[column], result.p_value[column]) == (0.0, 1.0)
            continue
        n, m = table.sum(axis=1)
        expected = scipy.stats.chisquare(table[1], table[0] / n * m)
        assert result.statistic[column] == pytest.approx(expected.statistic, rel=1e-9)
        assert result.p_value[column] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_lone_category_and_empty_sample_conventions() -> None:
    reference = np.array([[1.0, NAN, 3.0], [1.0, NAN, 3.0]])
    current = np.array([[1.0, 0.0, NAN], [1.0, 1.0, NAN]])
    for kind in BOTH_KINDS:
        result = chi2.test(reference, current, kind=kind)
        assert result.p_value is not None
        assert (result.statistic[0], result.p_value[0], result.effect[0]) == (0.0, 1.0, 0.0)
        assert np.isnan([result.statistic[1:], result.p_value[1:], result.effect[1:]]).all()
        assert result.n_reference.tolist() == [2, 0, 2]
        assert result.n_current.tolist() == [2, 2, 0]


# --- properties ------------------------------------------------------------------------------


@settings(deadline=None, max_examples=50)
@given(data=samples(), options=KINDS)
def test_p_value_is_a_probability(
    data: tuple[NDArray[np.float64], NDArray[np.float64]], options: tuple[Kind, bool]
) -> None:
    reference, current = data
    kind, correction = options
    result = chi2.test(reference, current, kind=kind, correction=correction)
    assert result.p_value is not None
    empty = (result.n_reference == 0) | (result.n_current == 0)
    assert np.isnan(result.p_value[empty]).all()
    assert ((result.p_value[~empty] >= 0) & (result.p_value[~empty] <= 1)).all()
    assert (result.statistic[~empty] >= 0).all()


@settings(deadline=None, max_examples=50)
@given(data=samples(), correction=st.booleans())
def test_identical_samples_give_zero_and_one(
    data: tuple[NDArray[np.float64], NDArray[np.float64]], correction: bool
) -> None:
    reference, _ = data
    for kind in BOTH_KINDS:
        result = chi2.test(
            reference, reference, kind=kind, correction=correction and kind == "homogeneity"
        )
        assert result.p_value is not None
        full = result.n_reference > 0
        assert (result.statistic[full] == 0).all()
        assert (result.p_value[full] == 1).all()


@settings(deadline=None, max_examples=50)
@given(data=samples(), options=KINDS, seed=st.integers(0, 2**32 - 1))
def test_column_and_row_permutations(
    data: tuple[NDArray[np.float64], NDArray[np.float64]], options: tuple[Kind, bool], seed: int
) -> None:
    reference, current = data
    kind, correction = options
    rng = np.random.default_rng(seed)
    order = rng.permutation(reference.shape[1])
    result = chi2.test(reference, current, kind=kind, correction=correction)
    permuted = chi2.test(reference[:, order], current[:, order], kind=kind, correction=correction)
    assert permuted.p_value is not None
    assert result.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, result.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, result.p_value[order])
    shuffled = chi2.test(rng.permutation(reference), rng.permutation(current), kind=kind,
                         correction=correction)  # fmt: skip
    assert_same(shuffled, result)


@settings(deadline=None, max_examples=50)
@given(data=samples(), options=KINDS)
def test_prepared_reference_gives_the_same_result(
    data: tuple[NDArray[np.float64], NDArray[np.float64]], options: tuple[Kind, bool]
) -> None:
    reference, current = data
    kind, correction = options
    raw = chi2.test(reference, current, kind=kind, correction=correction)
    fitted = chi2.test(chi2.prepare(reference), current, kind=kind, correction=correction)
    assert_same(fitted, raw)


@settings(deadline=None, max_examples=50)
@given(data=samples(), options=KINDS, labels=st.permutations([0.0, 1.0, 2.0, 5.0, -3.0]))
def test_relabelling_codes_changes_nothing(
    data: tuple[NDArray[np.float64], NDArray[np.float64]],
    options: tuple[Kind, bool],
    labels: list[float],
) -> None:
    reference, current = data
    kind, correction = options
    mapping = dict(zip([0.0, 1.0, 2.0, 5.0, -3.0], [10.0 * label for label in labels], strict=True))

    def relabel(codes: NDArray[np.float64]) -> NDArray[np.float64]:
        relabelled = [mapping.get(code, NAN) for code in codes.ravel().tolist()]
        return np.array(relabelled, dtype=np.float64).reshape(codes.shape)

    result = chi2.test(reference, current, kind=kind, correction=correction)
    relabelled = chi2.test(relabel(reference), relabel(current), kind=kind, correction=correction)
    assert_same(relabelled, result, rtol=1e-12, atol=1e-12)


# --- calibration (statistics.md §6) ----------------------------------------------------------


def null_codes(
    rng: np.random.Generator, shares: NDArray[np.float64], rows: int
) -> NDArray[np.float64]:
    """``rows`` draws per column, column j from the categorical law ``shares[j]``."""
    bounds = np.cumsum(shares, axis=1)[:, :-1]
    uniform = rng.random((rows, len(shares)))
    draws = (uniform[:, :, np.newaxis] >= bounds[np.newaxis]).sum(axis=2)
    return np.asarray(draws, dtype=np.float64)


def test_homogeneity_is_calibrated_and_goodness_of_fit_is_not() -> None:
    rng = np.random.default_rng(20261124)
    shares = rng.dirichlet(np.full(10, 3.0), size=400)  # 400 replicates as 400 columns
    reference, current = null_codes(rng, shares, 1000), null_codes(rng, shares, 1000)
    homogeneity = chi2.test(reference, current).p_value
    goodness_of_fit = chi2.test(reference, current, kind="goodness_of_fit").p_value
    assert homogeneity is not None
    assert goodness_of_fit is not None
    assert 0.02 <= np.mean(homogeneity < 0.05) <= 0.09
    assert np.mean(goodness_of_fit < 0.05) > 0.3


# --- errors ----------------------------------------------------------------------------------


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="kind: expected one of"):
        chi2.test([0.0], [0.0], kind="fit")  # type: ignore[arg-type]


def test_correction_with_goodness_of_fit_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="applies to kind='homogeneity' only"):
        chi2.test([0.0], [0.0], kind="goodness_of_fit", correction=True)


def test_non_bool_correction_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="correction: expected a bool"):
        chi2.test([0.0], [0.0], correction="yes")  # type: ignore[arg-type]
