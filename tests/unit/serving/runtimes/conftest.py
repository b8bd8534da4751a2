"""Small data sets bundled with scikit-learn (nothing is downloaded) for training test models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.datasets import load_breast_cancer, load_iris

Dataset = tuple[NDArray[np.float64], NDArray[Any]]


@pytest.fixture(scope="session")
def iris() -> Dataset:
    """150 rows, 4 features, classes 0, 1, 2."""
    features, target = load_iris(return_X_y=True)
    return features, target


@pytest.fixture(scope="session")
def breast_cancer() -> Dataset:
    """569 rows, 30 features, classes 0, 1."""
    features, target = load_breast_cancer(return_X_y=True)
    return features, target
