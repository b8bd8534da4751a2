"""performance: labelled comparison, CBPE estimate, and the streaming detector's state."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from monitor.kinds import KindOutcome, needs_labels, prepare, run
from storage import Window
from tests.unit.monitor.kinds.windows import (
    HOUR,
    START,
    assert_outcome_json,
    make_spec,
    make_window,
)

BINARY = "binary_classification"
NOW = START + HOUR


def scored(
    n: int,
    seed: int,
    *,
    flipped: float = 0.0,
    labelled: float = 1.0,
    hard: bool = False,
    start: dt.datetime = START,
) -> Window:
    """A calibrated binary classifier; ``flipped`` labels lower its accuracy, ``hard`` rows
    (scores near 0.5) lower it without labels."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, n) if hard else rng.normal(size=n)
    p = 1.0 / (1.0 + np.exp(-2.0 * x))
    y = (rng.random(n) < p).astype(float)
    y = np.where(rng.random(n) < flipped, 1.0 - y, y)
    y[rng.random(n) >= labelled] = np.nan
    return make_window(
        n,
        start=start,
        predictions=(p > 0.5).astype(float),
        probabilities=np.column_stack([1.0 - p, p]),
        labels=y,
        classes=("no", "yes"),
    )


def check(reference: Window | None, current: Window, **params: object) -> KindOutcome:
    spec = make_spec(
        "performance", dict(params), reference="previous_window" if reference else None
    )
    prepared = prepare(spec, reference, task=BINARY)
    return run(spec, prepared, current, task=BINARY, now=NOW, state=None)


def test_performance_monitors_read_labels() -> None:
    assert needs_labels(make_spec("performance"))
    assert not needs_labels(make_spec("data_drift"))


def test_same_accuracy_is_ok() -> None:
    # Seeded: about one same-distribution window in five warns (warning level 0.2, by design).
    outcome = check(scored(2000, 1), scored(1000, 3))

    assert outcome.status == "ok"
    assert outcome.summary["estimated"] is False
    assert outcome.summary["metric"] == "accuracy"
    assert outcome.summary["label_coverage"] == 1.0
    assert outcome.summary["detectors"][0]["detector"] == "performance.accuracy"
    assert_outcome_json(outcome)


def test_labels_showing_an_accuracy_drop_alarm() -> None:
    outcome = check(scored(2000, 1), scored(1000, 2, flipped=0.3, labelled=0.6))

    assert outcome.status == "alarm"
    assert outcome.summary["estimated"] is False
    assert outcome.summary["label_coverage"] == pytest.approx(0.6, abs=0.03)
    assert outcome.score is not None
    assert outcome.score > 0.1
    reference, current = outcome.summary["reference_value"], outcome.summary["current_value"]
    assert outcome.score == pytest.approx(reference - current)
    assert_outcome_json(outcome)


def test_without_labels_the_probabilities_give_an_estimate() -> None:
    same = check(scored(2000, 1), scored(1000, 2, labelled=0.0))
    harder = check(scored(2000, 1), scored(1000, 2, labelled=0.0, hard=True))

    assert same.summary["estimated"] is True
    assert same.summary["label_coverage"] == 0.0
    assert same.summary["detectors"][0]["detector"] == "cbpe.accuracy"
    assert same.status == "ok"
    assert harder.summary["estimated"] is True
    assert harder.status == "alarm"
    assert_outcome_json(harder)


def test_too_few_labels_and_no_estimate_is_insufficient_data() -> None:
    outcome = check(scored(2000, 1), scored(1000, 2, labelled=0.05), estimate=False)

    assert outcome.status == "insufficient_data"
    assert outcome.summary["reason"].startswith("current window has ")
    assert outcome.summary["reason"].endswith(
        "labelled rows with predictions, needs at least 100; no estimate: params.estimate is false"
    )
    assert outcome.summary["label_coverage"] == pytest.approx(0.05, abs=0.02)


def test_a_reference_with_too_few_labels_is_insufficient_data() -> None:
    outcome = check(scored(2000, 1, labelled=0.006), scored(1000, 2), min_labels=30)

    assert outcome.status == "insufficient_data"
    reason = outcome.summary["reason"]
    assert reason.startswith("reference has 1")
    assert "labelled rows with predictions, needs at least 30" in reason


