"""Tests of detectors.prediction: output drift (through detectors.check) and class balance."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from detectors import InvalidInputError, prediction
from detectors.outcome import Span, Status
from tests.unit.detectors.performance.streams import logistic

ALPHA = 0.05


def statuses(results: tuple[prediction.DetectorResult, ...]) -> dict[str, Status]:
    return {r.detector: r.status for r in results}


def test_covariate_shift_moves_the_outputs_concept_drift_does_not(
    rng: np.random.Generator,
) -> None:
    reference_window = logistic(rng, 10_000)
    reference = prediction.prepare(
        labels=reference_window.predicted, scores=reference_window.scores
    )
    shifted = logistic(rng, 3000, shift=1.0)
    found = prediction.output_drift(reference, shifted.predicted, shifted.scores)
    assert statuses(found) == {
        "prediction.score.score": Status.ALARM,
        "prediction.label": Status.ALARM,
    }
    assert prediction.class_balance(reference, shifted.predicted).status is Status.ALARM
    # label flips change P(y | x), not the model's outputs: nothing to see here
    flipped = logistic(rng, 3000, flip=0.3)
    found = prediction.output_drift(reference, flipped.predicted, flipped.scores)
    assert set(statuses(found).values()) == {Status.OK}
    assert prediction.class_balance(reference, flipped.predicted).status is not Status.ALARM


def test_no_change_raises_no_alarm_over_50_windows(rng: np.random.Generator) -> None:
    reference_window = logistic(rng, 10_000)
    reference = prediction.prepare(
        labels=reference_window.predicted, scores=reference_window.scores
    )
    alarms = 0
    for _ in range(50):
        window = logistic(rng, 2000)
        found = prediction.output_drift(reference, window.predicted, window.scores)
        balance = prediction.class_balance(reference, window.predicted)
        alarms += sum(r.alarm for r in (*found, balance))
    assert alarms <= math.floor(ALPHA * 50)


def test_small_windows_use_calibrated_tests() -> None:
    """With p-value tests (small references) the false-alarm rate stays near alpha."""
    rng = np.random.default_rng(20261124)
    repetitions, outputs_alarmed, balance_alarmed = 300, 0, 0
    for _ in range(repetitions):
        before, after = logistic(rng, 600), logistic(rng, 400)
        reference = prediction.prepare(labels=before.predicted, scores=before.scores)
        found = prediction.output_drift(reference, after.predicted, after.scores)
        assert {r.details["method"] for r in found} == {"ks", "z_test"}
        outputs_alarmed += any(r.alarm for r in found)
        balance = prediction.class_balance(reference, after.predicted, min_effect=0.0)
        balance_alarmed += balance.alarm
    limit = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / repetitions)
    # two columns, BH-corrected: the family-wise rate is at most about alpha
    assert outputs_alarmed / repetitions <= limit
    assert balance_alarmed / repetitions <= limit


def test_only_the_drifted_score_column_alarms(rng: np.random.Generator) -> None:
    before = rng.dirichlet([2.0, 3.0, 5.0], 5000)
    after = rng.dirichlet([2.0, 3.0, 5.0], 2000)
    after[:, 2] = np.clip(after[:, 2] + 0.2, 0.0, 1.0)
    reference = prediction.prepare(scores=before, score_names=["a", "b", "c"])
    found = prediction.output_drift(
        reference, scores=after, score_test="psi", thresholds={"psi": 0.2}
    )
    assert statuses(found) == {
        "prediction.score.a": Status.OK,
        "prediction.score.b": Status.OK,
        "prediction.score.c": Status.ALARM,
    }
    psi = next(r for r in found if r.detector == "prediction.score.c")
    assert psi.details["method"] == "psi"
    assert psi.details["direction"] == "higher_is_worse"
    assert psi.score == psi.details["effect"]
    assert psi.threshold == 0.2


def test_p_value_results_state_their_direction(rng: np.random.Generator) -> None:
    window = logistic(rng, 800)
    reference = prediction.prepare(labels=window.predicted, scores=window.scores)
    later = logistic(rng, 500, shift=0.4)
    found = prediction.output_drift(reference, later.predicted, later.scores, window=Span(n=500))
    for result in found:
        assert result.details["direction"] == "lower_is_worse"
        assert result.score <= result.threshold == ALPHA
        assert result.status is Status.ALARM
        json.dumps(result.to_dict(), allow_nan=False)


def test_class_balance_details_equal_scipy(rng: np.random.Generator) -> None:
    before = rng.choice(3, 4000, p=[0.5, 0.3, 0.2]).astype(np.float64)
    after = rng.choice(4, 1500, p=[0.4, 0.3, 0.2, 0.1]).astype(np.float64)  # class 3 is new
    reference = prediction.prepare(labels=before)
    result = prediction.class_balance(reference, after)
    assert result.status is Status.ALARM
    table = np.array(
        [np.bincount(before.astype(int), minlength=4), np.bincount(after.astype(int), minlength=4)]
    )
    assert result.details["chi2_p_value"] == pytest.approx(
        stats.chi2_contingency(table).pvalue, rel=1e-9
    )
    per_class = result.details["classes"]
    assert [c["class"] for c in per_class] == [0.0, 1.0, 2.0, 3.0]
    new = per_class[3]
    assert new["reference_share"] == 0.0
    low, high = new["ci"]
    assert 0.0 < low < new["difference"] < high
    assert result.score == pytest.approx(max(abs(c["difference"]) for c in per_class))
    json.dumps(result.to_dict(), allow_nan=False)


def test_class_balance_warns_on_a_small_significant_move(rng: np.random.Generator) -> None:
    before = rng.choice(2, 50_000, p=[0.5, 0.5]).astype(np.float64)
    after = rng.choice(2, 50_000, p=[0.47, 0.53]).astype(np.float64)
    result = prediction.class_balance(prediction.prepare(labels=before), after)
    assert result.status is Status.WARNING  # significant, 0.03 between 0.025 and 0.05
    assert (
        prediction.class_balance(prediction.prepare(labels=before), after, min_effect=0.02).status
        is Status.ALARM
    )


def test_small_windows_are_insufficient_data(rng: np.random.Generator) -> None:
    window = logistic(rng, 1000)
    reference = prediction.prepare(labels=window.predicted, scores=window.scores)
    found = prediction.output_drift(reference, window.predicted[:20], window.scores[:20])
    assert {r.status for r in found} == {Status.INSUFFICIENT_DATA}
    balance = prediction.class_balance(reference, window.predicted[:20])
    assert balance.status is Status.INSUFFICIENT_DATA
    assert math.isnan(balance.score)


def test_bad_inputs_are_refused(rng: np.random.Generator) -> None:
    window = logistic(rng, 200)
    with pytest.raises(InvalidInputError, match="labels, scores or both"):
        prediction.prepare()
    with pytest.raises(InvalidInputError, match="integral class codes"):
        prediction.prepare(labels=window.scores)
    with pytest.raises(InvalidInputError, match="score_names"):
        prediction.prepare(scores=window.scores, score_names=["a", "b"])
    scores_only = prediction.prepare(scores=window.scores)
    with pytest.raises(InvalidInputError, match="same outputs"):
        prediction.output_drift(scores_only, labels=window.predicted)
    with pytest.raises(InvalidInputError, match="no predicted labels"):
        prediction.class_balance(scores_only, window.predicted)
    labelled = prediction.prepare(labels=window.predicted)
    with pytest.raises(InvalidInputError, match="alpha"):
        prediction.class_balance(labelled, window.predicted, alpha=1.0)
