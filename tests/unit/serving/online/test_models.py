"""river and scikit-learn models behind one batch interface, in the project's labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier, SGDRegressor

from serving.online.config import GuardConfig, OnlineConfig, OnlineConfigError
from serving.online.models import LearningModel, NotLearntError
from tests.unit.serving.online.streams import FEATURES, hyperplane, river_model

BINARY = OnlineConfig(task="binary_classification", classes=("0", "1"))


def test_a_fitted_partial_fit_classifier_answers_and_learns_in_declared_labels() -> None:
    rows, truth = hyperplane(400, seed=1)
    estimator = SGDClassifier(loss="log_loss", random_state=0).fit(rows, truth)  # ints 0 / 1
    model = LearningModel(estimator, config=BINARY, feature_names=FEATURES)
    answers = model.predict(rows[:5])
    assert set(answers.tolist()) <= {"0", "1"}
    proba = model.predict_proba(rows[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba, estimator.predict_proba(rows[:5]))
    model.learn(rows[:10], ["1"] * 10)  # declared labels, taught as the estimator's ints
    assert estimator.classes_.tolist() == [0, 1]


def test_an_unfitted_estimator_learns_the_declared_classes_first() -> None:
    rows, truth = hyperplane(200, seed=2)
    model = LearningModel(SGDClassifier(random_state=0), config=BINARY, feature_names=FEATURES)
    with pytest.raises(NotLearntError, match="not learnt anything yet"):
        model.predict(rows[:1])
    model.learn(rows, [str(c) for c in truth.tolist()])
    assert model.predict(rows[:3]).dtype == object


def test_a_regressor_learns_targets() -> None:
    rows = np.random.default_rng(0).normal(size=(300, 4))
    target = rows @ np.array([1.0, -2.0, 0.5, 0.0])
    config = OnlineConfig(task="regression")
    model = LearningModel(SGDRegressor(random_state=0), config=config, feature_names=FEATURES)
    before = None
    for _ in range(5):
        for start in range(0, 300, 30):
            model.learn(rows[start : start + 30], target[start : start + 30].tolist())
        error = np.abs(model.predict(rows) - target).mean()
        before = error if before is None else before
    assert error < before / 2


def test_river_binary_classifiers_are_taught_booleans() -> None:
    pytest.importorskip("river")
    rows, truth = hyperplane(300, seed=3)
    config = OnlineConfig(task="binary_classification", classes=("no", "yes"), labels="boolean")
    model = LearningModel(river_model(rows, truth), config=config, feature_names=FEATURES)
    assert set(model.predict(rows[:20]).tolist()) <= {"no", "yes"}
    assert model.predict_proba(rows[:300]).sum(axis=1) == pytest.approx(1.0)  # *_many path
    model.learn(rows[:5], ["yes"] * 5)


def test_models_that_cannot_learn_or_disagree_on_classes_are_refused() -> None:
    with pytest.raises(OnlineConfigError, match=r"needs learn_one \(river\) or partial_fit"):
        LearningModel(object(), config=BINARY, feature_names=FEATURES)
    rows, truth = hyperplane(100, seed=4)
    fitted = SGDClassifier(random_state=0).fit(rows, np.array(["a", "b"])[truth])
    with pytest.raises(OnlineConfigError, match=r"fitted with classes \['a', 'b'\]"):
        LearningModel(fitted, config=BINARY, feature_names=FEATURES)
    with pytest.raises(OnlineConfigError, match="boolean is for binary_classification"):
        OnlineConfig(task="multiclass_classification", classes=("a", "b", "c"), labels="boolean")
    with pytest.raises(OnlineConfigError, match=r"guard.window must be an integer >= 10"):
        OnlineConfig(task="regression", guard=GuardConfig(window=3))
