"""The contract every streaming detector keeps (river's shape plus resumable state).

``update_many`` gives exactly the flags of repeated ``update``; a state saved as JSON at any
point resumes to the same detections; parameters, inputs and states are checked with errors
that say what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.errors import InvalidInputError
from detectors.outcome import Span, Status
from detectors.streaming import (
    ADWIN,
    DDM,
    EDDM,
    KSWIN,
    InvalidStateError,
    PageHinkley,
    StreamingDetector,
)
from tests.unit.detectors.streaming.streams import Stream, many, one_by_one

# Sensitive settings, so that the streams below detect often and resets are exercised.
SENSITIVE: dict[str, Callable[[], StreamingDetector]] = {
    "DDM": lambda: DDM(warm_start=10, warning_threshold=1.0, drift_threshold=1.5),
    "EDDM": lambda: EDDM(warm_start=5),
    "ADWIN": lambda: ADWIN(delta=0.05, clock=4),
    "PageHinkley": lambda: PageHinkley(min_instances=5, threshold=5.0),
    "KSWIN": lambda: KSWIN(alpha=0.05, window_size=20, stat_size=5, seed=3),
}
NAMES = list(SENSITIVE)


def values_for(name: str, seed: int = 0, size: int = 3000) -> Stream:
    """Changing levels every 150 values: error rates for the binary detectors, else means."""
    rng = np.random.default_rng(seed)
    levels = size // 150 + 1
    if SENSITIVE[name]().binary:
        rates = rng.choice([0.05, 0.3, 0.6], levels)
        return np.concatenate([rng.binomial(1, r, 150) for r in rates])[:size].astype(float)
    means = rng.choice([0.0, 1.0, 3.0], levels)
    return np.concatenate([rng.normal(m, 1.0, 150) for m in means])[:size]


def saved(detector: StreamingDetector) -> dict[str, Any]:
    """``to_state`` through strict JSON, as the store keeps it."""
    result: dict[str, Any] = json.loads(json.dumps(detector.to_state(), allow_nan=False))
    return result


# --- update_many is update ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_update_many_gives_the_flags_of_update(name: str) -> None:
    values = values_for(name)
    stepwise, vectorised = SENSITIVE[name](), SENSITIVE[name]()

    expected = one_by_one(stepwise, values)

    assert len(expected) >= 5  # the comparison covers resets
    assert many(vectorised, values) == expected
    assert vectorised.to_state() == stepwise.to_state()


@pytest.mark.parametrize("name", NAMES)
def test_update_many_in_pieces_gives_the_same_flags_and_state(name: str) -> None:
    values = values_for(name, seed=1)
    whole = SENSITIVE[name]()
    expected = whole.update_many(values)
    pieces = SENSITIVE[name]()
    cuts = [0, 1, 2, 37, 150, 151, 999, 1000, 2500, values.size]

    found = np.concatenate([pieces.update_many(values[a:b]) for a, b in pairwise(cuts)])

    np.testing.assert_array_equal(found, expected)
    assert pieces.to_state() == whole.to_state()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_update_many_is_update_on_arbitrary_streams(name: str, data: st.DataObject) -> None:
    """Hypothesis: values with ties and jumps, cut anywhere, one by one or in pieces."""
    binary = SENSITIVE[name]().binary
    element = st.sampled_from([0.0, 1.0]) if binary else st.sampled_from([-2.0, 0.0, 0.5, 3.0])
    values = np.array(data.draw(st.lists(element, min_size=0, max_size=400)))
    cuts = sorted(data.draw(st.lists(st.integers(0, values.size), max_size=4)))

    stepwise = SENSITIVE[name]()
    expected = one_by_one(stepwise, values)
    detector = SENSITIVE[name]()
    bounds = [0, *cuts, values.size]
    found = [
        a + int(i)
        for a, b in pairwise(bounds)
        for i in np.flatnonzero(detector.update_many(values[a:b]))
    ]

    assert found == expected
    assert detector.to_state() == stepwise.to_state()


@pytest.mark.parametrize("name", ["ADWIN", "PageHinkley", "KSWIN"])
def test_update_many_is_update_when_sums_overflow(name: str) -> None:
    """Finite values whose sums overflow: both paths follow IEEE arithmetic (inf, NaN)."""
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1e307, 400), rng.normal(1e308, 1e307, 400)])
    values = np.concatenate([values, rng.normal(0, 1, 400)])

    assert many(SENSITIVE[name](), values) == one_by_one(SENSITIVE[name](), values)


# --- state ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_state_resumes_to_the_same_detections(name: str) -> None:
    values = values_for(name, seed=2)
    expected = many(SENSITIVE[name](), values)
    after_a_detection = expected[2] + 1

    uninterrupted = SENSITIVE[name]()
    uninterrupted.update_many(values)

    for cut in (0, 1, 17, 600, expected[2], after_a_detection, values.size - 1):
        first = SENSITIVE[name]()
        head = many(first, values[:cut])
        resumed = type(first).from_state(saved(first))
        tail = [cut + i for i in many(resumed, values[cut:])]
        assert head + tail == expected, cut
        assert resumed.to_state() == uninterrupted.to_state(), cut


@pytest.mark.parametrize("name", NAMES)
def test_state_is_strict_json_and_complete(name: str) -> None:
    fresh = SENSITIVE[name]()
    state = saved(fresh)  # raises on NaN or infinity

    assert state["detector"] == type(fresh).__name__
    assert state["version"] == type(fresh).state_version
    assert state["params"] == fresh.params()
    assert type(fresh).from_state(state).to_state() == fresh.to_state()


@pytest.mark.parametrize("name", NAMES)
def test_state_right_after_a_detection_resets_on_the_next_update(name: str) -> None:
    values = values_for(name, seed=3)
    expected = many(SENSITIVE[name](), values)
    first = SENSITIVE[name]()
    first.update_many(values[: expected[0] + 1])
    assert first.drift_detected

    resumed = type(first).from_state(saved(first))

    assert resumed.drift_detected
    assert [expected[0] + 1 + i for i in many(resumed, values[expected[0] + 1 :])] == expected[1:]


@pytest.mark.parametrize("name", NAMES)
def test_reset_forgets_everything_but_the_parameters(name: str) -> None:
    detector = SENSITIVE[name]()
    detector.update_many(values_for(name)[:500])

    detector.reset()

    assert detector.to_state() == SENSITIVE[name]().to_state()


# --- parameters, repr -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detector", "text"),
    [
        (DDM(), "DDM(warm_start=30, warning_threshold=2.0, drift_threshold=3.0)"),
        (EDDM(), "EDDM(warm_start=30, alpha=0.95, beta=0.9)"),
        (
            ADWIN(),
            "ADWIN(delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10)",
        ),
        (
            PageHinkley(),
            "PageHinkley(min_instances=30, delta=0.005, threshold=50.0, alpha=0.9999, mode='both')",
        ),
        (KSWIN(), "KSWIN(alpha=0.005, window_size=100, stat_size=30, seed=0)"),
    ],
)
def test_repr_shows_the_parameters(detector: StreamingDetector, text: str) -> None:
    assert repr(detector) == text


@pytest.mark.parametrize("cls", [DDM, EDDM, ADWIN, PageHinkley, KSWIN])
def test_parameters_are_keyword_only(cls: type[StreamingDetector]) -> None:
    with pytest.raises(TypeError):
        cls(30)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DDM(warm_start=-1), "DDM: warm_start must be an integer >= 0, got -1"),
        (lambda: DDM(warm_start=2.5), "warm_start must be an integer"),  # type: ignore[arg-type]
        (lambda: DDM(warning_threshold=0.0), r"warning_threshold must be a number > 0.0, got 0.0"),
        (lambda: DDM(drift_threshold=1.0), r"drift_threshold must be a number >= 2.0, got 1.0"),
        (lambda: DDM(drift_threshold=float("nan")), "drift_threshold"),
        (lambda: EDDM(alpha=1.5), r"EDDM: alpha must be a number in \(0.0, 1.0\], got 1.5"),
        (lambda: EDDM(beta=0.99), r"beta must be a number in \(0.0, 0.95\], got 0.99"),
        (lambda: ADWIN(delta=0.0), r"ADWIN: delta must be a number in \(0.0, 1.0\), got 0.0"),
        (lambda: ADWIN(clock=0), "clock must be an integer >= 1, got 0"),
        (lambda: ADWIN(max_buckets=1), "max_buckets must be an integer >= 2, got 1"),
        (lambda: ADWIN(min_window_length=0), "min_window_length must be an integer >= 1"),
        (lambda: ADWIN(grace_period=-3), "grace_period must be an integer >= 0, got -3"),
        (lambda: ADWIN(clock=True), "clock must be an integer"),
        (lambda: PageHinkley(mode="sideways"), "mode must be one of 'up', 'down', 'both'"),  # type: ignore[arg-type]
        (lambda: PageHinkley(threshold=-1.0), "threshold must be a number > 0.0, got -1.0"),
        (lambda: PageHinkley(alpha=0.0), r"alpha must be a number in \(0.0, 1.0\], got 0.0"),
        (lambda: PageHinkley(delta=-0.1), "delta must be a number >= 0.0, got -0.1"),
        (lambda: PageHinkley(min_instances=0), "min_instances must be an integer >= 1, got 0"),
        (lambda: KSWIN(alpha=1.0), r"KSWIN: alpha must be a number in \(0.0, 1.0\), got 1.0"),
        (lambda: KSWIN(stat_size=60), r"stat_size must be an integer in \[1, 50\], got 60"),
        (lambda: KSWIN(window_size=1), r"window_size must be an integer in \[2, "),
        (lambda: KSWIN(seed=-1), "seed must be an integer >= 0, got -1"),
        (lambda: KSWIN(seed=None), "seed must be an integer >= 0, got None"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_refused_by_name_range_and_value(
    make: Callable[[], StreamingDetector], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match) as caught:
        make()
    assert isinstance(caught.value, ValueError)


# --- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ADWIN", "PageHinkley", "KSWIN"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "a", None])
def test_real_detectors_refuse_non_finite_values(name: str, bad: Any) -> None:
    detector = SENSITIVE[name]()
    with pytest.raises(InvalidInputError, match=rf"{name}.update: expected a"):
        detector.update(bad)
    with pytest.raises(InvalidInputError, match=rf"{name}.update_many: expected"):
        detector.update_many([0.0, 1.0, bad, 2.0])
    assert detector.to_state() == SENSITIVE[name]().to_state()  # nothing was consumed


@pytest.mark.parametrize("name", ["DDM", "EDDM"])
@pytest.mark.parametrize("bad", [0.5, 2, -1, float("nan")])
def test_binary_detectors_refuse_values_other_than_0_and_1(name: str, bad: Any) -> None:
    detector = SENSITIVE[name]()
    with pytest.raises(InvalidInputError, match=r"expected 0 \(correct\) or 1 \(error\)"):
        detector.update(bad)
    with pytest.raises(InvalidInputError, match="at index 2"):
        detector.update_many([0, 1, bad])


def test_binary_detectors_take_bools_and_integers() -> None:
    assert many(DDM(), np.array([True, False] * 10, dtype=float)) == []
    assert DDM().update(True) is False
    assert DDM().update_many(np.array([1, 0, 1], dtype=np.int8)).tolist() == [False] * 3


@pytest.mark.parametrize("name", NAMES)
def test_update_many_wants_one_dimension(name: str) -> None:
    with pytest.raises(InvalidInputError, match=r"expected a 1-D array, got shape \(2, 2\)"):
        SENSITIVE[name]().update_many([[0.0, 1.0], [1.0, 0.0]])


# --- invalid states -------------------------------------------------------------------------


def test_a_state_from_another_detector_or_version_is_refused() -> None:
    state = saved(DDM())

    with pytest.raises(InvalidStateError, match="written by detector 'DDM', not 'EDDM'"):
        EDDM.from_state(state)
    with pytest.raises(InvalidStateError, match="layout version 2 is not the supported version 1"):
        DDM.from_state({**state, "version": 2})
    with pytest.raises(InvalidStateError, match="must be an object, got list"):
        DDM.from_state([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s.pop("params"), "field 'params' must be an object, got NoneType"),
        (lambda s: s["params"].update(warm_start=-1), "params: DDM: warm_start must be"),
        (lambda s: s["params"].update(colour="red"), "params do not fit: .*colour"),
        (lambda s: s.pop("drift_detected"), "field 'drift_detected' is missing"),
        (lambda s: s.update(warning_detected="yes"), "'warning_detected' must be true or false"),
        (lambda s: s["state"].pop("errors"), "DDM state: field 'state.errors' is missing"),
        (lambda s: s["state"].update(n="12"), r"'state.n' must be an integer >= 0, got '12'"),
        (lambda s: s["state"].update(n=True), r"'state.n' must be an integer >= 0, got True"),
        (lambda s: s["state"].update(p_min=[1]), r"'state.p_min' must be a number, got \[1\]"),
        (lambda s: s["state"].update(errors=10_000), "'state.errors' exceeds n"),
    ],
)
def test_malformed_states_are_refused_with_the_field(
    change: Callable[[dict[str, Any]], Any], match: str
) -> None:
    detector = DDM()
    detector.update_many([0, 1] * 40)
    state = saved(detector)
    change(state)

    with pytest.raises(InvalidStateError, match=match) as caught:
        DDM.from_state(state)
    assert isinstance(caught.value, ValueError)


def test_inconsistent_detector_states_are_refused() -> None:
    adwin = ADWIN()
    adwin.update_many(np.arange(100.0))
    state = saved(adwin)
    state["state"]["totals"][0].append(1.0)
    state["state"]["variances"][0].append(0.0)
    with pytest.raises(InvalidStateError, match=r"'state.totals' does not hold the buckets"):
        ADWIN.from_state(state)

    kswin = KSWIN()
    kswin.update_many(np.arange(150.0))
    state = saved(kswin)
    with pytest.raises(InvalidStateError, match=r"'state\.window' must be a list of numbers"):
        KSWIN.from_state({**state, "state": {**state["state"], "window": [1.0, 2.0]}})
    with pytest.raises(InvalidStateError, match="Mersenne Twister state"):
        KSWIN.from_state({**state, "state": {**state["state"], "rng_key": [0] * 624}})

    eddm = EDDM()
    eddm.update_many([0, 0, 1, 0, 1] * 20)
    state = saved(eddm)
    state["state"]["sum"] += 1
    with pytest.raises(InvalidStateError, match=r"'state\.sum' must equal last_error"):
        EDDM.from_state(state)


# --- results for the dashboard --------------------------------------------------------------


def test_result_is_an_alarm_with_the_detection_indices() -> None:
    ddm = DDM()
    flags = ddm.update_many([0, 1] * 50 + [1] * 60)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    result = ddm.to_result(flags, window=Span(n=160, start=start, end=start))

    assert result.status is Status.ALARM
    assert result.detector == "streaming.ddm"
    assert result.details["detections"] == [125]
    assert result.score == 1.0
    assert result.threshold == 1.0
    assert result.window.start == start
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["details"]["params"] == {
        "warm_start": 30,
        "warning_threshold": 2.0,
        "drift_threshold": 3.0,
    }


def test_result_is_a_warning_in_the_warning_zone_else_ok_or_insufficient() -> None:
    ddm = DDM()
    flags = ddm.update_many([0] * 9 + [1] + [0] * 90 + [1])
    assert ddm.warning_detected
    assert ddm.to_result(flags).status is Status.WARNING

    adwin = ADWIN()
    assert adwin.to_result(adwin.update_many(np.zeros(100))).status is Status.OK
    result = adwin.to_result(adwin.update_many([]))
    assert result.status is Status.INSUFFICIENT_DATA
    assert result.window.n == 0
    with pytest.raises(InvalidInputError, match="1-D"):
        adwin.to_result(np.zeros((2, 2), dtype=bool))
