"""The interface of the streaming drift detectors (river's shape, with resumable state).

A detector sees one value per :meth:`~StreamingDetector.update` and says whether that value
completed a detection. As in river, a detector that detected resets itself on the *next*
update, so its properties still describe the detection until then.

:meth:`~StreamingDetector.update_many` is the fast path: it gives exactly the flags repeated
``update`` calls would, processing the values in chunks with numpy. Each chunk is consumed
from the current state; the subclass reports the first detection in it (leaving its state as
right after that update) and the loop resets the detector and starts a new chunk after it.
Chunks start small after a detection and double while nothing is detected, so the cost is
about one pass over the values plus one small chunk per detection.
"""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.outcome import DetectorResult, JSONValue, Span, Status
from detectors.streaming._state import InvalidStateError, StateReader

__all__ = ["StreamingDetector"]


class StreamingDetector(abc.ABC):
    """Base of the streaming drift detectors.

    Subclasses take keyword-only parameters (stored under their own names, checked in
    ``__init__``) and implement :meth:`_reset_state`, :meth:`_update`, :meth:`_scan`,
    :meth:`_dump` and :meth:`_load`.
    """

    #: Short name, used in results as ``streaming.<name>``.
    name: ClassVar[str]
    #: Layout version of :meth:`to_state`; bump it when the layout changes.
    state_version: ClassVar[int] = 1
    #: Whether inputs must be 0 (correct) or 1 (error).
    binary: ClassVar[bool] = False
    #: Whether the detector has a warning zone.
    warns: ClassVar[bool] = False
    #: First and largest chunk of :meth:`update_many`.
    first_chunk: ClassVar[int] = 1024
    max_chunk: ClassVar[int] = 1 << 18

    def __init__(self) -> None:
        self._drift_detected = False
        self._warning_detected = False
        self._reset_state()

    # --- the public interface -------------------------------------------------------------

    @property
    def drift_detected(self) -> bool:
        """Whether the last update completed a detection."""
        return self._drift_detected

    @property
    def warning_detected(self) -> bool:
        """Whether the detector is in its warning zone (always False without one)."""
        return self._warning_detected

    def update(self, x: float) -> bool:
        """Feed one value; True if it completed a detection.

        Raises
        ------
        InvalidInputError
            If ``x`` is not a finite number (for binary detectors: not 0 or 1).
        """
        value = self._check_value(x)
        if self._drift_detected:
            self.reset()
        self._drift_detected = self._update(value)
        return self._drift_detected

    def update_many(self, xs: ArrayLike) -> NDArray[np.bool_]:
        """Feed many values; the flags repeated :meth:`update` calls would return.

        Raises
        ------
        InvalidInputError
            If ``xs`` is not 1-D, or holds a value :meth:`update` would refuse.
        """
        values = self._check_values(xs)
        flags = np.zeros(values.size, dtype=np.bool_)
        if values.size == 0:
            return flags
        if self._drift_detected:
            self.reset()
        start, chunk = 0, self.first_chunk
        while start < values.size:
            stop = min(start + chunk, values.size)
            # IEEE arithmetic as in update(): an overflow gives inf, not a warning.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                hit = self._scan(values, start, stop)
            if hit is None:
                start, chunk = stop, min(2 * chunk, self.max_chunk)
                continue
            flags[hit] = True
            if hit + 1 < values.size:
                self.reset()
            start, chunk = hit + 1, self.first_chunk
        self._drift_detected = bool(flags[-1])
        return flags

    def reset(self) -> None:
        """Forget everything seen (the parameters stay)."""
        self._drift_detected = False
        self._warning_detected = False
        self._reset_state()

    def params(self) -> dict[str, JSONValue]:
        """The constructor's arguments, by name."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.params().items())
        return f"{type(self).__name__}({args})"

    def to_state(self) -> dict[str, JSONValue]:
        """Everything needed to resume, JSON-able (no NaN or infinity).

        ``detector`` and ``version`` say which class and layout wrote it, ``params`` are the
        constructor's arguments, ``state`` the detector's own fields.
        """
        return {
            "detector": type(self).__name__,
            "version": self.state_version,
            "params": self.params(),
            "drift_detected": self._drift_detected,
            "warning_detected": self._warning_detected,
            "state": self._dump(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        """The detector :meth:`to_state` described, ready to continue where it stopped.

        Raises
        ------
        InvalidStateError
            If the state is malformed or incomplete, or was written by another detector
            class or state version (an :class:`InvalidInputError`, hence a ValueError).
        """
        reader = StateReader(state, cls.__name__)
        detector = reader.data.get("detector")
        if detector != cls.__name__:
            msg = f"{cls.__name__} state: written by detector {detector!r}, not {cls.__name__!r}"
            raise InvalidStateError(msg)
        version = reader.data.get("version")
        if version != cls.state_version:
            msg = (
                f"{cls.__name__} state: layout version {version!r} is not the supported "
                f"version {cls.state_version}"
            )
            raise InvalidStateError(msg)
        params = reader.nested(reader.data.get("params"), "params").data
        try:
            detector_ = cls(**params)
        except TypeError as error:
            raise InvalidStateError(f"{cls.__name__} state: params do not fit: {error}") from None
        except InvalidInputError as error:
            raise InvalidStateError(f"{cls.__name__} state: params: {error}") from None
        detector_._drift_detected = reader.flag("drift_detected")
        detector_._warning_detected = reader.flag("warning_detected") and cls.warns
        detector_._load(reader.nested(reader.data.get("state"), "state"))
        return detector_

    def to_result(self, drifts: ArrayLike, *, window: Span | None = None) -> DetectorResult:
        """The dashboard's view of a window of flags returned by :meth:`update_many`.

        Status ``alarm`` when a drift was detected in the window, ``warning`` when the
        detector ends the window in its warning zone, ``insufficient_data`` for an empty
        window, else ``ok``. The score is the number of detections (threshold 1); details
        hold their indices in the window, the end-of-window warning and the parameters.

        Examples
        --------
        >>> from detectors.streaming import DDM
        >>> ddm = DDM()
        >>> result = ddm.to_result(ddm.update_many([0, 1] * 50 + [1] * 60))
        >>> result.status.value, result.details["detections"]
        ('alarm', [125])
        """
        flags = np.asarray(drifts, dtype=np.bool_)
        if flags.ndim != 1:
            raise InvalidInputError(f"drifts: expected a 1-D array, got shape {flags.shape}")
        detections = [int(i) for i in np.flatnonzero(flags)]
        if detections:
            status = Status.ALARM
        elif self._warning_detected:
            status = Status.WARNING
        elif flags.size == 0:
            status = Status.INSUFFICIENT_DATA
        else:
            status = Status.OK
        details: dict[str, JSONValue] = {
            "detections": list[JSONValue](detections),
            "n_updates": int(flags.size),
            "warning": self._warning_detected,
            "params": self.params(),
        }
        return DetectorResult(
            detector=f"streaming.{self.name}",
            status=status,
            score=float(len(detections)),
            threshold=1.0,
            window=window if window is not None else Span(n=int(flags.size)),
            details=details,
        )

    # --- what subclasses implement ----------------------------------------------------------

    @abc.abstractmethod
    def _reset_state(self) -> None:
        """Set the fresh state (flags excepted)."""

    @abc.abstractmethod
    def _update(self, value: float) -> bool:
        """Process one checked value from the current state; True on a detection."""

    @abc.abstractmethod
    def _scan(self, values: NDArray[np.float64], start: int, stop: int) -> int | None:
        """Process ``values[start:stop]`` from the current state, vectorised.

        Return the index of the first detection, the state left as right after that update;
        or None, the state left as after ``values[stop - 1]``. Set ``_warning_detected``.
        """

    @abc.abstractmethod
    def _dump(self) -> dict[str, JSONValue]:
        """The detector's own fields, JSON-able."""

    @abc.abstractmethod
    def _load(self, reader: StateReader) -> None:
        """Restore the fields :meth:`_dump` wrote (raise ``reader.error`` if inconsistent).

        The flags are restored before, so the checks may depend on them.
        """

    # --- input checks -------------------------------------------------------------------------

    def _check_value(self, x: float) -> float:
        try:
            value = float(x)
        except (TypeError, ValueError):
            msg = f"{type(self).__name__}.update: expected a number, got {x!r}"
            raise InvalidInputError(msg) from None
        if self.binary:
            if value != 0.0 and value != 1.0:
                msg = f"{type(self).__name__}.update: expected 0 (correct) or 1 (error), got {x!r}"
                raise InvalidInputError(msg)
        elif not math.isfinite(value):
            msg = f"{type(self).__name__}.update: expected a finite number, got {x!r}"
            raise InvalidInputError(msg)
        return value

    def _check_values(self, xs: ArrayLike) -> NDArray[np.float64]:
        owner = f"{type(self).__name__}.update_many"
        try:
            values = np.ascontiguousarray(xs, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{owner}: expected a 1-D array of numbers") from None
        if values.ndim != 1:
            raise InvalidInputError(f"{owner}: expected a 1-D array, got shape {values.shape}")
        if self.binary:
            bad = np.flatnonzero((values != 0.0) & (values != 1.0))
            expected = "0 (correct) or 1 (error)"
        else:
            bad = np.flatnonzero(~np.isfinite(values))
            expected = "a finite number"
        if bad.size:
            i = int(bad[0])
            msg = f"{owner}: expected {expected} at every index, got {values[i]!r} at index {i}"
            raise InvalidInputError(msg)
        return values
