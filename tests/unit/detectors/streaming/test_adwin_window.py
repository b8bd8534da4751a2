"""ADWIN's buckets as a function of the count (``_adwin_window``) against the per-value path."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.streaming import ADWIN
from detectors.streaming._adwin_window import Levels, received


def simulated_counts(n: int, max_buckets: int) -> list[int]:
    """Buckets per row after ``n`` inserts, by the insert-and-merge rule itself."""
    rows = [0]
    for _ in range(n):
        rows[0] += 1
        level = 0
        while rows[level] == max_buckets + 1:
            rows[level] -= 2
            if level + 1 == len(rows):
                rows.append(0)
            rows[level + 1] += 1
            level += 1
    return rows


@pytest.mark.parametrize("max_buckets", [2, 3, 5, 8])
def test_rows_received_follow_the_merge_rule(max_buckets: int) -> None:
    for n in range(0, 700):
        counts = received(np.array([n]), max_buckets)[:, 0]
        held = [int(counts[i] - 2 * counts[i + 1]) for i in range(counts.size - 1)]
        expected = simulated_counts(n, max_buckets)
        assert held[: len(expected)] == expected
        assert not any(held[len(expected) :])


@pytest.mark.parametrize("max_buckets", [2, 5])
@pytest.mark.parametrize("seen", [0, 1, 13, 400])
def test_levels_rebuild_the_buckets_of_the_per_value_path(max_buckets: int, seen: int) -> None:
    rng = np.random.default_rng(seen)
    values = rng.normal(size=seen + 900)
    before = ADWIN(max_buckets=max_buckets, delta=1e-300)  # never cuts
    for value in values[:seen]:
        before.update(float(value))
    levels = Levels.build(before._rows, seen, values[seen:], max_buckets)

    for n in (seen, seen + 1, seen + 7, seen + 513, seen + 900):
        reference = ADWIN(max_buckets=max_buckets, delta=1e-300)
        for value in values[:n]:
            reference.update(float(value))
        assert levels.rows(n, max_buckets) == reference._rows
