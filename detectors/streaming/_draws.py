"""Rows of ``random.Random.sample(range(n), k)`` computed from Mersenne Twister words.

CPython (3.11–3.13) draws each pick ``j = _randbelow(m)`` by rejection: take the next 32-bit
word ``w``, keep ``w >> (32 − m.bit_length())`` if it is below ``m``, else take another word.
When ``n`` is small next to ``k`` (``n <= 21 + 4 ** ceil(log4(3k))`` for ``k > 5``) it picks
from a pool, ``m = n − i`` for the ``i``-th pick, moving the pool's last candidate into the
hole; otherwise it picks ``m = n`` until the pick is new.

:func:`pooled_rows` computes the pool branch for many rows at once. The only sequential
part is which word each pick uses; with ``r = w >> (32 − n.bit_length())``, pick ``i`` keeps
the first word with ``r < T_i`` (``T_i = m_i`` scaled to the same bits), so each word becomes
one byte (how many of the sorted thresholds it reaches) and a compiled regular expression of
``k`` "skip rejected bytes, take one accepted byte" steps finds where each row ends, at C
speed. Within the rows, found at once, each pick's word is then found for all rows together,
and the pool moves run as ``k`` vectorised steps. :func:`looped_rows` does the same word by
word in Python, for the set branch and for ``k > 254``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = ["Words", "looped_rows", "pooled_rows", "uses_pool"]

Rows = tuple[NDArray[np.int64], NDArray[np.int64]]
_FETCH = 1 << 14


def uses_pool(n: int, k: int) -> bool:
    """Whether CPython's ``sample`` picks from a pool (else from a set of picks)."""
    setsize = 21 + (4 ** math.ceil(math.log(k * 3, 4)) if k > 5 else 0)
    return n <= setsize


class Words:
    """A generator's 32-bit outputs, fetched in bulk; :attr:`used` counts those consumed."""

    def __init__(self, generator: np.random.MT19937) -> None:
        self._generator = generator
        self._pending = np.empty(0, dtype=np.uint64)
        self.used = 0

    def peek(self, count: int) -> NDArray[np.uint64]:
        """At least ``count`` upcoming words, not consumed."""
        if self._pending.size < count:
            more = self._generator.random_raw(max(count - self._pending.size, _FETCH))
            self._pending = np.concatenate((self._pending, more))
        return self._pending

    def consume(self, count: int) -> None:
        self._pending = self._pending[count:]
        self.used += count


def pooled_rows(words: Words, n: int, k: int, rows: int) -> Rows:
    """``rows`` pool-branch rows (needs ``k <= 254``) and the words used after each row."""
    shift_all = np.uint64(32 - n.bit_length())
    per_row, shifts, code_of, ranks, pattern = _plan(n, k)
    found: list[NDArray[np.int64]] = []
    ends: list[NDArray[np.int64]] = []
    while rows > 0:
        buffer = words.peek(int(rows * per_row) + 64)
        codes = code_of[buffer >> shift_all]
        # One C-level scan for the rows' lengths. After the buffer's last complete row,
        # findall would go on searching from later positions: _picks finds where that
        # happens (a row that does not end where its picks do) and the rows stop there.
        lengths = [len(row) for row in pattern.findall(codes.tobytes())]
        stops = np.cumsum(np.array(lengths[:rows], dtype=np.int64))
        picks, good = _picks(codes, stops, ranks)
        if good == 0:  # the buffer was too short for even one row
            words.peek(2 * buffer.size)
            continue
        values = (buffer[picks[:good]] >> shifts).astype(np.int64)
        found.append(_pool_moves(values, n))
        ends.append(words.used + stops[:good])
        words.consume(int(stops[good - 1]))
        rows -= good
    return np.concatenate(found), np.concatenate(ends)


