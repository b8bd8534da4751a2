"""Python models the ``python`` runtime tests import by ``package.module:attribute``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

NOT_A_MODEL = 42


def row_sums(features: NDArray[Any]) -> NDArray[Any]:
    """One number per row."""
    total: NDArray[Any] = np.asarray(features, dtype=np.float64).sum(axis=1)
    return total


def label_and_score(features: NDArray[Any]) -> dict[str, NDArray[Any]]:
    """Two outputs: a text label and a score."""
    score = np.asarray(features, dtype=np.float64).sum(axis=1)
    return {"label": np.where(score > 10, "high", "low"), "score": score}


def refuses_negatives(features: NDArray[Any]) -> NDArray[Any]:
    """Raises ValueError, as a model refusing its input does."""
    if (features < 0).any():
        raise ValueError("negative values are not allowed")
    return features[:, 0]


def one_row(features: NDArray[Any]) -> NDArray[Any]:
    """Answers one row whatever it gets."""
    return np.zeros(1)


def train_classifier() -> LogisticRegression:
    """A zero-argument factory returning a fitted estimator."""
    features, target = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=1000).fit(features, target)


def broken_factory() -> Any:
    """A factory that fails."""
    raise RuntimeError("the weights are missing")


class Doubler:
    """A class with predict, built without arguments."""

    def predict(self, features: NDArray[Any]) -> NDArray[Any]:
        return np.asarray(features, dtype=np.float64)[:, 0] * 2


class Scaled:
    """Namespace holding a function, for a dotted attribute."""

    @staticmethod
    def first(features: NDArray[Any]) -> NDArray[Any]:
        return np.asarray(features, dtype=np.float64)[:, 0]
