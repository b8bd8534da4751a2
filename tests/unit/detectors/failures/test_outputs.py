"""Bogus outputs (:mod:`detectors.failures.outputs`): non-finite, out of range, stuck."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.failures import check_non_finite, check_out_of_range, check_stuck_outputs
from detectors.outcome import Status
from tests.unit.detectors.failures.support import assert_drawable

NAN, INF = math.nan, math.inf


def test_non_finite_shares() -> None:
    outputs = np.array([0.1, NAN, 0.3, INF, -INF] + [0.5] * 995)
    result = check_non_finite(outputs)
    assert result.status is Status.ALARM
    assert result.score == 0.003
    assert (result.details["nan"], result.details["infinite"]) == (1, 2)
    assert_drawable(result, "failures.non_finite_outputs")
    assert check_non_finite(outputs, max_share=0.01).status is Status.WARNING
    assert check_non_finite(np.zeros(10)).status is Status.OK
    assert check_non_finite([]).status is Status.INSUFFICIENT_DATA


def test_failed_requests_are_not_counted_when_statuses_are_given() -> None:
    outputs = [0.2, NAN, NAN, 0.4]
    result = check_non_finite(outputs, statuses=["ok", "error", "timeout", "ok"])
    assert result.status is Status.OK
    assert result.details["outputs"] == 2
    with pytest.raises(InvalidInputError, match="statuses has 3 entries but outputs has 4"):
        check_non_finite(outputs, statuses=[0, 1, 3])


def test_out_of_range_shares() -> None:
    outputs = np.array([-0.5, 0.0, 1.0, 1.5, NAN, 0.5, 2.0])
    result = check_out_of_range(outputs, low=0.0, high=1.0)
    assert result.status is Status.ALARM
    assert result.score == pytest.approx(3 / 6)  # NaN is left to check_non_finite
    assert (result.details["below"], result.details["above"]) == (1, 2)
    assert (result.details["min"], result.details["max"]) == (-0.5, 2.0)
    assert_drawable(result, "failures.out_of_range_outputs")
    assert check_out_of_range(outputs, low=-1.0, high=INF).status is Status.OK
    assert check_out_of_range(outputs, low=-INF, high=1.9, max_share=0.5).status is (Status.WARNING)
    assert check_out_of_range([NAN], low=0.0, high=1.0).status is Status.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": 1.0, "high": 1.0}, r"low must be below high, got low=1.0, high=1.0"),
        ({"low": NAN, "high": 1.0}, r"low must be a number"),
        ({"low": 0.0, "high": 1.0, "max_share": 0.0}, r"max_share must be"),
        ({"low": 0.0, "high": 1.0, "min_count": 0}, r"min_count must be an integer >= 1"),
    ],
)
def test_range_parameters_are_checked(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_out_of_range([0.5], **kwargs)  # type: ignore[arg-type]


def naive_longest_run(outputs: list[float], fingerprints: list[int]) -> int:
    """The definition, one record at a time: collapse repeated inputs, count equal outputs."""
    longest = run = 0
    previous_output: float | None = None
    previous_input: int | None = None
    for output, fingerprint in zip(outputs, fingerprints, strict=True):
        if fingerprint == previous_input:
            continue
        run = run + 1 if output == previous_output else 1
        longest = max(longest, run)
        previous_output, previous_input = output, fingerprint
    return longest


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.1, 0.2, NAN]), st.integers(0, 3)), min_size=1, max_size=60
    )
)
def test_stuck_run_equals_the_definition(rows: list[tuple[float, int]]) -> None:
    outputs, fingerprints = (list(column) for column in zip(*rows, strict=True))
    result = check_stuck_outputs(outputs, np.array(fingerprints, dtype=np.uint64), max_run=1000)
    assert result.score == naive_longest_run(outputs, fingerprints)
    first, last = result.details["first_row"], result.details["last_row"]
    assert isinstance(first, int)
    assert isinstance(last, int)
    assert 0 <= first <= last < len(rows)


def scores(rng: np.random.Generator, n: int) -> tuple[NDArray[np.float64], NDArray[np.uint64]]:
    """Continuous model scores and distinct input hashes."""
    hashes = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    return rng.random(n), hashes


def test_a_stuck_model_is_found_where_it_got_stuck(rng: np.random.Generator) -> None:
    outputs, hashes = scores(rng, 10_000)
    outputs[5_000:5_150] = 0.4242
    statuses = np.zeros(10_000, dtype=np.int16)
    statuses[5_050] = 1  # a failed request inside the run does not break it
    outputs[5_050] = NAN
    result = check_stuck_outputs(outputs, hashes, statuses=statuses)
    assert result.status is Status.ALARM
    assert result.score == 149.0
    assert (result.details["first_row"], result.details["last_row"]) == (5_000, 5_149)
    assert result.details["value"] == 0.4242
    assert_drawable(result, "failures.stuck_outputs")


def test_repeated_inputs_are_no_evidence(rng: np.random.Generator) -> None:
    outputs, hashes = scores(rng, 1_000)
    outputs[100:400] = 0.7
    hashes[100:400] = hashes[100]  # a client retrying the same request 300 times
    assert check_stuck_outputs(outputs, hashes).status is Status.OK


def test_no_change_raises_no_alarm(rng: np.random.Generator) -> None:
    """100 windows of 1 000 scores at 3 decimals: repeats happen, runs of 25 do not."""
    results = []
    for _ in range(100):
        outputs, hashes = scores(rng, 1_000)
        results.append(check_stuck_outputs(np.round(outputs, 3), hashes))
    assert sum(r.status is not Status.OK for r in results) == 0
    assert max(r.score for r in results) <= 3


def test_stuck_parameters_and_inputs_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="warning_run must be <= max_run, got 30 > 20"):
        check_stuck_outputs([0.1], [1], max_run=20, warning_run=30)
    with pytest.raises(InvalidInputError, match="fingerprints: expected a 1-D array of integer"):
        check_stuck_outputs([0.1], [1.5])
    with pytest.raises(InvalidInputError, match="fingerprints has 2 entries but outputs has 1"):
        check_stuck_outputs([0.1], [1, 2])
    empty = check_stuck_outputs([NAN], [1], statuses=["error"])
    assert empty.status is Status.INSUFFICIENT_DATA
    assert_drawable(empty)