@lru_cache(maxsize=32)
def _plan(
    n: int, k: int
) -> tuple[float, NDArray[np.uint64], NDArray[np.uint8], list[int], re.Pattern[bytes]]:
    """Expected words per row (a little over), per-pick shifts, each word's byte, each
    pick's largest accepted byte and the row pattern."""
    bits = n.bit_length()
    below = [n - i for i in range(k)]
    shifts = np.array([32 - m.bit_length() for m in below], dtype=np.uint64)
    scaled = [m << (bits - m.bit_length()) for m in below]  # r < T_i, r on `bits` bits
    thresholds = np.array(sorted(set(scaled)), dtype=np.int64)
    code_of = np.searchsorted(thresholds, np.arange(1 << bits), side="right").astype(np.uint8)
    ranks = [int(np.searchsorted(thresholds, t)) for t in scaled]  # accepted: code <= rank
    top = len(thresholds)
    steps = []
    for rank in ranks:
        skip = re.escape(bytes([rank + 1])) + b"-" + re.escape(bytes([top]))
        keep = b"\\x00-" + re.escape(bytes([rank]))
        steps.append(b"[" + skip + b"]*[" + keep + b"]")
    per_row = 1.05 * sum((1 << m.bit_length()) / m for m in below)
    return per_row, shifts, code_of, ranks, re.compile(b"".join(steps), re.DOTALL)


def _picks(
    codes: NDArray[np.uint8], stops: NDArray[np.int64], ranks: list[int]
) -> tuple[NDArray[np.int64], int]:
    """The word each pick of each row kept, rows starting where the previous one stops;
    and how many leading rows end where ``stops`` says (the others are to be dropped)."""
    padded = np.concatenate((codes, np.zeros(len(ranks) + 1, dtype=np.uint8)))  # accepted
    position = np.concatenate(([0], stops[:-1])).astype(np.int64)
    picks = np.empty((stops.size, len(ranks)), dtype=np.int64)
    for i, rank in enumerate(ranks):
        rejected = np.flatnonzero(padded[position] > rank)
        while rejected.size:
            position[rejected] += 1
            rejected = rejected[padded[position[rejected]] > rank]
        picks[:, i] = position
        position = position + 1
    consistent = (position == stops) & (position <= codes.size)
    good = stops.size if consistent.all() else int(np.argmin(consistent))
    return picks, good


def _pool_moves(values: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Row by row: take ``pool[j]``, move the pool's last candidate into its place.

    The pools are one flat array, row after row, indexed directly (faster than 2-D fancy
    indexing).
    """
    rows, k = values.shape
    flat = np.tile(np.arange(n, dtype=np.min_scalar_type(n)), rows)
    base = np.arange(rows, dtype=np.int64) * n
    out = np.empty((k, rows), dtype=np.int64)
    for i in range(k):
        taken = base + values[:, i]
        out[i] = flat[taken]
        flat[taken] = flat[base + (n - i - 1)]
    return out.T


def looped_rows(words: Words, n: int, k: int, rows: int) -> Rows:
    """Rows drawn word by word in Python (either branch)."""
    pooled = uses_pool(n, k)
    out = np.empty((rows, k), dtype=np.int64)
    ends = np.empty(rows, dtype=np.int64)
    budget = 4 * k + 64
    for row in range(rows):
        used = -1
        while used < 0:  # -1: the row needed more words than fetched (rare): fetch more
            stream = words.peek(budget)[:budget].tolist()
            picks, used = _pool_row(stream, n, k) if pooled else _set_row(stream, n, k)
            budget = 2 * budget if used < 0 else budget
        out[row] = picks
        words.consume(used)
        ends[row] = words.used
    return out, ends


def _pool_row(stream: list[int], n: int, k: int) -> tuple[list[int], int]:
    pool, row, index = list(range(n)), [], 0
    for i in range(k):
        below = n - i
        shift = 32 - below.bit_length()
        while True:
            if index == len(stream):
                return [], -1
            value = stream[index] >> shift
            index += 1
            if value < below:
                break
        row.append(pool[value])
        pool[value] = pool[below - 1]
    return row, index


def _set_row(stream: list[int], n: int, k: int) -> tuple[list[int], int]:
    shift = 32 - n.bit_length()
    picked: set[int] = set()
    row: list[int] = []
    index = 0
    while len(row) < k:
        if index == len(stream):
            return [], -1
        value = stream[index] >> shift
        index += 1
        if value < n and value not in picked:
            picked.add(value)
            row.append(value)
    return row, index
