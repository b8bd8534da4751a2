"""The guard: stops learning when the model gets significantly worse at what it learns.

Every example is tested before it is learnt (prequential, test-then-train), giving a stream
of losses: 0 / 1 for a classifier (wrong or right), the absolute error for a regressor. The
guard raises an alarm when either

- **the prequential test**: the mean loss of the latest ``window`` examples is higher than
  that of the ``window`` before them by at least ``min_drop`` (accuracy points; a relative
  rise for regression) and a one-sided z-test on the two means gives ``p < alpha``; or
- **a streaming drift detector** on the loss stream (:mod:`detectors.streaming`: ADWIN,
  DDM or Page–Hinkley) detects a change, and the latest window is worse than the one
  before it with ``p < alpha`` (a detector also fires when the error falls, which is no
  reason to stop, and on noise now and then).

A real concept change that is abrupt looks like poisoned labels to any test of the labels
alone: both make the model's recent errors jump. The guard cannot tell them apart and stops
learning for both; a person then looks and unfreezes (a gradual change, which the learning
model follows, does not trip it).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.streaming import ADWIN, DDM, PageHinkley, StreamingDetector
from serving.online.config import GuardConfig, OnlineConfigError

__all__ = ["Alarm", "Guard"]

_MANY_VALUES = 512


@dataclass(frozen=True, slots=True)
class Alarm:
    """Why the guard stopped learning."""

    reason: str
    """``prequential_drop`` or ``drift_detector``."""
    metric_before: float
    """The prequential metric of the window before (accuracy, or mean absolute error)."""
    metric_now: float
    """The prequential metric of the latest window."""
    p_value: float | None
    """The one-sided test's p-value (None when the detector fired)."""


class Guard:
    """The prequential test and the drift detector over one model's losses.

    Parameters
    ----------
    config
        Window, thresholds and detector.
    classifier
        Whether losses are 0 / 1 errors (else absolute errors).
    """

    def __init__(self, config: GuardConfig, *, classifier: bool) -> None:
        if config.detector == "ddm" and not classifier:
            raise OnlineConfigError("guard.detector: ddm needs a classifier's 0/1 errors")
        self.config = config
        self.classifier = classifier
        self._losses: deque[float] = deque(maxlen=2 * config.window)
        self._detector = _detector(config)

    def reset(self) -> None:
        """Forget every loss (after a rollback, or when learning resumes)."""
        self._losses.clear()
        self._detector = _detector(self.config)

    def metric(self) -> float | None:
        """The prequential metric over the latest ``window`` losses (None before any)."""
        recent = list(self._losses)[-self.config.window :]
        return self._metric(recent) if recent else None

    def observe(self, losses: NDArray[np.float64]) -> Alarm | None:
        """Take the losses of one batch (tested, not yet learnt); an alarm if they trip it."""
        fired = False
        detector = self._detector
        if detector is not None and len(losses) >= _MANY_VALUES:
            fired = bool(detector.update_many(losses).any())
        elif detector is not None:  # the vectorised scan costs more than it saves on a few
            flags = [detector.update(value) for value in losses.tolist()]  # every value, in order
            fired = any(flags)
        self._losses.extend(losses.tolist())
        window = self.config.window
        if len(self._losses) < 2 * window:
            return None
        values = np.fromiter(self._losses, np.float64)
        before, recent = values[:window], values[window:]
        worse, p_value = self._compare(before, recent)
        alarm_before, alarm_now = self._metric(before.tolist()), self._metric(recent.tolist())
        if worse >= self.config.min_drop and p_value < self.config.alpha:
            return Alarm("prequential_drop", alarm_before, alarm_now, p_value)
        if fired and worse > 0 and p_value < self.config.alpha:
            return Alarm("drift_detector", alarm_before, alarm_now, None)
        return None

    def _compare(
        self, before: NDArray[np.float64], recent: NDArray[np.float64]
    ) -> tuple[float, float]:
        """How much worse ``recent`` is (points, or relative) and the one-sided p-value."""
        rise = float(recent.mean() - before.mean())
        n = len(recent)
        spread = math.sqrt(float(recent.var(ddof=1) + before.var(ddof=1)) / n)
        if spread == 0:
            p_value = 0.0 if rise > 0 else 1.0
        else:
            p_value = 0.5 * math.erfc(rise / spread / math.sqrt(2))
        if self.classifier:
            return rise, p_value
        base = float(before.mean())
        return (rise / base if base > 0 else math.inf if rise > 0 else 0.0), p_value

    def _metric(self, losses: list[float]) -> float:
        mean = sum(losses) / len(losses)
        return 1.0 - mean if self.classifier else mean


def _detector(config: GuardConfig) -> StreamingDetector | None:
    if config.detector == "adwin":
        return ADWIN()
    if config.detector == "ddm":
        return DDM()
    if config.detector == "page_hinkley":
        return PageHinkley(mode="up")
    return None
