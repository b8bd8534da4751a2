"""How an ensemble combines its members' answers to one output.

A combiner takes one array per member, in the order the ensemble lists its members, each
with the rows of the request first, and returns the combined array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.model import resolve_callable

__all__ = ["Combiner", "combiner", "mean", "vote"]

Combiner = Callable[[Sequence[NDArray[Any]]], NDArray[Any]]


def mean(values: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """The element-wise mean, as float64.

    Examples
    --------
    >>> mean([np.array([[0.2, 0.8]]), np.array([[0.4, 0.6]])]).tolist()
    [[0.30000000000000004, 0.7]]
    """
    stacked = np.stack([np.asarray(value, dtype=np.float64) for value in values])
    result: NDArray[Any] = stacked.mean(axis=0)
    return result


def vote(values: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """Per row, the label most members gave; a tie goes to the earliest member's label.

    Among the labels with the most votes, the one given by the member listed first wins,
    whatever the labels' types (no ordering of labels is needed).

    Examples
    --------
    >>> vote([np.array(["a", "b", "c"]), np.array(["b", "b", "a"]), np.array(["b", "c", "b"])])
    array(['b', 'b', 'c'], dtype='<U1')
    """
    shape = np.shape(values[0])
    labels = np.stack([np.asarray(value).reshape(len(value)) for value in values], axis=1)
    agree = np.equal(labels[:, :, None], labels[:, None, :]).astype(np.int64)
    winner = agree.sum(axis=2).argmax(axis=1)  # argmax takes the first of the tied
    result: NDArray[Any] = labels[np.arange(len(labels)), winner]
    return result.reshape(shape)


def combiner(combine: str, *, what: str) -> Combiner:
    """The function ``combine`` names: ``mean``, ``vote`` or ``package.module:function``.

    Raises
    ------
    RuntimeLoadError
        When the reference cannot be imported or is not callable.
    """
    if combine == "mean":
        return mean
    if combine == "vote":
        return vote
    function: Combiner = resolve_callable(combine, what=f"{what}: combiner")
    return function
