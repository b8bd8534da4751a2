"""Model performance: metrics with labels, comparisons with the reference, label-free estimates.

- :mod:`~detectors.performance.metrics` — every metric by name (labels, scores, regression),
  equal to scikit-learn's; the metrics themselves in :mod:`.classification`, :mod:`.scores`
  and :mod:`.regression`;
- :mod:`~detectors.performance.comparison` — a window's metric against the reference's with a
  confidence interval, as a :class:`~detectors.outcome.DetectorResult`;
- :mod:`~detectors.performance.cbpe` — confidence-based performance estimation: expected
  accuracy / precision / recall / F1 from calibrated probabilities, before labels arrive
  (calibration in :mod:`.calibration`).

scikit-learn is imported only when a calibrator is fitted, never by importing this package.
"""

from __future__ import annotations

from detectors.performance import (
    calibration,
    cbpe,
    classification,
    comparison,
    metrics,
    regression,
    scores,
)
from detectors.performance.cbpe import CBPEReference, Estimate
from detectors.performance.comparison import ReferencePerformance, compare
from detectors.performance.comparison import prepare as prepare_reference
from detectors.performance.metrics import METRICS, MetricSpec, compute

__all__ = [
    "METRICS",
    "CBPEReference",
    "Estimate",
    "MetricSpec",
    "ReferencePerformance",
    "calibration",
    "cbpe",
    "classification",
    "compare",
    "comparison",
    "compute",
    "metrics",
    "prepare_reference",
    "regression",
    "scores",
]
