"""Seeded row samples that depend on the rows' content, never on their order.

The multivariate tests sample rows (to cap their cost) and split them into folds or
permutations by position. Positions come from the input's row order, so shuffling the rows
of a file would change the result. Instead every row gets a seeded 64-bit key computed from
its values (a splitmix64 mix of each value's bits, salted per column), and the k-th copy of
a repeated row gets a key of its own. Rows are then taken in key order: a uniform random
order given the seed, the same whatever order the rows came in (identical rows are
interchangeable). Cost: O(n d) integer operations and two sorts of n keys.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ordered", "ordered_keys", "salt"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser, a bijection of uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def salt(seed: int, size: int) -> NDArray[np.uint64]:
    """``size`` seeded 64-bit salts."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64 - 1, size=size, dtype=np.uint64, endpoint=True)


def ordered(rows: NDArray[np.float64], seed: int, limit: int | None = None) -> NDArray[np.intp]:
    """Indices of at most ``limit`` rows in seeded key order (all rows when ``limit`` is None).

    Examples
    --------
    >>> rows = np.arange(10.0).reshape(5, 2)
    >>> picked = rows[ordered(rows, seed=1, limit=3)]
    >>> bool((picked == rows[::-1][ordered(rows[::-1], seed=1, limit=3)]).all())
    True
    """
    width = rows.shape[1]
    values = np.where(np.isnan(rows), np.nan, rows + 0.0)  # one NaN, no negative zero
    bits = np.ascontiguousarray(values).view(np.uint64)
    salts = salt(seed, width)
    with np.errstate(over="ignore"):
        keys = _mix(bits ^ salts).sum(axis=1, dtype=np.uint64)
    return ordered_keys(keys, seed, limit)


def ordered_keys(keys: NDArray[np.uint64], seed: int, limit: int | None = None) -> NDArray[np.intp]:
    """Indices of at most ``limit`` items in seeded order of their content ``keys``.

    Equal keys (repeated items) are told apart by their copy number, so a sample of
    repeated items is a sample of copies, not all copies of a few items.
    """
    n = len(keys)
    with np.errstate(over="ignore"):
        key = _mix(keys ^ salt(seed + 1, 1)[0])
        order = np.argsort(key, kind="stable")
        copy = np.zeros(n, dtype=np.uint64)
        if n > 1:
            sorted_key = key[order]
            new = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
            starts = np.maximum.accumulate(np.where(new, np.arange(n), 0))
            copy[order] = (np.arange(n) - starts).astype(np.uint64)
        key = _mix(key ^ _mix(copy + salt(seed + 2, 1)[0]))
    order = np.argsort(key, kind="stable")
    return order if limit is None else order[:limit]
