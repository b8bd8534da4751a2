"""ADWIN's exponential histogram computed for a whole chunk of values at once.

Between two resets ADWIN only ever inserts (it drops buckets only when it detects, and the
next update resets it), so its buckets are a function of the number ``N`` of values seen:

- Row 0 receives every value; a row holding ``max_buckets + 1`` buckets merges its two
  oldest into one bucket of the next row. The number of buckets row ``i`` has received is
  ``K_0 = N``, ``K_{i+1} = max(0, (K_i − max_buckets + 1) // 2)``, and row ``i`` holds the
  ``i``-level nodes ``2 K_{i+1} … K_i − 1``.
- Node ``j`` of level ``i`` summarises values ``j·2^i … (j+1)·2^i − 1``: it is the merge of
  nodes ``2j`` and ``2j + 1`` of level ``i − 1``, whatever the moment the merge happens.

So every bucket of every moment can be computed level by level with numpy, each merge with
the floating-point operations of the per-value merge. A :class:`Levels` holds, per level,
the nodes from the oldest one still in its row before the chunk to the newest the chunk
completes; :func:`cuts` evaluates ADWIN's cut test at many moments at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

__all__ = ["Levels", "cuts", "received"]


def received(n: NDArray[np.int64], max_buckets: int) -> NDArray[np.int64]:
    """``K_i`` for each count in ``n``: shape ``(rows + 1, n.size)``, the last row zero."""
    counts = [np.asarray(n, dtype=np.int64)]
    while counts[-1].any():
        counts.append(np.maximum((counts[-1] - max_buckets + 1) // 2, 0))
    if len(counts) == 1:
        counts.append(np.zeros_like(counts[0]))
    return np.stack(counts)


@dataclass
class Levels:
    """Per level ``i``: totals and variances of consecutive nodes from node ``first[i]``."""

    totals: list[NDArray[np.float64]]
    variances: list[NDArray[np.float64]]
    first: list[int]

    @cached_property
    def flat(self) -> NDArray[np.float64]:
        """All levels' totals end to end."""
        return np.concatenate(self.totals)

    @cached_property
    def offsets(self) -> NDArray[np.int64]:
        """Where each level starts in :attr:`flat`."""
        return np.cumsum([0] + [t.size for t in self.totals[:-1]], dtype=np.int64)

    @classmethod
    def build(
        cls,
        rows: list[tuple[list[float], list[float]]],
        seen: int,
        values: NDArray[np.float64],
        max_buckets: int,
    ) -> Levels:
        """The nodes of ``rows`` (the buckets after ``seen`` values) and of ``values``."""
        before = received(np.array([seen]), max_buckets)[:, 0]
        totals: list[NDArray[np.float64]] = []
        variances: list[NDArray[np.float64]] = []
        first: list[int] = []
        new_totals, new_variances = values, np.zeros(values.size)
        level = 0
        while True:
            old_totals, old_variances = rows[level] if level < len(rows) else ([], [])
            level_totals = np.concatenate((old_totals, new_totals))
            level_variances = np.concatenate((old_variances, new_variances))
            if level_totals.size == 0:
                break
            totals.append(level_totals)
            variances.append(level_variances)
            first.append(int(2 * before[level + 1]) if level + 1 < before.size else 0)
            new_totals, new_variances = _merge(level_totals, level_variances, float(1 << level))
            level += 1
        return cls(totals, variances, first)

    def rows(self, n: int, max_buckets: int) -> list[tuple[list[float], list[float]]]:
        """The buckets after ``n`` values, row by row, oldest first (as ADWIN keeps them)."""
        counts = received(np.array([n]), max_buckets)[:, 0]
        top = max(0, int(np.flatnonzero(counts[:-1])[-1]) if counts[:-1].any() else 0)
        out = []
        for level in range(top + 1):
            lo = int(2 * counts[level + 1]) - self.first[level]
            hi = int(counts[level]) - self.first[level]
            out.append((self.totals[level][lo:hi].tolist(), self.variances[level][lo:hi].tolist()))
        return out


def _merge(
    totals: NDArray[np.float64], variances: NDArray[np.float64], size: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Merge nodes 0+1, 2+3, … into the next level (an odd last node waits)."""
    pairs = totals.size // 2
    older, newer = totals[0 : 2 * pairs : 2], totals[1 : 2 * pairs : 2]
    gap = older / size - newer / size
    merged_variances = variances[0 : 2 * pairs : 2] + variances[1 : 2 * pairs : 2]
    merged_variances += size * 0.5 * gap * gap
    return older + newer, merged_variances


def cuts(
    levels: Levels,
    n: NDArray[np.int64],
    totals: NDArray[np.float64],
    variances: NDArray[np.float64],
    *,
    delta: float,
    max_buckets: int,
    min_window_length: int,
) -> NDArray[np.bool_]:
    """Whether ADWIN finds a cut after ``n`` values, window sum ``totals``, ``variances``.

    All splits of the window between consecutive buckets are evaluated at once: row by row
    from the oldest, bucket by bucket, with the sums ADWIN accumulates in that order.
    """
    received_ = received(n, max_buckets)
    level = np.arange(min(received_.shape[0] - 1, len(levels.totals)) - 1, -1, -1)  # oldest first
    # Cells (level, slot) down the rows, moments across: the sums run down axis 0.
    start = 2 * received_[level + 1][:, np.newaxis, :]  # first node of each row
    slot = np.arange(max_buckets)[np.newaxis, :, np.newaxis]
    present = slot < received_[level][:, np.newaxis, :] - start
    offset = (levels.offsets[level] - np.array(levels.first)[level])[:, np.newaxis, np.newaxis]
    index = np.where(present, offset + start + slot, 0)
    cells = level.size * max_buckets
    total = np.where(present, levels.flat[index], 0.0).reshape(cells, n.size)
    bucket = np.ldexp(1.0, level)[:, np.newaxis, np.newaxis]
    size = np.where(present, bucket, 0.0).reshape(cells, n.size)
    n0 = _running_sum(size)
    n1 = n.astype(np.float64) - n0
    u1 = _running_sum(np.concatenate((totals[np.newaxis, :], -total)))[1:]
    u0 = _running_sum(total)
    # ln(2 ln(width) / delta) with the C library's log, as the per-value path computes it.
    delta_prime = np.array([math.log(2.0 * math.log(w) / delta) if w > 1 else math.nan for w in n])
    spread = variances / n
    shortest = float(min_window_length)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = u0 / n0 - u1 / n1
        m_recip = 1.0 / (n0 - shortest + 1.0) + 1.0 / (n1 - shortest + 1.0)
        epsilon = np.sqrt(2.0 * m_recip * spread * delta_prime) + 2.0 / 3.0 * delta_prime * m_recip
        found = (n0 >= shortest) & (n1 >= shortest) & (np.abs(gap) > epsilon)
    return np.asarray(found.any(axis=0), dtype=np.bool_)


def _running_sum(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative sum down axis 0, in place, one row at a time (numpy's ``cumsum`` along
    axis 0 walks each column separately, many times slower on these short, wide arrays)."""
    for i in range(1, rows.shape[0]):
        np.add(rows[i - 1], rows[i], out=rows[i])
    return rows
