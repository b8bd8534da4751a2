"""prediction_drift: the model's outputs against the reference's."""

from __future__ import annotations

import datetime as dt

import numpy as np

from monitor.kinds import KindOutcome, prepare, run
from storage import Window
from tests.unit.monitor.kinds.windows import START, assert_outcome_json, make_spec, make_window

NOW = START + dt.timedelta(hours=1)
BINARY = "binary_classification"
MULTI = "multiclass_classification"


def classified(n: int, seed: int, *, p_second: float = 0.3, classes: int = 2) -> Window:
    """Probabilities around ``p_second`` for class 1 (class 2 gets a fixed 0.1 share)."""
    rng = np.random.default_rng(seed)
    second = np.clip(rng.normal(p_second, 0.15, n), 0.01, 0.89)
    if classes == 2:
        proba = np.column_stack([1 - second, second])
    else:
        proba = np.column_stack([0.9 - second, second, np.full(n, 0.1)])
    predicted = proba.argmax(axis=1).astype(float)
    names = ("no", "yes", "maybe")[:classes]
    return make_window(n, predictions=predicted, probabilities=proba, classes=names)


def check(reference: Window, current: Window, task: str, **params: object) -> KindOutcome:
    spec = make_spec("prediction_drift", dict(params))
    prepared = prepare(spec, reference, task=task)
    return run(spec, prepared, current, task=task, now=NOW, state=None)


def test_same_outputs_are_ok() -> None:
    outcome = check(classified(800, 1), classified(600, 2), BINARY)

    assert outcome.status == "ok"
    assert [d["detector"] for d in outcome.summary["detectors"]] == [
        "prediction.score.proba_yes",
        "prediction.label",
    ]
    assert outcome.summary["headline"] == "prediction.label"
    assert outcome.summary["direction"] == "lower_is_worse"  # a p-value
    assert outcome.score is not None
    assert outcome.score > 0.05
    assert_outcome_json(outcome)


def test_shifted_outputs_alarm() -> None:
    outcome = check(classified(800, 1), classified(600, 2, p_second=0.5), BINARY)

    assert outcome.status == "alarm"
    assert set(outcome.summary["drifted_outputs"]) == {
        "prediction.label",
        "prediction.score.proba_yes",
    }
    assert outcome.score is not None
    assert outcome.score < 0.05
    assert_outcome_json(outcome)


def test_multiclass_compares_every_probability_column() -> None:
    outcome = check(classified(800, 1, classes=3), classified(600, 2, classes=3), MULTI)

    assert [d["detector"] for d in outcome.summary["detectors"]][:3] == [
        "prediction.score.proba_no",
        "prediction.score.proba_yes",
        "prediction.score.proba_maybe",
    ]


def test_failed_requests_are_left_out() -> None:
    current = classified(600, 2)
    status = np.zeros(600, np.int16)
    status[:100] = 1
    predictions = current.predictions.copy()
    predictions[:100] = np.nan
    broken = make_window(
        600,
        predictions=predictions,
        probabilities=np.where(status[:, None] == 1, np.nan, current.probabilities),
        status=status,
        classes=current.classes,
    )

    outcome = check(classified(800, 1), broken, BINARY)

    assert outcome.summary["rows"] == 500
    assert outcome.status == "ok"


def test_regression_values_are_compared() -> None:
    rng = np.random.default_rng(3)
    reference = make_window(500, predictions=rng.normal(10, 2, 500))
    shifted = make_window(400, predictions=rng.normal(11, 2, 400))

    outcome = check(reference, shifted, "regression", test="psi", threshold=0.1)

    assert [d["detector"] for d in outcome.summary["detectors"]] == ["prediction.score.value"]
    assert outcome.summary["direction"] == "higher_is_worse"  # a distance
    assert outcome.status == "alarm"


def test_a_reference_without_probabilities_compares_classes_only() -> None:
    reference = classified(800, 1)
    labels_only = make_window(800, predictions=reference.predictions, classes=reference.classes)

    outcome = check(labels_only, classified(600, 2), BINARY)

    assert [d["detector"] for d in outcome.summary["detectors"]] == ["prediction.label"]


def test_a_reference_without_predictions_is_insufficient_data() -> None:
    outcome = check(make_window(500), classified(600, 2), BINARY)

    assert outcome.status == "insufficient_data"
    assert outcome.summary["reason"] == "the reference has no predictions"


def test_a_small_reference_is_insufficient_data() -> None:
    outcome = check(classified(12, 1), classified(600, 2), BINARY)

    assert outcome.status == "insufficient_data"
    assert outcome.summary["reason"] == "reference has 12 rows with predictions, needs at least 30"


def test_a_window_missing_the_probabilities_is_insufficient_data() -> None:
    current = classified(600, 2)
    no_proba = make_window(600, predictions=current.predictions, classes=current.classes)

    outcome = check(classified(800, 1), no_proba, BINARY)

    assert outcome.status == "insufficient_data"
    assert "score columns" in outcome.summary["reason"]


def test_too_few_current_rows_is_insufficient_data() -> None:
    outcome = check(classified(800, 1), classified(20, 2), BINARY)

    assert outcome.status == "insufficient_data"
    assert outcome.score is None
    assert outcome.summary["reason"] == "window has 20 rows with predictions, needs 50"
