"""failures: failure rates, their change against the reference, and bogus outputs."""

from __future__ import annotations

import numpy as np

from monitor.kinds import KindOutcome, prepare, run
from storage import Window
from tests.unit.monitor.kinds.windows import (
    HOUR,
    START,
    assert_outcome_json,
    make_spec,
    make_window,
)

NOW = START + HOUR


def requests(
    n: int, seed: int, *, errors: float = 0.0, timeouts: float = 0.0, regression: bool = True
) -> Window:
    rng = np.random.default_rng(seed)
    draw = rng.random(n)
    status = np.where(draw < errors, 1, np.where(draw < errors + timeouts, 3, 0))
    inputs = rng.normal(size=(n, 2))
    values = np.where(status == 0, inputs.sum(axis=1), np.nan)
    return make_window(
        n, status=status, predictions=values, numeric=inputs, numeric_names=("a", "b")
    )


def check(
    reference: Window | None,
    current: Window,
    reference_type: str | None = "previous_window",
    task: str = "regression",
    **params: object,
) -> KindOutcome:
    spec = make_spec("failures", dict(params), reference=reference_type)
    prepared = prepare(spec, reference, task=task)
    return run(spec, prepared, current, task=task, now=NOW, state=None)


def test_a_healthy_window_is_ok() -> None:
    outcome = check(requests(2000, 1, errors=0.002), requests(2000, 2, errors=0.002))

    assert outcome.status == "ok"
    assert [d["detector"] for d in outcome.summary["detectors"]] == [
        "failures.failure_rate",
        "failures.failure_rate_change",
        "failures.non_finite_outputs",
        "failures.stuck_outputs",
    ]
    assert outcome.summary["baseline"] == "compared"
    assert_outcome_json(outcome)


def test_a_high_failure_rate_alarms_with_the_rate_as_score() -> None:
    outcome = check(requests(2000, 1, errors=0.002), requests(2000, 2, errors=0.04))

    assert outcome.status == "alarm"
    assert outcome.score == outcome.summary["failure_rate"]
    assert 0.03 < outcome.score < 0.05
    rows = {d["detector"]: d["status"] for d in outcome.summary["detectors"]}
    assert rows["failures.failure_rate"] == "alarm"
    assert rows["failures.failure_rate_change"] == "alarm"


def test_each_kind_is_checked_apart() -> None:
    current = requests(2000, 2, errors=0.002, timeouts=0.05)

    outcome = check(None, current, None, kinds=["error", "timeout"], slo_rate=0.02)

    rows = {d["detector"]: d["status"] for d in outcome.summary["detectors"]}
    assert rows["failures.error_rate"] == "ok"
    assert rows["failures.timeout_rate"] == "alarm"
    assert "failures.error_rate_change" not in rows
    assert outcome.summary["baseline"] == "no reference: no baseline comparison"


def test_a_dataset_reference_is_no_baseline() -> None:
    dataset = make_window(500, predictions=np.zeros(500))

    outcome = check(dataset, requests(2000, 2), "dataset")

    assert outcome.summary["baseline"].startswith("skipped: the reference is a dataset")
    assert not any(d["detector"].endswith("_change") for d in outcome.summary["detectors"])


def test_stuck_outputs_alarm() -> None:
    current = requests(500, 2)
    stuck = make_window(
        500,
        predictions=np.full(500, 0.42),
        numeric=current.numeric,
        numeric_names=current.numeric_names,
    )

    outcome = check(None, stuck, None)

    rows = {d["detector"]: d for d in outcome.summary["detectors"]}
    assert rows["failures.stuck_outputs"]["status"] == "alarm"
    assert rows["failures.stuck_outputs"]["score"] == 500.0
    assert outcome.status == "alarm"


def test_repeated_inputs_are_not_a_stuck_model() -> None:
    same_input = make_window(
        500, predictions=np.full(500, 0.42), numeric=np.ones((500, 1)), numeric_names=("a",)
    )

    outcome = check(None, same_input, None)

    rows = {d["detector"]: d for d in outcome.summary["detectors"]}
    assert rows["failures.stuck_outputs"]["score"] == 1.0


def test_outputs_out_of_range_when_a_range_is_given() -> None:
    current = requests(1000, 2)

    plain = check(None, current, None)
    ranged = check(None, current, None, output_min=-1.0)

    assert "failures.out_of_range_outputs" not in {
        d["detector"] for d in plain.summary["detectors"]
    }
    rows = {d["detector"]: d for d in ranged.summary["detectors"]}
    assert rows["failures.out_of_range_outputs"]["status"] == "alarm"
    assert rows["failures.out_of_range_outputs"]["threshold"] == 0.001


def test_a_classifier_with_a_broken_probability_has_bogus_outputs() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, 400)
    proba = np.column_stack([1 - p, p])
    proba[7] = np.nan
    window = make_window(400, predictions=(p > 0.5).astype(float), probabilities=proba)

    outcome = check(None, window, None, task="binary_classification")

    rows = {d["detector"]: d for d in outcome.summary["detectors"]}
    assert rows["failures.non_finite_outputs"]["status"] == "alarm"
    assert rows["failures.stuck_outputs"]["status"] == "ok"  # on the highest probability


def test_a_classifier_without_probabilities_skips_the_stuck_check() -> None:
    window = make_window(400, predictions=np.zeros(400))

    outcome = check(None, window, None, task="multiclass_classification")

    assert "failures.stuck_outputs" not in {d["detector"] for d in outcome.summary["detectors"]}
