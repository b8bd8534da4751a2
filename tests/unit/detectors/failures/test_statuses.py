"""The outcome vocabulary of :mod:`detectors.failures.statuses`."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.errors import InvalidInputError
from detectors.failures.statuses import (
    FAILURE_KINDS,
    RequestStatus,
    StatusCounts,
    as_status_codes,
    count_statuses,
    failure_mask,
)
from storage.types import RecordStatus


def test_codes_are_the_stores() -> None:
    assert {s.name: s.value for s in RequestStatus} == {s.name: s.value for s in RecordStatus}


@pytest.mark.parametrize("dtype", [np.int16, np.int64, np.uint8])
def test_integer_codes_of_any_width_are_accepted(dtype: type) -> None:
    codes = as_status_codes(np.array([0, 1, 2, 3, 0], dtype=dtype))
    assert codes.dtype == np.int64
    assert codes.tolist() == [0, 1, 2, 3, 0]


def test_names_map_to_codes() -> None:
    names = np.array(["ok", "error", "bad_input", "timeout", "ok"], dtype=object)
    assert as_status_codes(names).tolist() == [0, 1, 2, 3, 0]
    assert as_status_codes([]).tolist() == []


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        ([0, 1, 4], r"expected codes 0=ok, 1=error, 2=bad_input, 3=timeout, got 4 at index 2"),
        ([0, -1], r"got -1 at index 1"),
        (["ok", "failed"], r"got 'failed' at index 1"),
        ([0.0, 1.0], r"got dtype float64"),
        ([True, False], r"got dtype bool"),
        (np.array(["ok", 1], dtype=object), r"mixed types"),
        ([[0, 1]], r"1-D array, got shape \(1, 2\)"),
    ],
)
def test_values_outside_the_vocabulary_are_named(statuses: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        as_status_codes(statuses)  # type: ignore[arg-type]


def test_counts_and_kinds() -> None:
    counts = count_statuses(["ok", "ok", "error", "timeout", "bad_input", "timeout"])
    assert counts == StatusCounts(ok=2, error=1, bad_input=1, timeout=2)
    assert counts.total == 6
    assert [counts.failures(kind) for kind in FAILURE_KINDS] == [4, 1, 2, 1]
    assert count_statuses(counts) is counts
    codes = as_status_codes([0, 1, 2, 3])
    assert failure_mask(codes, "failure").tolist() == [False, True, True, True]
    assert failure_mask(codes, "timeout").tolist() == [False, False, False, True]


def test_bad_counts_and_kinds_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"StatusCounts.error must be an integer >= 0"):
        StatusCounts(ok=1, error=-1)
    with pytest.raises(InvalidInputError, match=r"StatusCounts.ok must be an integer"):
        StatusCounts(ok=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"kind must be one of \['failure', 'error'"):
        StatusCounts().failures("errors")  # type: ignore[arg-type]
