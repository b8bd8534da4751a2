"""The input gate of the performance metrics: labels, class lists, scores and probabilities.

Class labels are numbers (dictionary codes, as everywhere in :mod:`detectors`), stored as
float64. ``classes`` is the sorted list of class codes; probability and score matrices have one
column per class in that order (scikit-learn's ``predict_proba`` convention). When ``classes``
is not given it is the sorted union of the labels seen (``sklearn.utils.multiclass.unique_labels``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError

__all__ = [
    "as_classes",
    "as_probabilities",
    "as_scores",
    "as_vector",
    "encode",
    "same_length",
]

#: Rows of a probability matrix must sum to 1 within this relative tolerance (scikit-learn's).
SUM_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


def as_vector(values: ArrayLike, name: str, *, min_rows: int = 1) -> NDArray[np.float64]:
    """``values`` as a finite float64 1-D array (an ``(n, 1)`` column is accepted).

    Raises
    ------
    InvalidInputError
        If it is not numeric, not one column, shorter than ``min_rows`` or not finite.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"{name}: expected numbers in a 1-D array, got malformed input"
        raise InvalidInputError(msg) from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        msg = f"{name}: expected a 1-D array, got shape {array.shape}"
        raise InvalidInputError(msg)
    if array.size < min_rows:
        msg = f"{name}: found {array.size} row(s) while a minimum of {min_rows} is required"
        raise InvalidInputError(msg)
    if not np.isfinite(array).all():
        msg = f"{name}: holds NaN or an infinity; drop unlabelled rows before computing metrics"
        raise InvalidInputError(msg)
    return array


def same_length(*pairs: tuple[str, NDArray[Any]]) -> int:
    """The common number of rows of the named arrays, or :class:`InvalidInputError`."""
    lengths = {name: len(array) for name, array in pairs}
    if len(set(lengths.values())) > 1:
        msg = f"arrays must have one row per prediction, got lengths {lengths}"
        raise InvalidInputError(msg)
    return next(iter(lengths.values()))


def as_classes(classes: ArrayLike | None, *labels: NDArray[np.float64]) -> NDArray[np.float64]:
    """The sorted class codes: ``classes`` checked, or the union of the labels given.

    Raises
    ------
    InvalidInputError
        If ``classes`` is not a strictly increasing list of at least one finite code, or a
        label is not one of them.
    """
    if classes is None:
        found = np.unique(np.concatenate(labels)) if labels else np.empty(0)
        if found.size == 0:
            raise InvalidInputError("classes: no labels to take the classes from")
        return found
    array = as_vector(classes, "classes")
    if (np.diff(array) <= 0).any():
        msg = f"classes: expected strictly increasing class codes, got {array.tolist()}"
        raise InvalidInputError(msg)
    for values in labels:
        unknown = np.setdiff1d(values, array)
        if unknown.size:
            msg = f"labels {unknown[:5].tolist()} are not among classes {array.tolist()}"
            raise InvalidInputError(msg)
    return array


def encode(values: NDArray[np.float64], classes: NDArray[np.float64]) -> NDArray[np.intp]:
    """Index of each value in ``classes`` (every value must be one of them)."""
    index = np.searchsorted(classes, values)
    return np.minimum(index, classes.size - 1)


def as_scores(scores: ArrayLike, name: str, n: int, k: int) -> NDArray[np.float64]:
    """Scores as a finite float64 ``(n, k)`` matrix, or ``(n, 1)`` for a 1-D binary score.

    A 1-D score (allowed only with two classes) is the score of the second class.

    Raises
    ------
    InvalidInputError
        On a wrong shape, a row count other than ``n`` or a non-finite value.
    """
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"{name}: expected numbers, got malformed input"
        raise InvalidInputError(msg) from None
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2 or array.shape[0] != n:
        msg = f"{name}: expected shape ({n},) or ({n}, {k}), got {array.shape}"
        raise InvalidInputError(msg)
    if array.shape[1] == 1 and k != 2:
        msg = f"{name}: a 1-D score is for two classes, but there are {k}; give ({n}, {k})"
        raise InvalidInputError(msg)
    if array.shape[1] not in (1, k):
        msg = f"{name}: expected one column per class ({k}), got {array.shape[1]}"
        raise InvalidInputError(msg)
    if not np.isfinite(array).all():
        raise InvalidInputError(f"{name}: holds NaN or an infinity")
    return array


def as_probabilities(proba: ArrayLike, name: str, n: int, k: int) -> NDArray[np.float64]:
    """Probabilities as an ``(n, k)`` matrix; a 1-D array is P(second class) of two.

    Raises
    ------
    InvalidInputError
        As :func:`as_scores`, or if a value is outside [0, 1] or a row does not sum to 1
        (relative tolerance √eps, scikit-learn's; rows are never renormalised silently).
    """
    array = as_scores(proba, name, n, k)
    if ((array < 0.0) | (array > 1.0)).any():
        raise InvalidInputError(f"{name}: probabilities must lie in [0, 1]")
    if array.shape[1] == 1:
        return np.column_stack([1.0 - array[:, 0], array[:, 0]])
    sums = array.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=SUM_TOLERANCE, atol=0.0):
        row = int(np.argmax(np.abs(sums - 1.0)))
        msg = f"{name}: each row must sum to 1; row {row} sums to {sums[row]!r}"
        raise InvalidInputError(msg)
    return array
