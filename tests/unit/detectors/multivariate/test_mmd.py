"""MMD (``detectors.multivariate.mmd``): a slow reference implementation, the S7 check values
of statistics.md §4.1, the vectorised permutations, calibration, properties, input errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.multivariate import mmd
from detectors.multivariate._rows import ordered


def slow_mmd2(x: NDArray[np.float64], y: NDArray[np.float64], sigma: float) -> float:
    """The definition, pair by pair."""

    def k(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
        return float(np.exp(-np.sum((a - b) ** 2) / (2 * sigma**2)))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(n), 2))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2))
    xy = sum(k(a, b) for a in x for b in y)
    return xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)


def slow_sigma(x: NDArray[np.float64]) -> float:
    squared = [np.sum((a - b) ** 2) for a, b in itertools.combinations(x, 2)]
    return float(np.sqrt(np.median(squared) / 2))


def s7_xy() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``X`` and ``Y`` of statistics.md §0 S7: every earlier draw of default_rng(7) first."""
    rng = np.random.default_rng(7)
    rng.normal(0, 1, 1000), rng.normal(0.1, 1.1, 800)
    rng.poisson(3.0, 300), rng.poisson(3.3, 250)
    rng.normal(0, 1, 10**6), rng.normal(0.005, 1, 10**6)
    x, y = rng.normal(size=(200, 5)), rng.normal(size=(150, 5))
    y[:, 0] += 0.5
    return x, y


def test_statistic_and_sigma_equal_the_slow_definition(rng: np.random.Generator) -> None:
    x, y = rng.normal(size=(25, 3)), rng.normal(0.4, 1.0, size=(18, 3))

    fitted = mmd.prepare(x)
    result = mmd.test(fitted, y, n_permutations=10)

    assert fitted.sigma == pytest.approx(slow_sigma(x), rel=1e-12)
    # the kernel rows are in sampled order; MMD² does not depend on the order
    assert result.statistic == pytest.approx(slow_mmd2(x, y, fitted.sigma), rel=1e-10)


def test_s7_check_values() -> None:
    x, y = s7_xy()

    result = mmd.test(x, y, n_permutations=1000)

    assert mmd.prepare(x).sigma == pytest.approx(2.117703659120128, rel=1e-13)
    assert result.statistic == pytest.approx(0.00940914951246652, rel=1e-10)
    assert result.p_value < 0.01  # 0.002997 with the document's permutations
    assert result.drift


def test_permutation_p_value_equals_the_slow_count(rng: np.random.Generator) -> None:
    x, y = rng.normal(size=(12, 2)), rng.normal(0.3, 1.0, size=(10, 2))
    seed, b = 5, 70

    result = mmd.test(x, y, n_permutations=b, seed=seed)

    pooled = np.vstack([x[ordered(x, seed, 1000)], y[ordered(y, seed, 1000)]])
    sigma = slow_sigma(x)
    observed = slow_mmd2(pooled[:12], pooled[12:], sigma)
    draws = np.random.default_rng(seed)
    columns = np.hstack([mmd._indicators(draws, 22, 12, min(64, b - s)) for s in (0, 64)])
    permuted = [slow_mmd2(pooled[c == 1], pooled[c == 0], sigma) for c in columns.T.astype(int)]
    exceed = sum(value >= observed - 1e-12 for value in permuted)
    assert result.p_value == (1 + exceed) / (1 + b)


def test_p_value_is_calibrated_under_the_null() -> None:
    rejections = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        result = mmd.test(rng.normal(size=(30, 3)), rng.normal(size=(25, 3)),
                          n_permutations=99, seed=seed)  # fmt: skip
        assert 0 < result.p_value <= 1
        rejections += result.p_value <= 0.05
    assert rejections <= 10


def test_embeddings_shift_is_found(rng: np.random.Generator) -> None:
    reference = rng.normal(size=(300, 64))
    direction = rng.normal(size=64)
    current = rng.normal(size=(200, 64)) + 1.0 * direction / np.linalg.norm(direction)

    result = mmd.test(reference, current, n_permutations=100)

    assert result.drift
    assert result.p_value == 1 / 101


def test_identical_samples_are_no_drift(rng: np.random.Generator) -> None:
    rows = rng.normal(size=(60, 4))

    result = mmd.test(rows, rows.copy(), n_permutations=100)

    assert not result.drift
    assert result.statistic < 0  # unbiased: below zero when the samples agree exactly


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_the_result(rng: np.random.Generator, seed: int) -> None:
    reference, current = rng.normal(size=(40, 3)), rng.normal(size=(50, 3))
    shuffle = np.random.default_rng(seed)

    first = mmd.test(reference, current, n_permutations=50, max_rows=30)
    again = mmd.test(
        shuffle.permutation(reference), shuffle.permutation(current), n_permutations=50,
        max_rows=30,
    )  # fmt: skip

    assert again.p_value == first.p_value
    assert again.statistic == pytest.approx(first.statistic, rel=1e-12)


def test_row_cap_and_constant_reference() -> None:
    rng = np.random.default_rng(1)

    capped = mmd.test(rng.normal(size=(500, 2)), rng.normal(size=(400, 2)), max_rows=100,
                      n_permutations=10)  # fmt: skip

    assert (capped.n_reference, capped.n_current) == (100, 100)
    assert mmd.bandwidth(np.ones((5, 2))) == 1.0
    assert mmd.bandwidth(np.ones((5, 2)), np.zeros((3, 2))) == pytest.approx(np.sqrt(1.0))


def test_bad_inputs_are_named() -> None:
    rows = np.zeros((10, 2))
    missing = rows.copy()
    missing[2, 1] = np.nan

    with pytest.raises(InvalidInputError, match="current: column 1 has missing values"):
        mmd.test(rows, missing)
    with pytest.raises(InvalidInputError, match="n_permutations must be an integer >= 1"):
        mmd.test(rows, rows, n_permutations=0)
    with pytest.raises(InvalidInputError, match="current has 3 column"):
        mmd.test(rows, np.zeros((10, 3)))
