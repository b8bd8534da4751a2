"""Checks of a streaming detector's constructor arguments: bad config fails at load time.

Every error names the detector, the parameter, the accepted range and the value received.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from detectors.errors import InvalidInputError

__all__ = ["check_choice", "check_float", "check_int"]


def check_int(owner: str, name: str, value: object, *, low: int, high: int | None = None) -> int:
    """``value`` if it is an integer (not a bool) in ``[low, high]``.

    Examples
    --------
    >>> check_int("DDM", "warm_start", 30, low=0)
    30
    >>> check_int("DDM", "warm_start", -1, low=0)
    Traceback (most recent call last):
    ...
    detectors.errors.InvalidInputError: DDM: warm_start must be an integer >= 0, got -1
    """
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        expected = f">= {low}" if high is None else f"in [{low}, {high}]"
        msg = f"{owner}: {name} must be an integer {expected}, got {value!r}"
        raise InvalidInputError(msg)
    return value


def check_float(
    owner: str,
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is a finite real number (not a bool) in the interval.

    Examples
    --------
    >>> check_float("ADWIN", "delta", 0.002, low=0.0, high=1.0, low_open=True, high_open=True)
    0.002
    >>> check_float("ADWIN", "delta", 1.5, low=0.0, high=1.0, low_open=True, high_open=True)
    Traceback (most recent call last):
    ...
    detectors.errors.InvalidInputError: ADWIN: delta must be a number in (0.0, 1.0), got 1.5
    """
    interval = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if math.isinf(low) and math.isinf(high):
        interval = "finite"
    elif math.isinf(high):
        interval = f"{'>' if low_open else '>='} {low}"
    elif math.isinf(low):
        interval = f"{'<' if high_open else '<='} {high}"
    msg = f"{owner}: {name} must be a number {interval}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(msg)
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError(msg)
    if number < low or (low_open and number == low):
        raise InvalidInputError(msg)
    if number > high or (high_open and number == high):
        raise InvalidInputError(msg)
    return number


def check_choice(owner: str, name: str, value: object, choices: Collection[str]) -> str:
    """``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("PageHinkley", "mode", "left", ("up", "down"))
    Traceback (most recent call last):
    ...
    detectors.errors.InvalidInputError: PageHinkley: mode must be one of 'up', 'down', got 'left'
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        msg = f"{owner}: {name} must be one of {listed}, got {value!r}"
        raise InvalidInputError(msg)
    return value
