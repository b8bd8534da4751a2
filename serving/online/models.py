"""A model that predicts and learns: a river model or a scikit-learn ``partial_fit`` estimator.

:class:`LearningModel` gives both one batch interface, in the project's terms: feature rows
as a float64 ``(n, m)`` array in the declared order, classes as the declared labels (the
strings of ``classes:``), regression targets as floats.

- **river** (``learn_one``, ``predict_one``, ``predict_proba_one``): rows become
  ``{feature: value}`` dicts; the mini-batch forms ``predict_many`` and
  ``predict_proba_many`` (over pandas frames) are used for large batches when the model
  has them, and
  ``learn_many`` when the settings ask for it (``learn_many: true``). river learns
  classes as it meets them, so a river classifier is taught the declared labels (strings).
- **scikit-learn** (``partial_fit``): a fitted classifier keeps its own class values; they
  are matched to the declared labels by their text (``1`` and ``"1"``), so an estimator
  trained on integers learns and answers in the project's labels. An unfitted one is given
  the declared labels on its first ``partial_fit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.online.config import OnlineConfig, OnlineConfigError

__all__ = ["LearningModel", "NotLearntError"]

_MANY_ROWS = 256
"""From this many rows river's ``*_many`` forms (one pandas frame) beat a loop of ``*_one``
calls; below it the frame's construction costs more than it saves."""


class NotLearntError(ValueError):
    """The model has learnt nothing yet, so it cannot answer."""


