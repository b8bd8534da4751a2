"""Fitting a batch of feature rows to what a model reads: width, column order, number type.

The server hands every runtime the features in the order the model was deployed with. A
model file that knows its features by name (a scikit-learn estimator fitted on a data frame,
an XGBoost booster, an ONNX graph with one input per feature) may read them in another order
or read only some of them: :func:`column_order` works out, once at load, which declared
column feeds each of the model's features.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.errors import PredictionError, RuntimeLoadError

__all__ = ["as_numbers", "check_declared", "check_width", "column_order"]


def column_order(
    declared: Sequence[str], model_names: Sequence[str] | None, *, what: str
) -> NDArray[np.intp] | None:
    """Which declared column feeds each feature the model reads, in the model's order.

    Parameters
    ----------
    declared
        Feature names in the order the server passes them; empty when not declared.
    model_names
        Feature names the model file records, in its own order; ``None`` when it has none.
    what
        The model, for messages (``"xgboost model iris.json"``).

    Returns
    -------
    numpy.ndarray or None
        Column indices into the declared features, or ``None`` when the columns already
        arrive in the model's order (or nothing is known to reorder by).

    Raises
    ------
    RuntimeLoadError
        When the model reads a feature that is not declared.
    """
    if not declared or model_names is None:
        return None
    position = {name: index for index, name in enumerate(declared)}
    missing = [name for name in model_names if name not in position]
    if missing:
        raise RuntimeLoadError(
            f"{what} reads feature(s) {', '.join(map(repr, missing))}, which the model's "
            f"declared features ({', '.join(declared)}) do not include"
        )
    order = np.array([position[name] for name in model_names], dtype=np.intp)
    if len(order) == len(declared) and np.array_equal(order, np.arange(len(declared))):
        return None
    return order


def check_width(features: NDArray[Any], expected: int | None, *, what: str) -> None:
    """Refuse a batch whose number of columns is not the ``expected`` one (if known).

    Raises
    ------
    PredictionError
        Naming the model, the number of features it takes and the number it got.
    """
    if expected is not None and features.shape[1] != expected:
        raise PredictionError(f"{what} takes {expected} features, got {features.shape[1]}")


def as_numbers(features: NDArray[Any], dtype: np.dtype[Any], *, what: str) -> NDArray[Any]:
    """``features`` as a C-contiguous array of ``dtype``, for models that read numbers only.

    Floats cast to an integer or boolean type must be whole numbers (0 or 1 for booleans):
    a model never silently reads 2.7 as 2.

    Raises
    ------
    PredictionError
        When a value is not a number (a string, ``None``) or not representable in ``dtype``.
    """
    try:
        with np.errstate(invalid="ignore"):
            cast = np.ascontiguousarray(features, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise PredictionError(f"{what} takes numeric features: {error}") from error
    if dtype.kind in "biu" and features.dtype.kind in "fO" and not np.array_equal(cast, features):
        wanted = "0 or 1" if dtype.kind == "b" else "whole numbers"
        raise PredictionError(f"{what} takes {dtype} features; some values are not {wanted}")
    return cast


def check_declared(declared: Sequence[str], width: int | None, *, what: str) -> None:
    """At load, refuse declared features that cannot all feed a model of ``width`` columns.

    For models that do not know their features by name, so read the declared ones by
    position.

    Raises
    ------
    RuntimeLoadError
        Naming the model's width and the declared features.
    """
    if declared and width is not None and len(declared) != width:
        raise RuntimeLoadError(
            f"{what} takes {width} features, but {len(declared)} are declared: "
            f"{', '.join(declared)}"
        )
