"""A small, deterministic credit-risk scorer: the model the Docker Compose stack serves.

``driftline serve`` loads it with the ``python`` runtime as ``credit_model:CreditScorer``
(``driftline.yaml`` beside this file): the class is called once, and the object it returns is
served like a scikit-learn classifier, ``predict`` giving the class labels and
``predict_proba`` their probabilities, in the order of ``classes_``. The weights are written
here, so there is no pickle file to trust and nothing to train.

The score is a logistic function of the standardised features: risk rises with the debt
ratio and falls with age, income and the length of the credit history.

Examples
--------
>>> import numpy as np
>>> scorer = CreditScorer()
>>> applicants = np.array([[55.0, 90_000.0, 0.10, 240.0], [22.0, 18_000.0, 0.80, 6.0]])
>>> scorer.predict(applicants).tolist()
['good', 'bad']
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["CLASSES", "FEATURES", "CreditScorer"]

FEATURES = ("age", "income", "debt_ratio", "credit_history_months")
"""The input columns, in the order the model reads them."""
CLASSES = ("good", "bad")
"""The class labels, in the column order of :meth:`CreditScorer.predict_proba`."""

_CENTER = np.array([40.0, 50_000.0, 0.35, 96.0])
_SCALE = np.array([12.0, 20_000.0, 0.15, 60.0])
_WEIGHTS = np.array([-0.4, -0.8, 1.5, -0.6])
_BIAS = -1.2


class CreditScorer:
    """Probability that an applicant defaults, from four numeric features."""

    def __init__(self) -> None:
        self.classes_: NDArray[np.str_] = np.array(CLASSES)
        self.n_features_in_ = len(FEATURES)

    def predict_proba(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(rows, 2)``: the probabilities of ``good`` and ``bad``.

        Raises
        ------
        ValueError
            If ``features`` is not ``(rows, 4)`` of finite numbers (the server answers 400).
        """
        rows = _checked(features)
        logit = _BIAS + ((rows - _CENTER) / _SCALE) @ _WEIGHTS
        bad = 0.5 * (1.0 + np.tanh(0.5 * logit))  # the logistic function, without overflow
        return np.column_stack([1.0 - bad, bad])

    def predict(self, features: NDArray[np.float64]) -> NDArray[np.str_]:
        """``(rows,)``: ``bad`` where its probability is at least one half, else ``good``."""
        bad = self.predict_proba(features)[:, 1] >= 0.5
        return self.classes_[bad.astype(np.intp)]


def _checked(features: NDArray[np.float64]) -> NDArray[np.float64]:
    rows = np.asarray(features, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != len(FEATURES):
        msg = f"expected rows of {len(FEATURES)} features ({', '.join(FEATURES)}), got {rows.shape}"
        raise ValueError(msg)
    if not np.isfinite(rows).all():
        raise ValueError(f"features must be finite numbers ({', '.join(FEATURES)})")
    return rows
