"""``SampleRows`` draws what ``random.Random(seed).sample`` draws, and knows its state."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.streaming._draws import uses_pool
from detectors.streaming._sampling import SampleRows, seeded_state

# (population, k): the pool branch (vectorised, and in Python for k > 254) and the set branch.
SIZES = [(70, 30), (10, 10), (1, 1), (5, 0), (40, 20), (256, 100), (300, 255), (1000, 3),
         (500, 30), (2000, 200)]  # fmt: skip


def python_rows(seed: int, population: int, k: int, rows: int) -> list[list[int]]:
    generator = random.Random(seed)
    return [generator.sample(range(population), k) for _ in range(rows)]


def test_the_sizes_cover_both_branches_and_both_pool_paths() -> None:
    pooled = [uses_pool(n, k) for n, k in SIZES]
    assert any(pooled)
    assert not all(pooled)
    assert any(uses_pool(n, k) and k > 254 for n, k in SIZES)


@pytest.mark.parametrize(("population", "k"), SIZES)
@pytest.mark.parametrize("seed", [0, 1, 2**40 + 3])
def test_rows_and_states_are_pythons(population: int, k: int, seed: int) -> None:
    expected = python_rows(seed, population, k, 300)
    rows = SampleRows(population, k, seeded_state(seed), max_rows=64)

    found = np.concatenate([rows.get(i, 7) for i in range(0, 294, 7)] + [rows.get(294, 6)])

    assert found.tolist() == expected
    python = random.Random(seed)
    for _ in range(300):
        python.sample(range(population), k)
    internal = python.getstate()[1]
    assert rows.state_after(300) == (list(internal[:624]), internal[624])


@pytest.mark.parametrize(("population", "k"), [(70, 30), (500, 30)])
def test_rows_continue_from_a_saved_state(population: int, k: int) -> None:
    expected = python_rows(5, population, k, 60)
    first = SampleRows(population, k, seeded_state(5))
    first.get(0, 25)

    resumed = SampleRows(population, k, first.state_after(25), first=25)

    assert resumed.get(25, 35).tolist() == expected[25:]
    with pytest.raises(ValueError, match="row 3 precedes the first kept row 25"):
        resumed.get(3, 1)


def test_old_rows_are_dropped_past_max_rows() -> None:
    rows = SampleRows(70, 30, seeded_state(1), max_rows=100)
    rows.get(0, 150)

    later = rows.get(160, 5)

    assert rows.first == 160
    assert later.tolist() == python_rows(1, 70, 30, 165)[160:]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**64),
    population=st.integers(1, 120),
    data=st.data(),
)
def test_any_seed_and_size(seed: int, population: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, population))
    rows = SampleRows(population, k, seeded_state(seed))

    assert rows.get(0, 20).tolist() == python_rows(seed, population, k, 20)
