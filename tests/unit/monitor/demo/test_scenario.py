"""The demo's scenario shows what it claims: each injected problem, and only that one."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from scipy import stats

from monitor.demo.scenario import CLASSES, FEATURES, PHASES, SEGMENTS, Scenario
from monitor.demo.training import train

N = 4_000


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, float]:
    trained = train(Scenario(seed=11), tmp_path_factory.mktemp("demo"))
    return joblib.load(trained.model_path), trained.reference_accuracy


def accuracy(model: object, scenario: Scenario, u: float) -> float:
    traffic = scenario.at(u, N)
    return float(np.mean(model.predict(traffic.features) == traffic.labels))  # type: ignore[attr-defined]


def test_traffic_has_the_declared_features_and_classes() -> None:
    traffic = Scenario(seed=1).reference(500)

    assert tuple(traffic.features.columns) == FEATURES
    assert set(traffic.features["segment"]) <= set(SEGMENTS)
    assert set(traffic.labels) == set(CLASSES)
    assert not traffic.malformed.any()


def test_the_same_seed_draws_the_same_traffic() -> None:
    first, second = Scenario(seed=5).at(0.4, 50), Scenario(seed=5).at(0.4, 50)

    assert first.features.equals(second.features)
    assert (first.labels == second.labels).all()


def test_covariate_shift_moves_the_inputs_only_in_its_phase() -> None:
    scenario = Scenario(seed=2)
    reference = scenario.reference(N).features

    def p_value(u: float, column: str) -> float:
        current = scenario.at(u, N).features[column]
        return float(stats.ks_2samp(reference[column], current).pvalue)

    for column in ("f3", "f4"):
        assert p_value(0.4, column) < 1e-12, column
        assert p_value(0.1, column) > 1e-4, column
        assert p_value(0.9, column) > 1e-4, column
    shifted = scenario.at(0.4, N).features
    assert shifted["f3"].mean() == pytest.approx(2.5, abs=0.15)
    assert shifted["f4"].std() == pytest.approx(2.0, abs=0.15)
    assert (shifted["segment"] == "corporate").mean() > 0.5


def test_only_the_concept_drift_costs_accuracy(model: tuple[object, float]) -> None:
    estimator, reference_accuracy = model
    scenario = Scenario(seed=3)

    before = accuracy(estimator, scenario, 0.1)
    shifted = accuracy(estimator, scenario, 0.4)
    drifted = accuracy(estimator, scenario, 0.9)

    assert before == pytest.approx(reference_accuracy, abs=0.03)
    assert shifted == pytest.approx(before, abs=0.03)
    assert drifted < before - 0.15, (before, drifted)


def test_the_error_burst_sends_half_the_requests_malformed() -> None:
    scenario = Scenario(seed=4)

    assert scenario.at(0.75, N).malformed.mean() == pytest.approx(0.5, abs=0.05)
    assert scenario.at(0.6, N).malformed.mean() < 0.03
    assert scenario.at(0.1, N).malformed.mean() < 0.03


@pytest.mark.parametrize(
    ("u", "names"),
    [
        (0.0, ("like the reference",)),
        (0.3, ("covariate shift",)),
        (0.6, ("concept drift",)),
        (0.75, ("concept drift", "error burst")),
        (1.0, ("concept drift",)),
    ],
)
def test_phase_names(u: float, names: tuple[str, ...]) -> None:
    assert Scenario().phase_names(u) == names


def test_every_phase_but_the_first_names_the_monitor_kind_that_should_see_it() -> None:
    kinds = [phase.detected_by for phase in PHASES]

    assert kinds == ["", "data_drift", "performance", "failures"]


def test_training_writes_a_reference_with_labels_predictions_and_probabilities(
    tmp_path: Path,
) -> None:
    import pandas as pd

    trained = train(Scenario(seed=9), tmp_path)
    frame = pd.read_csv(trained.reference_path)

    assert set(FEATURES) <= set(frame.columns)
    assert {"target", "prediction", "proba_bad", "proba_good"} <= set(frame.columns)
    assert np.allclose(frame["proba_bad"] + frame["proba_good"], 1.0)
    assert float((frame["prediction"] == frame["target"]).mean()) == pytest.approx(
        trained.reference_accuracy
    )
    assert 0.7 < trained.reference_accuracy < 0.95
