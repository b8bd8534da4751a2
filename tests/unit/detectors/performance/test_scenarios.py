"""Each kind of change is caught by the detector made for it, and by no other.

One labelled reference and one window per scenario, from ``streams.logistic``:

* **no change** — nothing alarms;
* **concept drift** (30 % of the labels of the segment x₀ > 0 flipped): the labelled
  comparison and CBPE's reconciliation alarm; the model's outputs did not move, so
  prediction drift and the label-free estimate stay quiet (CBPE cannot see concept drift);
* **covariate shift toward the boundary** (x scaled by 0.4, P(y | x) kept): the outputs
  drift, the labelled comparison alarms, and CBPE alarms *without labels* while its
  estimate still agrees with the realised accuracy (no reconciliation alarm).
"""

from __future__ import annotations

import numpy as np
import pytest

from detectors import prediction
from detectors.outcome import DetectorResult
from detectors.performance import cbpe, comparison
from tests.unit.detectors.performance.streams import Window, logistic

EXPECTED = {
    "none": set(),
    "concept": {"performance.accuracy", "performance.roc_auc", "cbpe.accuracy.reconciliation"},
    "covariate": {
        "performance.accuracy",
        "performance.roc_auc",
        "cbpe.accuracy",
        "prediction.score.score",
    },
}


def run_all(reference: Window, window: Window) -> list[DetectorResult]:
    accuracy = comparison.prepare("accuracy", reference.y, reference.predicted)
    auc = comparison.prepare("roc_auc", reference.y, reference.scores, n_resamples=200)
    estimator = cbpe.fit(reference.y, reference.scores)
    outputs = prediction.prepare(labels=reference.predicted, scores=reference.scores)
    return [
        comparison.compare(accuracy, window.y, window.predicted),
        comparison.compare(auc, window.y, window.scores),
        cbpe.check(estimator, window.scores),
        cbpe.reconcile(estimator, window.scores, window.y),
        *prediction.output_drift(outputs, window.predicted, window.scores),
    ]


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_the_right_detector_alarms(rng: np.random.Generator, scenario: str) -> None:
    reference = logistic(rng, 10_000)
    options = {"none": {}, "concept": {"flip": 0.3}, "covariate": {"scale": 0.4}}[scenario]
    window = logistic(rng, 3000, **options)
    alarmed = {r.detector for r in run_all(reference, window) if r.alarm}
    assert alarmed == EXPECTED[scenario]
