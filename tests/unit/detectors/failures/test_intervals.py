"""Wilson and Newcombe intervals of :mod:`detectors.failures.intervals`."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.errors import InvalidInputError
from detectors.failures.intervals import newcombe_interval, wilson_interval

#: Newcombe (1998), Table II, method 10 ("hybrid score"), to the four decimals printed.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


def scipy_wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    ci = scipy.stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.99, 0.999999])
def test_wilson_equals_scipy(confidence: float) -> None:
    pairs = [(k, n) for n in (1, 2, 3, 7, 30, 101, 1000, 123_457) for k in {0, 1, n // 3, n - 1, n}]
    k, n = np.array(pairs).T
    low, high = wilson_interval(k, n, confidence)
    expected = np.array([scipy_wilson(int(a), int(b), confidence) for a, b in pairs])
    np.testing.assert_allclose(low, expected[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, expected[:, 1], rtol=0, atol=1e-12)


def test_wilson_is_exact_at_the_edges_and_uninformative_without_data() -> None:
    low, high = wilson_interval([0, 5, 0], [5, 5, 0])
    assert low.tolist()[0] == 0.0
    assert high.tolist()[1] == 1.0
    assert (low[2], high[2]) == (0.0, 1.0)


def test_wilson_broadcasts() -> None:
    low, high = wilson_interval(np.array([[1], [2]]), np.array([10, 20, 40]))
    assert low.shape == high.shape == (2, 3)
    assert np.ndim(wilson_interval(1, 10)[0]) == 0


@pytest.mark.parametrize(
    ("k", "n", "confidence", "message"),
    [
        (3, 2, 0.95, r"successes must lie in \[0, n\], got successes=3 with n=2"),
        (-1, 2, 0.95, r"successes must lie"),
        (1.5, 2, 0.95, r"successes: expected whole counts"),
        ("1", 2, 0.95, r"successes: expected whole counts"),
        (1, 2, 1.0, r"confidence must be a finite number in \(0, 1\), got 1.0"),
        (1, 2, float("nan"), r"confidence must be"),
    ],
)
def test_wilson_refuses_bad_input(k: object, n: int, confidence: float, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        wilson_interval(k, n, confidence)  # type: ignore[arg-type]


@settings(deadline=None, max_examples=200)
@given(
    n=st.integers(1, 10**7),
    share=st.floats(0.0, 1.0),
    confidence=st.floats(0.5, 0.9999),
)
def test_wilson_properties(n: int, share: float, confidence: float) -> None:
    k = round(share * n)
    low, high = (float(b) for b in wilson_interval(k, n, confidence))
    assert 0.0 <= low <= k / n <= high <= 1.0
    # Four times the data at the same rate: strictly narrower.
    low4, high4 = (float(b) for b in wilson_interval(4 * k, 4 * n, confidence))
    assert high4 - low4 < high - low
    # A higher confidence: no narrower.
    low99, high99 = (float(b) for b in wilson_interval(k, n, min(confidence + 0.0001, 0.99999)))
    assert low99 <= low + 1e-15
    assert high99 >= high - 1e-15


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_TABLE_II)
def test_newcombe_reproduces_the_papers_table(
    counts: tuple[int, int, int, int], expected: tuple[float, float]
) -> None:
    low, high = newcombe_interval(*counts)
    assert (round(float(low), 4), round(float(high), 4)) == expected


def test_newcombe_is_built_from_scipys_wilson_intervals() -> None:
    k1, n1, k2, n2 = 37, 900, 12, 1100
    l1, u1 = scipy_wilson(k1, n1, 0.9)
    l2, u2 = scipy_wilson(k2, n2, 0.9)
    p1, p2 = k1 / n1, k2 / n2
    low, high = newcombe_interval(k1, n1, k2, n2, confidence=0.9)
    assert float(low) == pytest.approx(p1 - p2 - np.hypot(p1 - l1, u2 - p2), abs=1e-12)
    assert float(high) == pytest.approx(p1 - p2 + np.hypot(u1 - p1, p2 - l2), abs=1e-12)


def test_newcombe_needs_both_sides() -> None:
    with pytest.raises(InvalidInputError, match="must be positive"):
        newcombe_interval(0, 0, 1, 10)
