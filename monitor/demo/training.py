"""The demo's classifier and its reference dataset, trained on generated data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import joblib  # type: ignore[import-untyped]
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from monitor.demo.scenario import CLASSES, NUMERIC, Scenario

__all__ = ["TrainedModel", "train"]

_TRAIN_ROWS = 6_000
_REFERENCE_ROWS = 5_000


@dataclass(frozen=True)
class TrainedModel:
    """Where the model and its reference went, and how good the model is on the reference."""

    model_path: Path
    reference_path: Path
    reference_accuracy: float


def train(scenario: Scenario, directory: Path) -> TrainedModel:
    """Fit a logistic regression on generated applicants; write ``model.joblib`` and
    ``reference.csv`` (features, target, the model's prediction and probabilities) into
    ``directory``."""
    training = scenario.reference(_TRAIN_ROWS)
    pipeline = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("numbers", StandardScaler(), list(NUMERIC)),
                        ("segment", OneHotEncoder(handle_unknown="ignore"), ["segment"]),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(max_iter=1_000)),
        ]
    )
    pipeline.fit(training.features, training.labels)
    if tuple(pipeline.classes_) != CLASSES:  # the served probabilities follow this order
        raise RuntimeError(f"classes {pipeline.classes_} differ from {CLASSES}")
    model_path = directory / "model.joblib"
    joblib.dump(pipeline, model_path)

    held_out = scenario.reference(_REFERENCE_ROWS)
    frame = held_out.features.copy()
    frame["target"] = held_out.labels
    frame["prediction"] = pipeline.predict(held_out.features)
    probabilities = pipeline.predict_proba(held_out.features)
    for index, name in enumerate(CLASSES):
        frame[f"proba_{name}"] = probabilities[:, index]
    reference_path = directory / "reference.csv"
    frame.to_csv(reference_path, index=False)
    accuracy = float(np.mean(frame["prediction"].to_numpy() == held_out.labels))
    return TrainedModel(model_path, reference_path, accuracy)
