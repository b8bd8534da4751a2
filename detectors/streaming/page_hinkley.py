"""The Page–Hinkley test (Page, 1954): a CUSUM of deviations from the running mean.

With ``x̄_t`` the mean of the values so far (``x_t`` included) and ``d_t = x_t − x̄_t``::

    U_t = alpha · U_{t−1} + (d_t − delta),   m_t = min(U_1 … U_t)
    L_t = alpha · L_{t−1} + (d_t + delta),   M_t = max(−1, L_1 … L_t)

After ``min_instances`` values a drift is ``U_t − m_t > threshold`` (mode ``"up"``: the
mean rose), ``M_t − L_t > threshold`` (``"down"``) or either (``"both"``).

``threshold`` is in the units of the data: on N(0, 1) values the defaults raise about 13
false alarms per 20 000 values (``statistics.md`` §7.1); standardise the stream or scale
``threshold`` by its standard deviation.

river's ``drift.PageHinkley`` keeps the mean by increments and adds ``d_t`` and ``delta``
in another order; here the mean is the running sum over ``t`` and the recursions run as
first-order filters (:func:`scipy.signal.lfilter`), the same numbers in update and update_many.
"""

from __future__ import annotations

import math
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from detectors.outcome import JSONValue
from detectors.streaming._base import StreamingDetector
from detectors.streaming._params import check_choice, check_float, check_int
from detectors.streaming._state import StateReader, encode_float

__all__ = ["Mode", "PageHinkley"]

Mode = Literal["up", "down", "both"]
MODES: tuple[Mode, ...] = ("up", "down", "both")


class PageHinkley(StreamingDetector):
    """Page–Hinkley test for a change in the mean of a stream.

    Parameters
    ----------
    min_instances
        Values seen before a drift can be signalled.
    delta
        Tolerated change of the mean (the drift of the CUSUM), in data units.
    threshold
        The alarm level ``lambda``, in data units.
    alpha
        Forgetting factor of the sums, in ``(0, 1]``.
    mode
        ``"up"`` (a rise of the mean), ``"down"`` (a fall) or ``"both"``.

    Examples
    --------
    river's documented stream (``statistics.md`` §7.2): values in {0, 1}, then in 4–7.

    >>> import random
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> detector = PageHinkley()
    >>> [i for i, flag in enumerate(detector.update_many(stream)) if flag]
    [1006]

    References
    ----------
    .. [1] Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100–115.
    .. [2] river ``drift.PageHinkley`` (compared with river 0.26.1 in the tests).
    """

    name = "page_hinkley"

    def __init__(
        self,
        *,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: Mode = "both",
    ) -> None:
        owner = type(self).__name__
        self.min_instances = check_int(owner, "min_instances", min_instances, low=1)
        self.delta = check_float(owner, "delta", delta, low=0.0)
        self.threshold = check_float(owner, "threshold", threshold, low=0.0, low_open=True)
        self.alpha = check_float(owner, "alpha", alpha, low=0.0, high=1.0, low_open=True)
        self.mode = cast(Mode, check_choice(owner, "mode", mode, MODES))
        super().__init__()

    def _reset_state(self) -> None:
        self._n = 0
        self._total = 0.0
        self._up = 0.0
        self._up_min = math.inf
        self._down = 0.0
        self._down_max = -1.0

    def _update(self, value: float) -> bool:
        self._n += 1
        self._total += value
        deviation = value - self._total / self._n
        self._up = self.alpha * self._up + (deviation - self.delta)
        self._down = self.alpha * self._down + (deviation + self.delta)
        self._up_min = min(self._up_min, self._up)
        self._down_max = max(self._down_max, self._down)
        if self._n < self.min_instances:
            return False
        if self.mode != "down" and self._up - self._up_min > self.threshold:
            return True
        return self.mode != "up" and self._down_max - self._down > self.threshold

    def _scan(self, values: NDArray[np.float64], start: int, stop: int) -> int | None:
        x = values[start:stop]
        n = np.arange(self._n + 1, self._n + 1 + x.size, dtype=np.int64)
        totals = np.cumsum(np.concatenate(([self._total], x)))[1:]
        deviation = x - totals / n
        up = self._filter(deviation - self.delta, self._up)
        down = self._filter(deviation + self.delta, self._down)
        # fmin/fmax skip NaN (sums that overflowed), as the comparisons of update() do.
        up_min = np.fmin(np.fmin.accumulate(up), self._up_min)
        down_max = np.fmax(np.fmax.accumulate(down), self._down_max)
        rose = up - up_min > self.threshold
        fell = down_max - down > self.threshold
        drift = (n >= self.min_instances) & _verdict(self.mode, rose, fell)
        hits = np.flatnonzero(drift)
        end = int(hits[0]) if hits.size else x.size - 1
        self._n, self._total = int(n[end]), float(totals[end])
        self._up, self._up_min = float(up[end]), float(up_min[end])
        self._down, self._down_max = float(down[end]), float(down_max[end])
        return start + end if hits.size else None

    def _filter(self, steps: NDArray[np.float64], initial: float) -> NDArray[np.float64]:
        """``y_t = alpha · y_{t−1} + steps_t`` from ``y_0 = initial``, as :meth:`_update` does."""
        if self.alpha == 1.0:
            return np.cumsum(np.concatenate(([initial], steps)))[1:]
        if not (math.isfinite(initial) and np.isfinite(steps).all()):
            # lfilter multiplies its zero numerator coefficient by the input: 0 × inf = NaN.
            filtered = np.empty_like(steps)
            for i, step in enumerate(steps.tolist()):
                initial = self.alpha * initial + step
                filtered[i] = initial
            return filtered
        filtered, _ = lfilter([1.0], [1.0, -self.alpha], steps, zi=[self.alpha * initial])
        return cast(NDArray[np.float64], filtered)

    def _dump(self) -> dict[str, JSONValue]:
        return {
            "n": self._n,
            "total": encode_float(self._total),
            "up": encode_float(self._up),
            "up_min": encode_float(self._up_min),
            "down": encode_float(self._down),
            "down_max": encode_float(self._down_max),
        }

    def _load(self, reader: StateReader) -> None:
        self._n = reader.integer("n")
        self._total = reader.number("total")
        self._up = reader.number("up")
        self._up_min = reader.number("up_min")
        self._down = reader.number("down")
        self._down_max = reader.number("down_max")


def _verdict(mode: Mode, rose: NDArray[np.bool_], fell: NDArray[np.bool_]) -> NDArray[np.bool_]:
    if mode == "up":
        return rose
    if mode == "down":
        return fell
    return rose | fell
