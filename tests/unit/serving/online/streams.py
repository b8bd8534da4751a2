"""Generated streams and a ready learner for the online-learning tests."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.config import FeatureInput, ModelConfig
from serving.online.config import GuardConfig, OnlineConfig
from serving.online.learner import Learner
from serving.online.memory import MemoryStore
from serving.online.models import LearningModel
from serving.online.runtime import load_model

FEATURES = ("f0", "f1", "f2", "f3")
CLASSES = ("no", "yes")
_MODULE = "driftline_test_online_models"
LEARNING_RATE = 0.1


def hyperplane(
    n: int, *, seed: int, rotate_from: int | None = None, rotate_over: int = 3_000
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Uniform rows in [-1, 1]^4; class 1 above a hyperplane that may turn by 90°."""
    rng = np.random.default_rng(seed)
    rows = rng.uniform(-1, 1, (n, len(FEATURES)))
    angle = np.zeros(n)
    if rotate_from is not None:
        angle = np.clip((np.arange(n) - rotate_from) / rotate_over, 0, 1) * np.pi / 2
    above = rows[:, 0] * np.cos(angle) + rows[:, 1] * np.sin(angle) > 0
    noise = rng.random(n) < 0.05
    return rows, (above ^ noise).astype(np.int64)


def river_model(rows: NDArray[np.float64], classes: NDArray[np.int64]) -> Any:
    """A river logistic regression trained on ``rows`` (taught False / True)."""
    from river import linear_model, optim, preprocessing

    model = preprocessing.StandardScaler() | linear_model.LogisticRegression(
        optimizer=optim.SGD(LEARNING_RATE)
    )
    for row, y in zip(rows.tolist(), classes.tolist(), strict=True):
        model.learn_one(dict(zip(FEATURES, row, strict=True)), bool(y))
    return model


def model_config(model: Any, directory: Path, *, name: str = "m", **guard: Any) -> ModelConfig:
    """A learning model's configuration; ``model`` is served as a python attribute."""
    module = sys.modules.get(_MODULE)
    if module is None:
        module = types.ModuleType(_MODULE)
        sys.modules[_MODULE] = module
    setattr(module, name, model)
    learning = OnlineConfig(
        task="binary_classification",
        classes=CLASSES,
        labels="boolean",
        snapshot_dir=str(directory),
        snapshot_every=500,
        snapshot_seconds=1e9,
        guard=GuardConfig(**guard),
    )
    return ModelConfig(
        name=name,
        version="1",
        runtime="python",
        uri=f"{_MODULE}:{name}",
        features=tuple(FeatureInput(f) for f in FEATURES),
        learning=learning,
    )


class Served:
    """What a server would answer with: the last published snapshot."""

    def __init__(self) -> None:
        self.config: ModelConfig | None = None
        self.model: LearningModel | None = None
        self.published: list[str] = []

    def __call__(self, config: ModelConfig) -> None:
        self.config = config
        self.model = load_model(config)
        self.published.append(config.version)

    def accuracy(self, rows: NDArray[np.float64], truth: NDArray[np.int64]) -> float:
        assert self.model is not None
        answers = self.model.predict(rows)
        return float((answers == np.array(CLASSES, dtype=object)[truth]).mean())


def start(config: ModelConfig, store: MemoryStore) -> tuple[Learner, Served]:
    served = Served()
    learner = Learner(config, store, publish=served)
    served(learner.start())
    return learner, served


def feed(learner: Learner, store: MemoryStore, rows: Any, labels: Any, first: int) -> None:
    """Queue labelled examples (ids ``r<first>``…) and learn until caught up or frozen."""
    ids = [f"r{i}" for i in range(first, first + len(rows))]
    store.add(ids, rows, labels)
    while store.pending and not learner.frozen:
        learner.step()
