"""Checks of the multivariate tests' parameters, so a bad setting fails before any work."""

from __future__ import annotations

from typing import Any

from detectors.errors import InvalidInputError

__all__ = ["check_count", "check_level", "check_names"]


def check_count(name: str, value: Any, minimum: int) -> None:
    """Raise unless ``value`` is an int at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r}"
        raise InvalidInputError(msg)


def check_level(name: str, value: Any) -> None:
    """Raise unless ``value`` is a number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        msg = f"{name} must be a number in (0, 1), got {value!r}"
        raise InvalidInputError(msg)


def check_names(names: Any, width: int) -> tuple[str, ...]:
    """``names`` as a tuple of ``width`` strings; ``x0, x1, …`` when None."""
    if names is None:
        return tuple(f"x{j}" for j in range(width))
    out = tuple(str(name) for name in names)
    if len(out) != width:
        msg = f"names: expected {width} feature name(s), one per column, got {len(out)}"
        raise InvalidInputError(msg)
    return out
