"""The fitted categorical reference and the 2 × c tables of :mod:`detectors.categorical`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from detectors.categorical import (
    CategoryReference,
    chi2,
    contingency,
    fisher,
    g_test,
    prepare,
    unseen,
    z_test,
)
from detectors.categorical._counts import binary_tables, padded
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

NAN = np.nan


def test_prepare_counts_sorted_categories_per_column() -> None:
    reference = np.array([[5.0, NAN], [2.0, 1.0], [5.0, 1.0], [-3.0, NAN]])
    fitted = prepare(reference)
    assert [c.tolist() for c in fitted.categories] == [[-3.0, 2.0, 5.0], [1.0]]
    assert [c.tolist() for c in fitted.counts] == [[1, 1, 2], [2]]
    assert fitted.n.tolist() == [4, 2]
    assert fitted.width == 2
    assert fitted.counts[0].dtype == np.int64
    assert fitted.n.dtype == np.int64


def test_prepare_one_dimensional_input_is_one_column() -> None:
    assert prepare([1.0, 1.0, 0.0]).counts[0].tolist() == [1, 2]


def test_prepared_reference_is_immutable() -> None:
    fitted = prepare([[1.0], [2.0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        fitted.n = np.array([0])  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        fitted.counts[0][0] = 7


def test_all_missing_column_has_no_categories() -> None:
    fitted = prepare([[NAN, 1.0], [NAN, 2.0]])
    assert fitted.categories[0].size == 0
    assert fitted.n.tolist() == [0, 2]


def test_contingency_orders_reference_then_current_only_categories() -> None:
    fitted = prepare([4.0, 1.0, 4.0, 2.0])
    (table,) = contingency(fitted, [9.0, 4.0, 0.0, 9.0, NAN, 2.0])
    # columns: reference 1, 2, 4 (sorted), then current-only 0, 9 (sorted)
    assert table.tolist() == [[1, 1, 2, 0, 0], [0, 1, 1, 1, 2]]
    assert table.dtype == np.int64


def test_contingency_per_column_and_unseen() -> None:
    reference = np.array([[0.0, 7.0], [1.0, 7.0], [1.0, NAN]])
    current = np.array([[3.0, 8.0], [1.0, 9.0], [4.0, NAN], [3.0, 8.0]])
    tables = contingency(prepare(reference), current)
    assert tables[0].tolist() == [[1, 2, 0, 0], [0, 1, 2, 1]]
    assert tables[1].tolist() == [[2, 0, 0], [0, 2, 1]]
    assert unseen(prepare(reference), current).tolist() == [2, 2]
    assert unseen(prepare(reference), reference).tolist() == [0, 0]


def test_contingency_never_has_an_all_zero_category() -> None:
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 6, size=(50, 4)).astype(np.float64)
    current = rng.integers(3, 12, size=(40, 4)).astype(np.float64)
    current[rng.random(current.shape) < 0.3] = NAN
    for table in contingency(prepare(reference), current):
        assert table.any(axis=0).all()


def test_empty_reference_column_puts_all_current_categories_last() -> None:
    (table,) = contingency(prepare([NAN, NAN]), [2.0, 1.0, 2.0])
    assert table.tolist() == [[0, 0], [1, 2]]


def test_padded_stacks_with_zero_columns() -> None:
    stacked = padded([np.array([[1, 2], [3, 4]]), np.array([[5], [6]])])
    assert stacked.shape == (2, 2, 2)
    assert stacked[1].tolist() == [[5, 0], [6, 0]]
    assert padded([np.array([[5], [6]])], min_width=2).shape == (1, 2, 2)


def test_binary_tables_name_the_wide_column() -> None:
    reference = np.array([[0.0, 0.0], [1.0, 1.0]])
    current = np.array([[0.0, 2.0], [1.0, 1.0]])
    with pytest.raises(InvalidInputError, match="column 1 has 3 categories"):
        binary_tables(prepare(reference), current, method="z_test")


@pytest.mark.parametrize("name", ["reference", "current"])
def test_non_integral_code_names_argument_and_column(name: str) -> None:
    good = np.zeros((3, 3))
    bad = good.copy()
    bad[1, 2] = 0.5
    reference, current = (bad, good) if name == "reference" else (good, bad)
    with pytest.raises(InvalidInputError, match=f"{name}: column 2 holds a non-integral"):
        contingency(prepare(reference), current)


def test_infinity_is_refused_with_its_column() -> None:
    with pytest.raises(InvalidInputError, match="current: column 1 holds an infinity"):
        contingency(prepare(np.zeros((2, 2))), [[0.0, np.inf]])


def test_width_mismatch_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="current has 3 column"):
        contingency(prepare(np.zeros((2, 2))), np.zeros((2, 3)))


def test_inconsistent_hand_built_reference_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="one entry per column"):
        CategoryReference((np.zeros(1),), (), np.array([1]))


TESTS = [chi2.test, g_test.test, z_test.test, fisher.test]


@pytest.mark.parametrize("run", TESTS)
def test_every_test_refuses_non_integral_codes(run: Callable[..., ColumnTest]) -> None:
    with pytest.raises(InvalidInputError, match="current: column 1 holds a non-integral"):
        run(np.zeros((3, 2)), [[0.0, 1.25]])


@pytest.mark.parametrize("run", TESTS)
def test_every_test_refuses_infinity(run: Callable[..., ColumnTest]) -> None:
    with pytest.raises(InvalidInputError, match="reference: column 0 holds an infinity"):
        run([[-np.inf, 0.0]], np.zeros((3, 2)))


@pytest.mark.parametrize("run", TESTS)
def test_every_test_refuses_a_width_mismatch(run: Callable[..., ColumnTest]) -> None:
    with pytest.raises(InvalidInputError, match="current has 1 column"):
        run(np.zeros((3, 2)), np.zeros((3, 1)))


def test_dense_and_sparse_counting_agree() -> None:
    rng = np.random.default_rng(5)
    reference = rng.integers(0, 8, size=(200, 3)).astype(np.float64)
    current = rng.integers(2, 12, size=(150, 3)).astype(np.float64)
    current[rng.random(current.shape) < 0.2] = NAN
    dense = contingency(prepare(reference), current)  # small non-negative codes: bincount
    offset = -(10.0**12)  # negative and huge: binary search
    sparse = contingency(prepare(reference + offset), current + offset)
    for left, right in zip(dense, sparse, strict=True):
        np.testing.assert_array_equal(left, right)
