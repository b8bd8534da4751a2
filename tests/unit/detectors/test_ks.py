"""Two-sample Kolmogorov–Smirnov (``detectors.univariate.ks``): scipy parity, check values,
properties, input errors and power."""

from __future__ import annotations

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.univariate import ks, prepare
from tests.unit.detectors.samples import mixed

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def scipy_ks(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """scipy's result on the non-missing values; its fallback warning is expected here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        result = scipy.stats.ks_2samp(x[~np.isnan(x)], y[~np.isnan(y)], method="auto")
    return float(result.statistic), float(result.pvalue)


@pytest.mark.parametrize(
    ("n", "m", "seed"),
    [(5, 7, 1), (40, 40, 2), (300, 170, 3), (1000, 800, 4), (10_000, 10_000, 5), (12_000, 700, 6)],
)
def test_matches_scipy_column_by_column(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference, current = mixed(rng, n, 0.0), mixed(rng, m, 0.2)

    result = ks.test(reference, current)

    assert result.method == "ks"
    for j in range(reference.shape[1]):
        d, p = scipy_ks(reference[:, j], current[:, j])
        assert result.statistic[j] == pytest.approx(d, rel=0, abs=1e-12)
        assert result.p_value is not None
        assert result.p_value[j] == pytest.approx(p, rel=1e-9, abs=1e-12)
    np.testing.assert_array_equal(result.effect, result.statistic)
    np.testing.assert_array_equal(result.n_reference, (~np.isnan(reference)).sum(axis=0))
    np.testing.assert_array_equal(result.n_current, (~np.isnan(current)).sum(axis=0))


def test_exact_failure_falls_back_to_asymptotic_silently() -> None:
    """n = m = 10 000 and D = 1/n: scipy's exact p overshoots 1, it warns and uses kstwo."""
    reference = np.arange(10_000, dtype=np.float64)
    current = reference.copy()
    current[-1] += 0.5

    result = ks.test(reference, current)  # filterwarnings=error: no warning may escape

    d, p = scipy_ks(reference, current)
    assert result.statistic[0] == pytest.approx(d, abs=1e-15)
    assert result.p_value is not None
    assert result.p_value[0] == pytest.approx(p, rel=1e-9)


@pytest.fixture(scope="module")
def s7() -> dict[str, NDArray[np.float64]]:
    """statistics.md §0, S7: one default_rng(7), drawn in this order."""
    rng = np.random.default_rng(7)
    return {
        "ref": rng.normal(0.0, 1.0, 1000),
        "cur": rng.normal(0.1, 1.1, 800),
        "ri": rng.poisson(3.0, 300).astype(np.float64),
        "ci": rng.poisson(3.3, 250).astype(np.float64),
        "big_r": rng.normal(0.0, 1.0, 1_000_000),
        "big_c": rng.normal(0.005, 1.0, 1_000_000),
    }


@pytest.mark.parametrize(
    ("x", "y", "d", "p"),
    [
        ("ref", "cur", 0.09575, 5.384436499319323e-4),
        ("ri", "ci", 0.058, 0.7251387303344307),
        ("big_r", "big_c", 0.002468, 0.004518714658948605),
    ],
)
def test_check_values(
    s7: dict[str, NDArray[np.float64]], x: str, y: str, d: float, p: float
) -> None:
    result = ks.test(s7[x], s7[y])

    assert result.statistic[0] == pytest.approx(d, rel=0, abs=1e-12)
    assert result.p_value is not None
    assert result.p_value[0] == pytest.approx(p, rel=1e-9)


def test_all_missing_column_gives_nan_not_an_error() -> None:
    reference = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]])
    current = np.array([[1.5, 1.0], [2.5, 2.0]])

    result = ks.test(reference, current)

    assert result.p_value is not None
    assert np.isfinite(result.statistic[0])
    assert np.isnan([result.statistic[1], result.p_value[1], result.effect[1]]).all()
    assert result.n_reference.tolist() == [3, 0]
    assert result.n_current.tolist() == [2, 2]


def test_prepared_reference_is_immutable_and_reusable() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50, 3))
    fitted = prepare(reference)

    assert fitted.width == 3
    assert fitted.counts.tolist() == [50, 50, 50]
    with pytest.raises(ValueError, match="read-only"):
        fitted.columns[0][0] = 1.0
    first = ks.test(fitted, rng.normal(size=(20, 3)))
    assert first.statistic.shape == (3,)


