"""Durations written as ``30s``, ``15m``, ``1h``, ``1d`` or combined, like ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from monitor.project._base import spec_error

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNITS: tuple[tuple[str, int], ...] = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_PATTERN = "^(?=.)([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
_DURATION = re.compile(
    r"(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?"
)
_EXPECTED = "a duration like 30s, 15m, 1h, 1d or 1h30m (units d, h, m, s, largest first)"


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``15m`` or ``1h30m``.

    Parameters
    ----------
    text
        One or more ``<integer><unit>`` parts, units ``d``, ``h``, ``m``, ``s`` each at most
        once and largest first, without spaces or signs.

    Returns
    -------
    datetime.timedelta
        The duration.

    Raises
    ------
    ValueError
        If ``text`` is not such a duration, or too large for a ``timedelta``.

    Examples
    --------
    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("0s")
    datetime.timedelta(0)
    """
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        msg = f"invalid duration {text!r}: expected {_EXPECTED}"
        raise ValueError(msg)
    seconds = sum(int(match[unit] or 0) * size for unit, size in _UNITS)
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        msg = f"invalid duration {text!r}: too large"
        raise ValueError(msg) from None


def format_duration(value: timedelta) -> str:
    """Write a duration the way :func:`parse_duration` reads it, largest units first.

    Parameters
    ----------
    value
        A non-negative duration of whole seconds.

    Returns
    -------
    str
        For example ``"1h30m"``; ``"0s"`` for zero.

    Raises
    ------
    ValueError
        If ``value`` is negative or has a fraction of a second.

    Examples
    --------
    >>> format_duration(timedelta(days=1, minutes=5))
    '1d5m'
    """
    if value < timedelta(0) or value.microseconds:
        msg = f"cannot format {value!r}: expected a non-negative whole number of seconds"
        raise ValueError(msg)
    remaining = value.days * 86_400 + value.seconds
    parts: list[str] = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _coerce(value: object) -> object:
    """Parse duration strings; pass ``timedelta`` through; reject everything else."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            raise spec_error(f"must be {_EXPECTED}") from None
    raise spec_error(f"must be {_EXPECTED}")


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce),
    WithJsonSchema({"type": "string", "pattern": _PATTERN, "examples": ["30s", "15m", "1h30m"]}),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
"""A ``timedelta`` field written in the project file as ``15m``, ``1h30m``, ..."""