class LearningModel:
    """One learning model behind a batch interface.

    Parameters
    ----------
    model
        The river model or the estimator with ``partial_fit``.
    config
        The model's online settings (task and classes).
    feature_names
        The declared features, in column order.

    Raises
    ------
    OnlineConfigError
        If the model can not learn incrementally, or a fitted classifier's classes are not
        the declared ones.
    """

    def __init__(self, model: Any, *, config: OnlineConfig, feature_names: Sequence[str]) -> None:
        self.model = model
        self.classes = config.classes
        self.is_classifier = config.is_classifier
        self.feature_names = tuple(feature_names)
        self.learn_many = config.learn_many
        name = type(model).__name__
        if callable(getattr(model, "learn_one", None)):
            self.flavour = "river"
        elif callable(getattr(model, "partial_fit", None)):
            self.flavour = "partial_fit"
        else:
            raise OnlineConfigError(
                f"a {name} can not learn online: it needs learn_one (river) or partial_fit "
                "(scikit-learn)"
            )
        if not callable(
            getattr(model, "predict_one" if self.flavour == "river" else "predict", None)
        ):
            raise OnlineConfigError(f"a {name} has no predict method")
        self._native, self._declared = _encoding(model, config, self.flavour)

    @property
    def has_proba(self) -> bool:
        """Whether the model gives class probabilities."""
        method = "predict_proba_one" if self.flavour == "river" else "predict_proba"
        return self.is_classifier and callable(getattr(self.model, method, None))

    # -- predicting ------------------------------------------------------------------------

    def predict(self, rows: NDArray[np.float64]) -> NDArray[Any]:
        """Labels (object array of declared classes) or values (float64), one per row.

        Raises
        ------
        NotLearntError
            If the model has not learnt anything yet.
        """
        if self.flavour == "river":
            predict_many = getattr(self.model, "predict_many", None)
            if callable(predict_many) and len(rows) >= _MANY_ROWS:
                answers = list(predict_many(self._frame(rows)))
            else:
                answers = [self.model.predict_one(x) for x in self._dicts(rows)]
        else:
            answers = self._sklearn("predict", rows).tolist()
        if any(answer is None for answer in answers):
            raise NotLearntError("the online model has not learnt anything yet")
        if self.is_classifier:
            return np.array([self._label(answer) for answer in answers], dtype=object)
        return np.asarray(answers, dtype=np.float64)

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Class probabilities, ``(n, len(classes))`` in the declared order."""
        out = np.zeros((len(rows), len(self.classes)), dtype=np.float64)
        column = {label: i for i, label in enumerate(self.classes)}
        if self.flavour == "river":
            many = getattr(self.model, "predict_proba_many", None)
            if callable(many) and len(rows) >= _MANY_ROWS:
                frame = many(self._frame(rows))
                for key in frame.columns:
                    label = self._declared.get(key)
                    if label is not None:
                        out[:, column[label]] = frame[key].to_numpy(dtype=np.float64)
                return out
            for i, x in enumerate(self._dicts(rows)):
                for key, p in self.model.predict_proba_one(x).items():
                    label = self._declared.get(key)
                    if label is not None:
                        out[i, column[label]] = p
            return out
        proba = self._sklearn("predict_proba", rows)
        for j, value in enumerate(np.asarray(self.model.classes_).tolist()):
            out[:, column[self._declared[value]]] = proba[:, j]
        return out

    # -- learning --------------------------------------------------------------------------

    def learn(self, rows: NDArray[np.float64], targets: Sequence[Any]) -> None:
        """Learn the examples, in order: declared class labels, or float targets."""
        if self.is_classifier:
            targets = [self._native[label] for label in targets]
        if self.flavour == "river":
            learn_many = getattr(self.model, "learn_many", None)
            if self.learn_many and callable(learn_many) and len(rows) > 1:
                import pandas as pd

                learn_many(self._frame(rows), pd.Series(list(targets)))
                return
            for x, y in zip(self._dicts(rows), targets, strict=True):
                self.model.learn_one(x, y)
            return
        if self.is_classifier:
            known = np.array([self._native[label] for label in self.classes])
            self.model.partial_fit(self._sklearn_input(rows), np.array(targets), classes=known)
        else:
            targets_array = np.asarray(targets, dtype=np.float64)
            self.model.partial_fit(self._sklearn_input(rows), targets_array)

    # -- helpers ---------------------------------------------------------------------------

    def _label(self, answer: Any) -> str:
        label = self._declared.get(answer)
        if label is None:
            raise ValueError(f"the model predicted {answer!r}, not one of {list(self.classes)}")
        return label

    def _dicts(self, rows: NDArray[np.float64]) -> list[dict[str, float]]:
        names = self.feature_names
        return [dict(zip(names, row, strict=True)) for row in rows.tolist()]

    def _frame(self, rows: NDArray[np.float64]) -> Any:
        import pandas as pd

        return pd.DataFrame(rows, columns=list(self.feature_names))

    def _sklearn_input(self, rows: NDArray[np.float64]) -> Any:
        """Rows as the estimator was fitted: a frame when it knows its features by name."""
        return self._frame(rows) if hasattr(self.model, "feature_names_in_") else rows

    def _sklearn(self, method: str, rows: NDArray[np.float64]) -> NDArray[Any]:
        from sklearn.exceptions import NotFittedError

        try:
            return np.asarray(getattr(self.model, method)(self._sklearn_input(rows)))
        except NotFittedError as error:
            raise NotLearntError(
                f"the online model has not learnt anything yet ({error})"
            ) from None


def _encoding(
    model: Any, config: OnlineConfig, flavour: str
) -> tuple[dict[str, Any], dict[Any, str]]:
    """Declared label → what the model is taught, and back (a fitted estimator's own values)."""
    if not config.is_classifier:
        return {}, {}
    classes = config.classes
    if config.labels == "index":
        native: dict[str, Any] = {label: i for i, label in enumerate(classes)}
    elif config.labels == "boolean":
        native = {classes[0]: False, classes[1]: True}
    else:
        native = {label: label for label in classes}
    fitted = getattr(model, "classes_", None) if flavour == "partial_fit" else None
    if fitted is not None:
        by_text = {str(value): label for label, value in native.items()}
        values = np.asarray(fitted).tolist()
        if sorted(map(str, values)) != sorted(by_text):
            raise OnlineConfigError(
                f"the {type(model).__name__} was fitted with classes {values}, but the model "
                f"declares {list(classes)} (taught as {list(native.values())})"
            )
        native = {by_text[str(value)]: value for value in values}
    return native, {value: label for label, value in native.items()}
