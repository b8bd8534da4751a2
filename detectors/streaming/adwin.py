"""ADWIN, adaptive windowing (Bifet and Gavaldà, 2007), as river implements it.

The window is an exponential histogram: row ``i`` holds buckets of ``2^i`` values (total and
sum of squared deviations), at most ``max_buckets`` per row; a row that overflows merges its
two oldest buckets into the next row. Every ``clock`` updates, once the window holds more
than ``grace_period`` values, every split of the window between two buckets into an old
part ``W0`` (``n0`` values) and a recent part ``W1`` (``n1``), both at least
``min_window_length`` long, is tested: a drift when ``|mean(W0) − mean(W1)| > ε`` with

    ε = sqrt(2 · m⁻¹ · σ² · δ') + 2/3 · δ' · m⁻¹,   δ' = ln(2 ln|W| / delta),
    m⁻¹ = 1 / (n0 − min_window_length + 1) + 1 / (n1 − min_window_length + 1),

``σ²`` the variance of the whole window. On a drift the oldest bucket is dropped and the
test repeats; the update reports the drift, and the next update starts a new window.

The arithmetic follows river's (the Rust ``AdaptiveWindowing`` of river 0.26) operation by
operation, so windows, sums and detections are the same numbers.
:meth:`ADWIN.update_many` computes the buckets of a whole chunk with numpy
(:mod:`detectors.streaming._adwin_window`) and tests all the chunk's clock ticks at once.

Cost: each tested tick evaluates every split, about ``max_buckets`` per row and
``log2(width / max_buckets)`` rows; ``clock=1`` tests 32 times as many ticks as the default
and costs about that much more. :meth:`ADWIN.update` is plain Python (a few microseconds an
update, more on tested ticks).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from detectors.outcome import JSONValue
from detectors.streaming._adwin_window import Levels, cuts, received
from detectors.streaming._base import StreamingDetector
from detectors.streaming._params import check_float, check_int
from detectors.streaming._state import StateReader, encode_float, encode_floats

__all__ = ["ADWIN"]

#: Clock ticks tested in one vectorised batch (bounds the memory of :func:`cuts`).
_TICKS_PER_BATCH = 2048


class ADWIN(StreamingDetector):
    """Adaptive windowing: a change in the mean between an old and a recent part of a window.

    Parameters
    ----------
    delta
        Confidence of the cut test, in ``(0, 1)``; smaller means fewer, later detections.
    clock
        Test every ``clock`` updates (1 tests every update and detects earlier).
    max_buckets
        Buckets kept per row before the two oldest merge; at least 2.
    min_window_length
        Shortest old or recent part of a split.
    grace_period
        Values the window must exceed before it is tested.

    Examples
    --------
    river's documented stream (``statistics.md`` §7.2): values in {0, 1}, then in 4–7.

    >>> import random
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> adwin = ADWIN()
    >>> [i for i, flag in enumerate(adwin.update_many(stream)) if flag]
    [1023]
    >>> adwin.width  # the window kept after the change
    976

    References
    ----------
    .. [1] Bifet, A. and Gavaldà, R. (2007). Learning from time-changing data with adaptive
       windowing. SIAM International Conference on Data Mining, 443–448.
    .. [2] river ``drift.ADWIN`` (compared with river 0.26.1 in the tests).
    """

    name = "adwin"
    # Each chunk rebuilds its buckets: ADWIN detects rarely, so start with larger chunks.
    first_chunk = 1 << 12

    def __init__(
        self,
        *,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        owner = type(self).__name__
        self.delta = check_float(
            owner, "delta", delta, low=0.0, high=1.0, low_open=True, high_open=True
        )
        self.clock = check_int(owner, "clock", clock, low=1)
        self.max_buckets = check_int(owner, "max_buckets", max_buckets, low=2)
        self.min_window_length = check_int(owner, "min_window_length", min_window_length, low=1)
        self.grace_period = check_int(owner, "grace_period", grace_period, low=0)
        super().__init__()

    @property
    def width(self) -> int:
        """Number of values in the window."""
        return self._width

    @property
    def total(self) -> float:
        """Sum of the values in the window."""
        return self._total

    @property
    def variance(self) -> float:
        """Variance of the values in the window (0 for an empty window)."""
        return self._variance / self._width if self._width else 0.0

    @property
    def estimation(self) -> float:
        """Mean of the values in the window (0 for an empty window)."""
        return self._total / self._width if self._width else 0.0

    def _reset_state(self) -> None:
        self._rows: list[tuple[list[float], list[float]]] = [([], [])]
        self._width = 0
        self._tick = 0
        self._total = 0.0
        self._variance = 0.0  # sum of squared deviations from the window's mean

    # --- one value ------------------------------------------------------------------------

    def _update(self, value: float) -> bool:
        self._insert(value)
        self._tick += 1
        if self._tick % self.clock != 0 or self._width <= self.grace_period:
            return False
        detected = False
        while self._find_cut():
            detected = True
            self._drop_oldest()
        return detected

    def _insert(self, value: float) -> None:
        totals, variances = self._rows[0]
        totals.append(value)
        variances.append(0.0)
        self._width += 1
        if self._width > 1:
            step = value - self._total / (self._width - 1)
            self._variance += (self._width - 1) * step * step / self._width
        else:
            self._variance += 0.0
        self._total += value
        level = 0
        while len(self._rows[level][0]) == self.max_buckets + 1:
            totals, variances = self._rows[level]
            size = float(1 << level)
            gap = totals[0] / size - totals[1] / size
            if level + 1 == len(self._rows):
                self._rows.append(([], []))
            upper_totals, upper_variances = self._rows[level + 1]
            upper_totals.append(totals[0] + totals[1])
            upper_variances.append(variances[0] + variances[1] + size * 0.5 * gap * gap)
            del totals[:2], variances[:2]
            if len(upper_totals) <= self.max_buckets:
                break
            level += 1

    def _find_cut(self) -> bool:
        """Whether some split of the window passes the cut test (river's scan order)."""
        n0, n1, u0, u1 = 0.0, float(self._width), 0.0, self._total
        shortest = float(self.min_window_length)
        delta_prime = math.nan  # computed at the first split tested (the window has 2+ values)
        for level in range(len(self._rows) - 1, -1, -1):
            size = float(1 << level)
            totals = self._rows[level][0]
            for k, total in enumerate(totals):
                n0 += size
                n1 -= size
                u0 += total
                u1 -= total
                if level == 0 and k == len(totals) - 1:
                    return False
                if n1 < shortest or n0 < shortest:
                    continue
                if math.isnan(delta_prime):
                    delta_prime = math.log(2.0 * math.log(self._width) / self.delta)
                if self._cut(n0, n1, u0 / n0 - u1 / n1, delta_prime):
                    return True
        return False

    def _cut(self, n0: float, n1: float, gap: float, delta_prime: float) -> bool:
        """``|gap| > ε`` for the split ``n0 | n1`` (river's operations, in river's order)."""
        shortest = float(self.min_window_length)
        m_recip = 1.0 / (n0 - shortest + 1.0) + 1.0 / (n1 - shortest + 1.0)
        spread = 2.0 * m_recip * (self._variance / self._width) * delta_prime
        root = math.sqrt(spread) if spread >= 0.0 else math.nan
        return abs(gap) > root + 2.0 / 3.0 * delta_prime * m_recip

    def _drop_oldest(self) -> None:
        level = len(self._rows) - 1
        totals, variances = self._rows[level]
        size = float(1 << level)
        total, variance = totals.pop(0), variances.pop(0)
        self._width -= 1 << level
        self._total -= total
        gap = total / size - self._total / self._width
        self._variance -= variance + size * self._width * gap * gap / (size + self._width)
        if not totals:
            self._rows.pop()

    # --- many values ----------------------------------------------------------------------

    def _scan(self, values: NDArray[np.float64], start: int, stop: int) -> int | None:
        x = values[start:stop]
        seen = self._width  # == ticks since the reset: nothing was dropped
        levels = Levels.build(self._rows, seen, x, self.max_buckets)
        n = np.arange(seen + 1, seen + 1 + x.size, dtype=np.int64)
        totals = np.cumsum(np.concatenate(([self._total], x)))
        previous = np.maximum(n - 1, 1).astype(np.float64)
        step = x - totals[:-1] / previous
        increments = np.where(n > 1, (n - 1) * step * step / n, 0.0)
        variances = np.cumsum(np.concatenate(([self._variance], increments)))
        ticks = np.flatnonzero((n % self.clock == 0) & (n > self.grace_period))
        for batch in range(0, ticks.size, _TICKS_PER_BATCH):
            at = ticks[batch : batch + _TICKS_PER_BATCH]
            found = cuts(
                levels,
                n[at],
                totals[at + 1],
                variances[at + 1],
                delta=self.delta,
                max_buckets=self.max_buckets,
                min_window_length=self.min_window_length,
            )
            if found.any():
                hit = int(at[np.argmax(found)])
                self._restore(levels, seen + hit, float(totals[hit]), float(variances[hit]))
                if not self._update(float(x[hit])):
                    msg = "ADWIN: the vectorised and the per-value cut tests disagree"
                    raise RuntimeError(msg)
                return start + hit
        self._restore(levels, seen + x.size, float(totals[-1]), float(variances[-1]))
        return None

    def _restore(self, levels: Levels, n: int, total: float, variance: float) -> None:
        """The state after ``n`` values since the reset, none dropped."""
        self._rows = levels.rows(n, self.max_buckets)
        self._width = self._tick = n
        self._total, self._variance = total, variance

    # --- state ----------------------------------------------------------------------------

    def _dump(self) -> dict[str, JSONValue]:
        return {
            "width": self._width,
            "tick": self._tick,
            "total": encode_float(self._total),
            "variance": encode_float(self._variance),
            "totals": [encode_floats(totals) for totals, _ in self._rows],
            "variances": [encode_floats(variances) for _, variances in self._rows],
        }

    def _load(self, reader: StateReader) -> None:
        self._width = reader.integer("width")
        self._tick = reader.integer("tick")
        self._total = reader.number("total")
        self._variance = reader.number("variance")
        totals, variances = reader.items("totals"), reader.items("variances")
        if not totals or len(totals) != len(variances):
            raise reader.error("totals", "needs one list per row, as many as 'variances'")
        rows = []
        for level, (t, v) in enumerate(zip(totals, variances, strict=True)):
            row = reader.nested({"totals": t, "variances": v}, f"rows[{level}]")
            row_totals = row.numbers("totals", finite=False)
            row_variances = row.numbers("variances", finite=False, length=len(row_totals))
            rows.append((row_totals, row_variances))
        self._rows = rows
        if self.drift_detected:  # dropped buckets: the next update starts a new window
            return
        expected = received(np.array([self._width]), self.max_buckets)[:, 0]
        counts = [len(t) for t, _ in rows]
        shape = [int(expected[i] - 2 * expected[i + 1]) for i in range(len(rows))]
        if self._tick != self._width or counts != shape:
            msg = f"does not hold the buckets of {self._width} values ({counts} per row)"
            raise reader.error("totals", msg)
