"""DDM, the Drift Detection Method (Gama et al., 2004), over a binary error stream.

After ``n`` updates with ``k`` errors the error rate is ``p = k / n`` with standard deviation
``s = sqrt(p (1 - p) / n)``. Once ``n > warm_start``, the pair ``(p_min, s_min)`` is the
latest ``(p, s)`` at which ``p + s`` was smallest; the detector is in its warning zone when
``p + s > p_min + warning_threshold * s_min`` and detects a drift when
``p + s > p_min + drift_threshold * s_min`` (the warning is then cleared).

river's ``drift.binary.DDM`` keeps ``p`` as a running mean updated by increments; here it is
the exact quotient ``k / n`` (the same value up to the last bits), so that
:meth:`DDM.update_many` can compute every ``p`` at once from a cumulative sum and give
exactly the flags of repeated :meth:`DDM.update` calls.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from detectors.outcome import JSONValue
from detectors.streaming._base import StreamingDetector
from detectors.streaming._params import check_float, check_int
from detectors.streaming._state import StateReader, encode_float

__all__ = ["DDM"]


class DDM(StreamingDetector):
    """Drift Detection Method: a rise of the error rate beyond its best level so far.

    Parameters
    ----------
    warm_start
        Updates seen before the detector can warn or detect.
    warning_threshold
        Standard deviations above the best ``p + s`` that start the warning zone.
    drift_threshold
        Standard deviations above the best ``p + s`` that signal a drift; at least
        ``warning_threshold``.

    Examples
    --------
    river's documented stream (``statistics.md`` §7.2): the error rate jumps from 0.5 to
    0.7 at index 1000.

    >>> import random
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> ddm = DDM()
    >>> [i for i, flag in enumerate(ddm.update_many(stream)) if flag]
    [1334]

    References
    ----------
    .. [1] Gama, J., Medas, P., Castillo, G. and Rodrigues, P. (2004). Learning with drift
       detection. SBIA 2004, LNCS 3171, 286–295.
    .. [2] river ``drift.binary.DDM`` (compared with river 0.26.1 in the tests).
    """

    name = "ddm"
    binary = True
    warns = True

    def __init__(
        self, *, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0
    ) -> None:
        owner = type(self).__name__
        self.warm_start = check_int(owner, "warm_start", warm_start, low=0)
        self.warning_threshold = check_float(
            owner, "warning_threshold", warning_threshold, low=0.0, low_open=True
        )
        self.drift_threshold = check_float(
            owner, "drift_threshold", drift_threshold, low=self.warning_threshold
        )
        super().__init__()

    def _reset_state(self) -> None:
        self._n = 0
        self._errors = 0
        self._p_min = math.nan
        self._s_min = math.nan
        self._ps_min = math.inf

    def _update(self, value: float) -> bool:
        self._n += 1
        self._errors += int(value)
        n = self._n
        p = self._errors / n
        s = math.sqrt(p * (1.0 - p) / n)
        if n <= self.warm_start:
            return False
        if p + s <= self._ps_min:
            self._p_min, self._s_min, self._ps_min = p, s, p + s
        drift = p + s > self._p_min + self.drift_threshold * self._s_min
        warning = p + s > self._p_min + self.warning_threshold * self._s_min
        self._warning_detected = warning and not drift
        return drift

    def _scan(self, values: NDArray[np.float64], start: int, stop: int) -> int | None:
        n = np.arange(self._n + 1, self._n + 1 + stop - start, dtype=np.int64)
        errors = self._errors + np.cumsum(values[start:stop].astype(np.int64))
        p = errors / n
        s = np.sqrt(p * (1.0 - p) / n)
        ps = p + s
        eligible = n > self.warm_start
        # The best (p, s) so far: the latest index where p + s reached its running minimum.
        best_so_far = np.minimum.accumulate(np.where(eligible, ps, np.inf))
        best_so_far = np.minimum(best_so_far, self._ps_min)
        improved = eligible & (ps == best_so_far)
        latest = np.maximum.accumulate(np.where(improved, np.arange(ps.size), -1))
        p_min = np.where(latest >= 0, p[latest], self._p_min)
        s_min = np.where(latest >= 0, s[latest], self._s_min)
        drift = eligible & (ps > p_min + self.drift_threshold * s_min)
        warning = eligible & (ps > p_min + self.warning_threshold * s_min) & ~drift
        hits = np.flatnonzero(drift)
        end = int(hits[0]) if hits.size else ps.size - 1
        self._n, self._errors = int(n[end]), int(errors[end])
        if latest[end] >= 0:
            best = int(latest[end])
            self._p_min, self._s_min, self._ps_min = float(p[best]), float(s[best]), float(ps[best])
        if eligible[end]:
            self._warning_detected = bool(warning[end])
        return start + end if hits.size else None

    def _dump(self) -> dict[str, JSONValue]:
        return {
            "n": self._n,
            "errors": self._errors,
            "p_min": encode_float(self._p_min),
            "s_min": encode_float(self._s_min),
            "ps_min": encode_float(self._ps_min),
        }

    def _load(self, reader: StateReader) -> None:
        self._n = reader.integer("n")
        self._errors = reader.integer("errors")
        if self._errors > self._n:
            raise reader.error("errors", f"exceeds n ({self._errors} > {self._n})")
        self._p_min = reader.number("p_min")
        self._s_min = reader.number("s_min")
        self._ps_min = reader.number("ps_min")
