"""Parity with river: the same detections, warnings and window statistics, update by update.

river is a test dependency (``pip install river``; checked with river 0.26.1). Every stream
of ``statistics.md`` §7.2–§7.3 is fed to both implementations, with default and other
parameters, plus a stream with many change points so that resets are exercised too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest

from detectors.streaming import ADWIN, DDM, EDDM, KSWIN, PageHinkley, StreamingDetector
from tests.unit.detectors.streaming.streams import Stream, many, stream

drift = pytest.importorskip("river.drift", reason="river is a test dependency")

REAL = ["C", "G1", "G05", "N0", "E1", "E2", "NE", "shifts"]
BINARY = ["B", "F", "E1", "E2", "NE", "rates"]
#: river's KSWIN runs scipy's exact test on every update (about a millisecond each): its
#: parity runs on shorter streams; ``test_reference_indices`` pins the long ones.
SHORT = ["G1", "short_shifts"]
#: Streams up to this long are also compared update by update (flags, warnings, window
#: statistics); longer ones through ``update_many`` (``test_contract`` checks that both agree).
LONGEST_STEPWISE = 4000

Factory = Callable[[], Any]

# (label, ours, river's, streams)
CASES: list[tuple[str, Callable[[], StreamingDetector], Factory, list[str]]] = [
    ("DDM", DDM, lambda: drift.binary.DDM(), BINARY),
    (
        "DDM(10, 1.5, 2.5)",
        lambda: DDM(warm_start=10, warning_threshold=1.5, drift_threshold=2.5),
        lambda: drift.binary.DDM(warm_start=10, warning_threshold=1.5, drift_threshold=2.5),
        BINARY,
    ),
    ("EDDM", EDDM, lambda: drift.binary.EDDM(), BINARY),
    (
        "EDDM(10, 0.8, 0.75)",
        lambda: EDDM(warm_start=10, alpha=0.8, beta=0.75),
        lambda: drift.binary.EDDM(warm_start=10, alpha=0.8, beta=0.75),
        BINARY,
    ),
    ("ADWIN", ADWIN, lambda: drift.ADWIN(), REAL),
    ("ADWIN(clock=1)", lambda: ADWIN(clock=1), lambda: drift.ADWIN(clock=1), REAL),
    (
        "ADWIN(0.1, 7, 2, 1, 0)",
        lambda: ADWIN(delta=0.1, clock=7, max_buckets=2, min_window_length=1, grace_period=0),
        lambda: drift.ADWIN(delta=0.1, clock=7, max_buckets=2, min_window_length=1, grace_period=0),
        REAL,
    ),
    ("PageHinkley", PageHinkley, lambda: drift.PageHinkley(), REAL),
    (
        "PageHinkley(up)",
        lambda: PageHinkley(mode="up"),
        lambda: drift.PageHinkley(mode="up"),
        REAL,
    ),
    (
        "PageHinkley(down, 10, 0.01, 5, 0.99)",
        lambda: PageHinkley(mode="down", min_instances=10, delta=0.01, threshold=5.0, alpha=0.99),
        lambda: drift.PageHinkley(
            mode="down", min_instances=10, delta=0.01, threshold=5.0, alpha=0.99
        ),
        REAL,
    ),
    ("KSWIN(seed=1)", lambda: KSWIN(seed=1), lambda: drift.KSWIN(seed=1), SHORT),
    (
        "KSWIN(1e-4, 42)",
        lambda: KSWIN(alpha=1e-4, seed=42),
        lambda: drift.KSWIN(alpha=1e-4, seed=42),
        ["C"],
    ),
    (
        "KSWIN(0.01, 50, 10, 3)",
        lambda: KSWIN(alpha=0.01, window_size=50, stat_size=10, seed=3),
        lambda: drift.KSWIN(alpha=0.01, window_size=50, stat_size=10, seed=3),
        ["short_shifts"],
    ),
    (
        "KSWIN(0.005, 400, 60, 7)",  # population 340 > 277: random.sample's set branch
        lambda: KSWIN(window_size=400, stat_size=60, seed=7),
        lambda: drift.KSWIN(window_size=400, stat_size=60, seed=7),
        ["G1"],
    ),
]


@cache
def extra(name: str) -> Stream:
    """Streams with many change points: ``shifts`` (means; ``short_shifts`` its first 1500
    values) and ``rates`` (error rates), each level held for 250 values."""
    rng = np.random.default_rng(8)
    if name == "rates":
        rates = rng.choice([0.05, 0.2, 0.5], 40)
        return np.concatenate([rng.binomial(1, r, 250) for r in rates]).astype(np.float64)
    means = rng.integers(0, 4, 40).astype(float)
    shifts = np.concatenate([rng.normal(m, 1.0, 250) for m in means])
    return shifts[:1500] if name == "short_shifts" else shifts


def values_of(name: str) -> Stream:
    return extra(name) if name in ("shifts", "short_shifts", "rates") else stream(name)


PARAMS = [
    pytest.param(ours, theirs, name, id=f"{label}-{name}")
    for label, ours, theirs, names in CASES
    for name in names
]


def river_run(detector: Any, values: Stream) -> tuple[list[int], list[int], list[Any]]:
    """Detections, warnings and a per-update snapshot of river's detector."""
    detections, warnings, snapshots = [], [], []
    for i, value in enumerate(values.tolist()):
        detector.update(value)
        if detector.drift_detected:
            detections.append(i)
        if getattr(detector, "warning_detected", False):
            warnings.append(i)
        snapshots.append(_snapshot(detector))
    return detections, warnings, snapshots


def our_run(detector: StreamingDetector, values: Stream) -> tuple[list[int], list[int], list[Any]]:
    detections, warnings, snapshots = [], [], []
    for i, value in enumerate(values.tolist()):
        if detector.update(value):
            detections.append(i)
        if detector.warning_detected:
            warnings.append(i)
        snapshots.append(_snapshot(detector))
    return detections, warnings, snapshots


def _snapshot(detector: Any) -> Any:
    """What both sides expose beyond the flags: ADWIN's window, KSWIN's p-value."""
    if isinstance(detector, ADWIN):
        return detector.width, detector.total, detector._variance
    if isinstance(detector, drift.ADWIN):
        return detector.width, detector.total, detector.variance  # river: the sum of squares
    if isinstance(detector, KSWIN):
        return detector.p_value if detector.p_value is not None else 0
    if isinstance(detector, drift.KSWIN):
        return detector.p_value
    return None


@pytest.mark.parametrize(("ours", "theirs", "name"), PARAMS)
def test_same_detections_warnings_and_state_as_river(
    ours: Callable[[], StreamingDetector], theirs: Factory, name: str
) -> None:
    values = values_of(name)

    expected = river_run(theirs(), values)

    assert many(ours(), values) == expected[0]
    if values.size <= LONGEST_STEPWISE:
        found = our_run(ours(), values)
        assert found[0] == expected[0]
        assert found[1] == expected[1]
        assert found[2] == expected[2]


def test_the_streams_detect_something() -> None:
    """Guard: the parity cases are not all empty (a vacuous parity would pass)."""
    detections = {
        label: sum(len(many(ours(), values_of(name))) for name in names if name not in ("N0", "NE"))
        for label, ours, _, names in CASES
    }
    assert min(detections.values()) > 0, detections
    assert sum(detections.values()) > 500
