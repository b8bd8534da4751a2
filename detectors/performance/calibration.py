"""Probability calibration for CBPE: maps fitted on the labelled reference, applied per window.

Calibrators (``calibrator``):

- ``"isotonic"`` — ``IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)`` of the
  label on the probability (NannyML's choice); monotone, no shape assumed.
- ``"sigmoid"`` — Platt scaling: a logistic regression of the label on logit(p) (p clipped
  to [1e-12, 1 − 1e-12]), ``C=1e4`` so that the fit is practically unpenalised yet finite
  on separable data.

Two classes: the second class's probability is calibrated and the first gets one minus it.
More: each class one-vs-rest, then rows renormalised to sum to 1 (as scikit-learn's
``CalibratedClassifierCV``); a row whose calibrated values are all 0 keeps its raw ones.

**Is calibration needed?** With ``calibrate="auto"`` (NannyML's ``needs_calibration``), the
reference is split in ``folds`` seeded random folds; out-of-fold calibrated probabilities are
compared with the raw ones by the class-wise ECE (the mean over classes of the one-vs-rest
reliability ECE, 10 equal-width bins) and the calibrator is kept only if it lowers it. A
calibrated model thus stays uncalibrated rather than gaining the calibrator's noise.

Fitted maps are kept as arrays — isotonic knots, applied with ``np.interp`` exactly as
``IsotonicRegression.predict`` does, or Platt's two coefficients — so applying a calibration
needs numpy only. scikit-learn is imported when :func:`fit` runs, not with this module.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> p = rng.uniform(0.05, 0.95, 4000)
>>> y = (rng.random(4000) < p**2).astype(float)  # over-confident scores
>>> fitted = fit(y, np.column_stack([1 - p, p]), calibrate="auto")
>>> fitted.method, fitted.ece_calibrated < fitted.ece_raw
('isotonic', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.performance.scores import calibration_kernel

__all__ = ["Calibration", "Calibrator", "Mode", "classwise_error", "fit"]

Calibrator = Literal["isotonic", "sigmoid"]
Mode = Literal["auto", "always", "never"]
_CLIP = 1e-12
_BINARY = np.array([0.0, 1.0])


@dataclass(frozen=True, slots=True)
class Calibration:
    """A fitted calibration: per calibrated column, isotonic knots or Platt coefficients.

    Attributes
    ----------
    method
        ``"isotonic"``, ``"sigmoid"`` or ``"none"`` (identity).
    maps
        Per calibrated column (the second of two classes; else every class): ``(x, y)``
        knots for isotonic, ``(slope, intercept)`` as two 1-element arrays for sigmoid.
    ece_raw, ece_calibrated
        Class-wise ECE of the raw reference probabilities and of the out-of-fold calibrated
        ones (None when the check did not run).
    """

    method: Literal["isotonic", "sigmoid", "none"]
    maps: tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]
    ece_raw: float
    ece_calibrated: float | None

    def apply(self, proba: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated ``(n, k)`` probabilities of raw ``(n, k)`` ones."""
        if self.method == "none":
            return proba
        if proba.shape[1] == 2:
            positive = _map(self.method, self.maps[0], proba[:, 1])
            return np.column_stack([1.0 - positive, positive])
        mapped = np.column_stack(
            [_map(self.method, m, column) for m, column in zip(self.maps, proba.T, strict=True)]
        )
        total = mapped.sum(axis=1, keepdims=True)
        return np.where(total > 0, mapped / np.where(total > 0, total, 1.0), proba)


def fit(
    labels: NDArray[np.float64],
    proba: NDArray[np.float64],
    *,
    calibrator: Calibrator = "isotonic",
    calibrate: Mode = "auto",
    folds: int = 5,
    seed: int = 0,
) -> Calibration:
    """Fit a calibration on reference class indices ``labels`` (0 … k − 1) and ``(n, k)`` proba.

    Raises
    ------
    InvalidInputError
        On an unknown ``calibrator`` or ``calibrate``, or ``folds`` below 2.
    """
    _check(calibrator, get_args(Calibrator), "calibrator")
    _check(calibrate, get_args(Mode), "calibrate")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InvalidInputError(f"The 'folds' parameter must be an integer >= 2. Got {folds!r}.")
    raw = classwise_error(labels, proba)
    if calibrate == "never":
        return Calibration("none", (), raw, None)
    fitted = Calibration(calibrator, _fit_maps(calibrator, labels, proba), raw, None)
    if calibrate == "always":
        return fitted
    held_out = np.empty_like(proba)
    order = np.random.default_rng(seed).permutation(labels.size)
    for fold in np.array_split(order, folds):
        train = np.ones(labels.size, dtype=bool)
        train[fold] = False
        maps = _fit_maps(calibrator, labels[train], proba[train])
        held_out[fold] = Calibration(calibrator, maps, raw, None).apply(proba[fold])
    checked = classwise_error(labels, held_out)
    if checked < raw:
        return Calibration(calibrator, fitted.maps, raw, checked)
    return Calibration("none", (), raw, checked)


def classwise_error(labels: NDArray[np.float64], proba: NDArray[np.float64]) -> float:
    """Mean over classes of the one-vs-rest reliability ECE (10 bins); one class if two."""
    columns = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    errors = []
    for c in columns:
        target = (labels == c).astype(np.float64)
        pair = np.column_stack([1.0 - proba[:, c], proba[:, c]])
        errors.append(float(calibration_kernel(target, pair, _BINARY)(None)[0]))
    return float(np.mean(errors))


def _fit_maps(
    calibrator: Calibrator, labels: NDArray[np.float64], proba: NDArray[np.float64]
) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]:
    columns = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    return tuple(
        _fit_one(calibrator, proba[:, c], (labels == c).astype(np.float64)) for c in columns
    )


def _fit_one(
    calibrator: Calibrator, p: NDArray[np.float64], target: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if target.min() == target.max():  # one outcome only: every probability maps to it
        if calibrator == "isotonic":
            return np.array([0.0]), np.array([target[0]])
        return np.array([0.0]), np.array([np.inf if target[0] else -np.inf])
    if calibrator == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, target)
        knots = np.asarray(model.X_thresholds_, np.float64)
        return knots, np.asarray(model.y_thresholds_, np.float64)
    from sklearn.linear_model import LogisticRegression

    logistic = LogisticRegression(C=1e4).fit(_logit(p)[:, np.newaxis], target)
    return np.asarray(logistic.coef_[0], np.float64), np.asarray(logistic.intercept_, np.float64)


def _map(
    method: str, params: tuple[NDArray[np.float64], NDArray[np.float64]], p: NDArray[np.float64]
) -> NDArray[np.float64]:
    if method == "isotonic":
        return np.interp(p, params[0], params[1])
    with np.errstate(over="ignore"):
        odds = np.exp(-(params[0][0] * _logit(p) + params[1][0]))
    return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(p, _CLIP, 1.0 - _CLIP)
    return np.log(clipped) - np.log1p(-clipped)


def _check(value: object, options: tuple[str, ...], name: str) -> None:
    if value not in options:
        valid = ", ".join(map(repr, options))
        msg = f"The '{name}' parameter must be one of {valid}. Got {value!r} instead."
        raise InvalidInputError(msg)
