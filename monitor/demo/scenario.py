"""What the demo's traffic looks like at each moment: pure numpy, no I/O.

A loan applicant has six numeric features ``f0`` … ``f5`` and a ``segment``. The true
chance of a bad loan depends on ``f0``, ``f1`` and ``f2`` only; ``f3``, ``f4`` and the segment
carry no signal, so the classifier learns (almost) nothing from them. The replay is split by
the share ``u`` of its duration that has passed:

- ``u < 0.30`` **like the reference**: drawn as the training data was;
- ``0.30 ≤ u < 0.50`` **covariate shift**: ``f3`` moves up by 2.5, ``f4`` doubles its spread and
  most applicants become corporate. The inputs drift, the model's accuracy does not (the
  moved features carry no signal);
- ``u ≥ 0.50`` **concept drift**: the inputs are like the reference again, but the sign of
  ``f0``'s effect turns over gradually, fully by ``u = 0.75``: the model, unchanged, gets
  worse. Only labels (or an estimate) can show this.
- ``0.72 ≤ u < 0.82`` **error burst**: half the requests are malformed. Outside it 1 % are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "CLASSES",
    "FEATURES",
    "NUMERIC",
    "PHASES",
    "SEGMENTS",
    "Phase",
    "Scenario",
    "Traffic",
]

NUMERIC = ("f0", "f1", "f2", "f3", "f4", "f5")
SEGMENTS = ("retail", "small-business", "corporate")
FEATURES = (*NUMERIC, "segment")
#: In scikit-learn's order (sorted), which is the order of ``predict_proba``'s columns.
CLASSES = ("bad", "good")


@dataclass(frozen=True)
class Phase:
    """A named stretch of the replay, as shares of its duration."""

    name: str
    start: float
    end: float
    #: The monitor kind that should notice it.
    detected_by: str


PHASES = (
    Phase("like the reference", 0.0, 0.30, ""),
    Phase("covariate shift", 0.30, 0.50, "data_drift"),
    Phase("concept drift", 0.50, 1.0, "performance"),
    Phase("error burst", 0.72, 0.82, "failures"),
)
_SHIFT = PHASES[1]
_CONCEPT = PHASES[2]
_BURST = PHASES[3]
#: ``u`` at which the concept drift is complete.
_CONCEPT_FULL = 0.75
_WEIGHTS = np.array([1.8, -1.4, 1.0, 0.0, 0.0, 0.0])
_SEGMENT_MIX = np.array([0.6, 0.3, 0.1])
_SHIFTED_SEGMENT_MIX = np.array([0.15, 0.25, 0.6])
_BAD_SHARE = 0.01
_BURST_BAD_SHARE = 0.5


@dataclass(frozen=True)
class Traffic:
    """A batch of requests drawn for one moment of the replay."""

    features: pd.DataFrame
    #: The true class of each row, in :data:`CLASSES`.
    labels: NDArray[np.str_]
    #: Rows sent malformed (their request fails with 400 and is recorded as bad input).
    malformed: NDArray[np.bool_]


class Scenario:
    """Draws applicants and their true outcome for any point ``u`` in ``[0, 1]`` of the replay."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def phase_names(self, u: float) -> tuple[str, ...]:
        """The phases that hold at ``u`` (the error burst overlaps the concept drift)."""
        return tuple(p.name for p in PHASES if p.start <= u < p.end or (u >= 1.0 and p.end == 1.0))

    def reference(self, n: int) -> Traffic:
        """``n`` rows as the model was trained on (no malformed rows)."""
        return self._draw(n, u=0.0, malformed_share=0.0)

    def at(self, u: float, n: int) -> Traffic:
        """``n`` rows of the replay at ``u``."""
        burst = _BURST.start <= u < _BURST.end
        return self._draw(n, u=u, malformed_share=_BURST_BAD_SHARE if burst else _BAD_SHARE)

    def _draw(self, n: int, *, u: float, malformed_share: float) -> Traffic:
        rng = self._rng
        x = rng.normal(0.0, 1.0, (n, len(NUMERIC)))
        mix = _SEGMENT_MIX
        if _SHIFT.start <= u < _SHIFT.end:
            x[:, 3] += 2.5
            x[:, 4] *= 2.0
            mix = _SHIFTED_SEGMENT_MIX
        segment = np.asarray(SEGMENTS)[rng.choice(len(SEGMENTS), size=n, p=mix)]
        labels = np.asarray(CLASSES)[self._outcome(x, u)]
        frame = pd.DataFrame(x, columns=list(NUMERIC))
        frame["segment"] = segment
        return Traffic(frame, labels, rng.random(n) < malformed_share)

    def _outcome(self, x: NDArray[np.float64], u: float) -> NDArray[np.intp]:
        """1 (good) or 0 (bad): a logistic draw on the weights of the moment."""
        weights = _WEIGHTS.copy()
        turned = float(np.clip((u - _CONCEPT.start) / (_CONCEPT_FULL - _CONCEPT.start), 0, 1))
        weights[0] *= 1.0 - 2.0 * turned
        chance_good = 1.0 / (1.0 + np.exp(-2.0 * (x @ weights)))
        good: NDArray[np.intp] = (self._rng.random(len(x)) < chance_good).astype(np.intp)
        return good
