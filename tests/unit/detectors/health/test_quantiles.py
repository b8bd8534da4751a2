"""Quantiles and order-statistic intervals of :mod:`detectors.health.quantiles`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from detectors.errors import InvalidInputError
from detectors.health.quantiles import latencies, minimum_count, quantile_intervals

QUANTILES = (0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 37, 72, 368, 1_000, 25_013])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_estimates_equal_numpy_and_intervals_equal_scipy(
    rng: np.random.Generator, n: int, confidence: float
) -> None:
    sample = rng.lognormal(-4.0, 0.6, n)
    sample[: n // 10] = np.round(sample[: n // 10], 3)  # some ties
    kept = sample.copy()
    for estimate in quantile_intervals(sample, QUANTILES, confidence):
        q = estimate.quantile
        assert estimate.estimate == np.quantile(sample, q)
        ci = scipy.stats.quantile_test(sample, q=0.0, p=q).confidence_interval(confidence)
        np.testing.assert_equal([estimate.low, estimate.high], [ci.low, ci.high])
        assert estimate.n == n
    np.testing.assert_array_equal(sample, kept)  # the input is not reordered


def test_minimum_count_is_the_smallest_sample_with_both_bounds() -> None:
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        for confidence in (0.9, 0.95, 0.99):
            n = minimum_count(q, confidence)
            sample = np.arange(n, dtype=np.float64)
            (enough,) = quantile_intervals(sample, [q], confidence)
            (fewer,) = quantile_intervals(sample[:-1], [q], confidence)
            assert not math.isnan(enough.low)
            assert not math.isnan(enough.high)
            assert math.isnan(fewer.low) or math.isnan(fewer.high)
    assert [minimum_count(q) for q in (0.5, 0.95, 0.99)] == [6, 72, 368]


def test_an_empty_sample_has_no_quantiles() -> None:
    (estimate,) = quantile_intervals(np.array([]), [0.5])
    assert math.isnan(estimate.estimate)
    assert math.isnan(estimate.low)


def test_latencies_drop_and_count_missing_values_and_refuse_impossible_ones() -> None:
    sample, missing = latencies([0.1, math.nan, 0.2])
    assert sample.tolist() == [0.1, 0.2]
    assert missing == 1
    sample, missing = latencies([math.nan, math.nan])
    assert sample.size == 0
    assert missing == 2
    with pytest.raises(InvalidInputError, match=r"expected a 1-D array, got shape \(1, 1\)"):
        latencies([[0.1]])
    with pytest.raises(InvalidInputError, match=r"expected values >= 0, got -0.1 at 1"):
        latencies([0.1, -0.1])
    with pytest.raises(InvalidInputError, match=r"expected finite values, got inf at 0"):
        latencies([math.inf])
    with pytest.raises(InvalidInputError, match=r"quantile must be a finite number in \(0, 1\)"):
        quantile_intervals(np.ones(3), [1.0])