def test_regression_rmse_rise_alarms() -> None:
    rng = np.random.default_rng(4)
    truth = rng.normal(size=3000)
    reference = make_window(
        2000, predictions=truth[:2000] + rng.normal(0, 1, 2000), labels=truth[:2000]
    )
    current = make_window(
        1000, predictions=truth[2000:] + rng.normal(0, 2, 1000), labels=truth[2000:]
    )
    spec = make_spec("performance")

    outcome = run(
        spec,
        prepare(spec, reference, task="regression"),
        current,
        task="regression",
        now=NOW,
        state=None,
    )

    assert outcome.summary["metric"] == "rmse"
    assert outcome.status == "alarm"
    assert outcome.score is not None
    assert outcome.score > 0.5


def streaming_window(error_rate: float, seed: int, start: dt.datetime) -> Window:
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, 1000).astype(float)
    wrong = rng.random(1000) < error_rate
    return make_window(
        1000,
        start=start,
        predictions=predicted,
        labels=np.where(wrong, 1 - predicted, predicted),
        classes=("no", "yes"),
    )


def test_the_streaming_detector_continues_from_the_saved_state() -> None:
    spec = make_spec("performance", {"streaming": "ddm"}, reference=None)
    prepared = prepare(spec, None, task=BINARY)
    calm = streaming_window(0.1, 1, START)
    worse = streaming_window(0.5, 2, START + HOUR)

    first = run(spec, prepared, calm, task=BINARY, now=NOW, state=None)
    stored = json.loads(json.dumps(first.state))  # as the scheduler keeps it
    resumed = run(spec, prepared, worse, task=BINARY, now=NOW + HOUR, state=stored)
    fresh = run(spec, prepared, worse, task=BINARY, now=NOW + HOUR, state=None)

    assert first.status == "ok"
    assert first.state is not None
    assert first.state["streaming"]["detector"] == "ddm"
    assert resumed.status == "warning"  # a detection inside the window
    detections = resumed.details["streaming"]["detections_at"]
    assert detections
    assert all(d.startswith("2026-03-02T10:") for d in detections)
    assert resumed.state is not None
    assert (
        resumed.state["streaming"]["last_timestamp_us"]
        > first.state["streaming"]["last_timestamp_us"]
    )
    assert fresh.status == "ok"  # alone, a steady 50 % error rate is no change
    assert fresh.details["streaming"]["details"]["detections"] == []
    assert_outcome_json(resumed)


def test_rows_already_fed_are_not_fed_again() -> None:
    spec = make_spec("performance", {"streaming": "adwin"}, reference=None)
    prepared = prepare(spec, None, task=BINARY)
    window = streaming_window(0.1, 1, START)

    first = run(spec, prepared, window, task=BINARY, now=NOW, state=None)
    again = run(
        spec, prepared, window, task=BINARY, now=NOW, state=json.loads(json.dumps(first.state))
    )

    assert first.details["streaming"]["fed"] == 1000
    assert again.details["streaming"]["fed"] == 0
    assert again.state == first.state
    assert again.status == "insufficient_data"
    assert again.summary["reason"] == "no new labelled rows for the streaming detector"
    assert first.summary["note"] == "the monitor has no reference: only the streaming detector runs"


def test_a_state_of_another_detector_starts_afresh() -> None:
    spec = make_spec("performance", {"streaming": "eddm"}, reference=None)
    prepared = prepare(spec, None, task=BINARY)
    saved = {"streaming": {"detector": "ddm", "last_timestamp_us": 0, "state": {}}}

    outcome = run(
        spec, prepared, streaming_window(0.1, 1, START), task=BINARY, now=NOW, state=saved
    )

    assert outcome.details["streaming"]["state_note"] == (
        "saved state was for detector 'ddm'; started afresh"
    )
    assert outcome.details["streaming"]["fed"] == 1000
    assert outcome.state is not None
    assert outcome.state["streaming"]["detector"] == "eddm"


def test_streaming_runs_beside_the_comparison() -> None:
    outcome = check(scored(2000, 1), scored(1000, 2), streaming="kswin")

    assert [d["detector"] for d in outcome.summary["detectors"]] == [
        "performance.accuracy",
        "streaming.kswin",
    ]
    assert outcome.state is not None