def test_inputs_are_not_modified() -> None:
    """Sorting works on copies, also for Fortran-ordered float64 inputs (no copy on entry)."""
    rng = np.random.default_rng(1)
    reference = np.asfortranarray(rng.normal(size=(30, 3)))
    current = np.asfortranarray(rng.normal(size=(20, 3)))
    before = reference.copy(), current.copy()

    ks.test(reference, current)
    prepare(reference)

    np.testing.assert_array_equal(reference, before[0])
    np.testing.assert_array_equal(current, before[1])


@pytest.mark.parametrize(
    ("reference", "current", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 3)), "current has 3 column.*reference has 2"),
        (prepare(np.zeros((5, 2))), np.zeros((5, 3)), "current has 3 column.*reference has 2"),
        ([[1.0], [np.inf]], [[1.0]], "reference: column 0 holds an infinity"),
        ([[1.0]], [[1.0, -np.inf]], "current: column 1 holds an infinity"),
        ([["a"], ["b"]], [[1.0]], "reference: expected numbers"),
        ([[1.0]], np.empty((0, 1)), "current: found array with 0 row"),
        (np.empty((0, 2)), np.zeros((3, 2)), "reference: found array with 0 row"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2)), "expected a 1-D or 2-D array"),
    ],
)
def test_invalid_input_is_refused(reference: object, current: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        ks.test(reference, current)  # type: ignore[arg-type]


def test_detects_a_one_sd_shift() -> None:
    rng = np.random.default_rng(20261124)
    result = ks.test(rng.normal(size=(500, 2)), rng.normal(1.0, size=(500, 2)))

    assert result.p_value is not None
    assert (result.p_value < 1e-6).all()


def test_does_not_flag_the_same_distribution() -> None:
    rng = np.random.default_rng(20261124)
    result = ks.test(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))

    assert result.p_value is not None
    assert (result.p_value > 0.01).all()


values = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    st.just(np.nan),
)


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    """A reference and a current sample of the same width, with ties likely."""
    width = draw(st.integers(1, 4))
    n, m = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    reference = draw(hnp.arrays(np.float64, (n, width), elements=values))
    current = draw(hnp.arrays(np.float64, (m, width), elements=values))
    return reference, current


@settings(deadline=None, max_examples=50)
@given(pairs())
def test_p_values_are_probabilities(pair: Pair) -> None:
    result = ks.test(*pair)

    assert result.p_value is not None
    empty = (result.n_reference == 0) | (result.n_current == 0)
    np.testing.assert_array_equal(np.isnan(result.p_value), empty)
    np.testing.assert_array_equal(np.isnan(result.statistic), empty)
    assert ((result.p_value[~empty] >= 0) & (result.p_value[~empty] <= 1)).all()
    assert ((result.statistic[~empty] >= 0) & (result.statistic[~empty] <= 1)).all()


@settings(deadline=None, max_examples=50)
@given(pairs())
def test_identical_samples_give_zero_and_one(pair: Pair) -> None:
    reference, _ = pair
    result = ks.test(reference, reference[::-1])

    assert result.p_value is not None
    tested = result.n_reference > 0
    assert (result.statistic[tested] == 0).all()
    assert (result.p_value[tested] == 1).all()


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_column_permutation_permutes_results(pair: Pair, seed: int) -> None:
    reference, current = pair
    order = np.random.default_rng(seed).permutation(reference.shape[1])

    whole, permuted = ks.test(reference, current), ks.test(reference[:, order], current[:, order])

    assert whole.p_value is not None
    assert permuted.p_value is not None
    np.testing.assert_array_equal(permuted.statistic, whole.statistic[order])
    np.testing.assert_array_equal(permuted.p_value, whole.p_value[order])


@settings(deadline=None, max_examples=50)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_row_order_and_preparation_do_not_matter(pair: Pair, seed: int) -> None:
    reference, current = pair
    rng = np.random.default_rng(seed)
    shuffled = ks.test(rng.permutation(reference, axis=0), rng.permutation(current, axis=0))
    fitted = ks.test(prepare(reference), current)
    whole = ks.test(reference, current)

    for other in (shuffled, fitted):
        assert other.p_value is not None
        assert whole.p_value is not None
        np.testing.assert_array_equal(other.statistic, whole.statistic)
        np.testing.assert_array_equal(other.p_value, whole.p_value)
