"""detectors.quality: findings are counted, never raised."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.errors import InvalidInputError
from detectors.quality import assess, unseen_share


def test_missing_infinite_and_constant_columns_are_reported() -> None:
    reference = np.array([[1.0, 7.0, np.nan], [2.0, 7.0, np.nan], [np.nan, 7.0, np.nan]])
    current = np.array([[np.inf, 7.0, 1.0], [-np.inf, 8.0, np.nan]])

    quality = assess(reference, current)

    assert quality.missing_reference.tolist() == [1 / 3, 0.0, 1.0]
    assert quality.missing_current.tolist() == [0.0, 0.0, 0.5]
    assert quality.infinite_reference.tolist() == [0, 0, 0]
    assert quality.infinite_current.tolist() == [2, 0, 0]
    # A column with no finite value counts as constant; so does one with a single value.
    assert quality.constant_reference.tolist() == [False, True, True]
    assert quality.constant_current.tolist() == [True, False, True]


def test_empty_current_has_no_missing_share() -> None:
    quality = assess(np.ones((3, 2)), np.empty((0, 2)))

    assert quality.missing_current.tolist() == [0.0, 0.0]
    assert quality.constant_current.tolist() == [True, True]


def test_unseen_categories_share_per_column() -> None:
    reference = np.array([[1.0, 10.0], [2.0, 11.0], [2.0, np.nan]])
    current = np.array([[1.0, 12.0], [3.0, 12.0], [4.0, 10.0], [np.nan, np.nan]])

    assert unseen_share(reference, current).tolist() == [2 / 3, 2 / 3]


def test_unseen_share_is_zero_when_current_is_empty() -> None:
    assert unseen_share(np.array([[1.0]]), np.empty((0, 1))).tolist() == [0.0]


@pytest.mark.parametrize("function", [assess, unseen_share])
def test_mismatched_widths_are_refused(function: object) -> None:
    with pytest.raises(InvalidInputError, match="current has 1 column"):
        function(np.ones((2, 2)), np.ones((2, 1)))  # type: ignore[operator]


def test_malformed_input_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="reference: expected numbers"):
        assess([["a", "b"]], [[1.0, 2.0]])
