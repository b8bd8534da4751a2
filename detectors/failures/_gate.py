"""Argument checks and result helpers shared by the failure and health detectors.

Every detector of :mod:`detectors.failures` and :mod:`detectors.health` takes keyword-only
scalar parameters and checks them here, so that a bad monitor configuration fails with one
kind of message: the argument, what was expected, what was given.

Times: record timestamps are **int64 microseconds since the Unix epoch (UTC)**, exactly as
:class:`storage.windows.Window` hands them out (``timestamps_us``); window bounds and ``now``
are timezone-aware :class:`~datetime.datetime` values, as the window's ``start`` / ``end``.
"""

from __future__ import annotations

import math
from collections.abc import Sized
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.outcome import JSONValue, Span, Status

__all__ = [
    "as_samples",
    "as_timestamps_us",
    "check_same_length",
    "epoch_us",
    "finite_or_none",
    "fraction",
    "from_epoch_us",
    "integer",
    "number",
    "probability",
    "span_of",
    "verdict",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def number(
    value: Any,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    strict: bool = False,
    allow_infinite: bool = False,
) -> float:
    """``value`` as a float in ``[low, high]`` (``(low, high)`` when ``strict``).

    NaN is always refused, infinities unless ``allow_infinite``; bools are not numbers here.
    """
    bounds = f"({low:g}, {high:g})" if strict else f"[{low:g}, {high:g}]"
    kind = "number" if allow_infinite else "finite number"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInputError(f"{name} must be a {kind} in {bounds}, got {value!r}")
    result = float(value)
    inside = low < result < high if strict else low <= result <= high
    if math.isnan(result) or (math.isinf(result) and not allow_infinite) or not inside:
        raise InvalidInputError(f"{name} must be a {kind} in {bounds}, got {value!r}")
    return result


def fraction(value: Any, name: str) -> float:
    """A share in (0, 1]: a drop, a share of samples, a fill level."""
    result = number(value, name, low=0.0, high=1.0)
    if result == 0.0:
        raise InvalidInputError(f"{name} must be a number in (0, 1], got {value!r}")
    return result


def probability(value: Any, name: str) -> float:
    """A probability strictly between 0 and 1 (a confidence level, an alpha)."""
    return number(value, name, low=0.0, high=1.0, strict=True)


def integer(value: Any, name: str, *, low: int = 0) -> int:
    """``value`` as an int of at least ``low`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InvalidInputError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def epoch_us(moment: Any, name: str) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidInputError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(microseconds: int) -> datetime:
    """The UTC datetime of an epoch timestamp in microseconds."""
    return _EPOCH + timedelta(microseconds=int(microseconds))


def as_samples(
    values: ArrayLike, name: str, *, low: float = 0.0, allow_nan: bool = False
) -> NDArray[np.float64]:
    """A 1-D float64 array (a scalar is one sample) of finite values of at least ``low``.

    NaN is kept (as "missing") only when ``allow_nan``; infinities are always refused.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected numbers, got malformed input") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InvalidInputError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.size == 0:
        return array
    # min / max propagate NaN and see infinities: two passes instead of a mask per test.
    smallest, largest = float(array.min()), float(array.max())
    if math.isnan(smallest):
        if not allow_nan:
            index = int(np.flatnonzero(np.isnan(array))[0])
            raise InvalidInputError(f"{name}: expected no NaN, got NaN at index {index}")
        present = array[~np.isnan(array)]
        if not present.size:
            return array
        smallest, largest = float(present.min()), float(present.max())
    if math.isinf(smallest) or math.isinf(largest):
        index = int(np.flatnonzero(np.isinf(array))[0])
        raise InvalidInputError(f"{name}: expected finite values, got {array[index]} at {index}")
    if smallest < low:
        index = int(np.flatnonzero(array < low)[0])
        raise InvalidInputError(
            f"{name}: expected values >= {low:g}, got {array[index]:g} at {index}"
        )
    return array


def as_timestamps_us(values: ArrayLike, name: str = "timestamps_us") -> NDArray[np.int64]:
    """A 1-D int64 array of epoch microseconds (any integer dtype; floats are refused)."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInputError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        msg = f"{name}: expected integer microseconds since the epoch, got dtype {array.dtype}"
        raise InvalidInputError(msg)
    return array.astype(np.int64, copy=False)


def check_same_length(name: str, values: Sized, other_name: str, other: Sized) -> None:
    """Raise unless two per-record arrays have one entry per record each."""
    if len(values) != len(other):
        msg = f"{name} has {len(values)} entries but {other_name} has {len(other)}: one per record"
        raise InvalidInputError(msg)


def span_of(window: Span | None, n: int) -> Span:
    """The caller's window, or one that only knows its record count."""
    if window is not None and not isinstance(window, Span):
        raise InvalidInputError(f"window must be a Span or None, got {window!r}")
    return Span(n=n) if window is None else window


def verdict(*, effect: bool, significant: bool) -> Status:
    """Alarm when an effect is both large enough and significant; warning when only large.

    A significant but small change is ``ok`` (at large windows everything is significant);
    a large change that is not yet significant is a ``warning``.
    """
    if effect and significant:
        return Status.ALARM
    return Status.WARNING if effect else Status.OK


def finite_or_none(value: float) -> JSONValue:
    """``value``, or None for NaN and infinities (details must survive strict JSON)."""
    return float(value) if math.isfinite(value) else None
