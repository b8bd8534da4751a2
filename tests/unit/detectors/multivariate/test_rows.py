"""Order-free seeded sampling (``detectors.multivariate._rows``)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from detectors.multivariate._rows import ordered


def test_sample_depends_on_content_not_on_order(rng: np.random.Generator) -> None:
    rows = rng.normal(size=(200, 3))
    rows[5] = np.nan
    shuffled = rng.permutation(200)

    first = rows[ordered(rows, seed=4, limit=50)]
    again = rows[shuffled][ordered(rows[shuffled], seed=4, limit=50)]

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, rows[ordered(rows, seed=5, limit=50)])


def test_repeated_rows_are_sampled_copy_by_copy() -> None:
    rows = np.repeat([[0.0, 1.0], [1.0, 0.0]], 50, axis=0)

    counts = [int(rows[ordered(rows, seed, 10)][:, 0].sum()) for seed in range(400)]

    # hypergeometric(100, 50, 10): a sample of copies, not all copies of one row
    expected = stats.hypergeom(100, 50, 10).pmf(np.arange(11)) * 400
    observed = np.bincount(counts, minlength=11)
    assert abs(observed[5] - expected[5]) < 30
    assert observed[[0, 10]].sum() <= 3


def test_every_row_is_equally_likely(rng: np.random.Generator) -> None:
    rows = rng.normal(size=(100, 2))

    picks = np.concatenate([ordered(rows, seed, 20) for seed in range(500)])

    counts = np.bincount(picks, minlength=100)
    assert stats.chisquare(counts).pvalue > 0.001
