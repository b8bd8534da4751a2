"""JSON-able detector state: float encoding and a reader that names what is wrong.

A state holds only ``str``, ``int``, ``float``, ``bool``, ``None``, lists and dicts, and no
NaN or infinity (JSON has neither): non-finite floats are written as the strings ``"nan"``,
``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from detectors.errors import InvalidInputError
from detectors.outcome import JSONValue

__all__ = ["InvalidStateError", "StateReader", "decode_float", "encode_float", "encode_floats"]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class InvalidStateError(InvalidInputError):
    """A saved state is malformed, or was written by another detector class or state version."""


def encode_float(value: float) -> float | str:
    """``value`` itself when finite, else ``"nan"``, ``"inf"`` or ``"-inf"``.

    Examples
    --------
    >>> encode_float(0.5), encode_float(float("inf")), encode_float(float("nan"))
    (0.5, 'inf', 'nan')
    """
    value = float(value)
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def encode_floats(values: Iterable[float]) -> list[JSONValue]:
    """:func:`encode_float` of each value."""
    return [encode_float(v) for v in values]


def decode_float(value: object) -> float | None:
    """The float ``value`` encodes, or ``None`` if it encodes none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return _NON_FINITE.get(value)
    return None


class StateReader:
    """Typed access to the fields of one state object; errors name the detector and field.

    Examples
    --------
    >>> reader = StateReader({"n": 3, "p_min": "inf"}, "DDM")
    >>> reader.integer("n"), reader.number("p_min")
    (3, inf)
    >>> reader.integer("errors")
    Traceback (most recent call last):
    ...
    detectors.streaming._state.InvalidStateError: DDM state: field 'errors' is missing
    """

    def __init__(self, data: object, owner: str, where: str = "") -> None:
        self.owner = owner
        self.where = where
        if not isinstance(data, Mapping):
            raise InvalidStateError(f"{self._name()}must be an object, got {type(data).__name__}")
        self.data: Mapping[str, object] = data

    def _name(self, key: str | None = None) -> str:
        path = ".".join(p for p in (self.where, key) if p)
        return f"{self.owner} state: " + (f"field {path!r} " if path else "")

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise InvalidStateError(self._name(key) + "is missing")
        return self.data[key]

    def _fail(self, key: str, expected: str, value: object) -> InvalidStateError:
        return InvalidStateError(f"{self._name(key)}must be {expected}, got {value!r}")

    def integer(self, key: str, *, low: int = 0) -> int:
        """An integer ``>= low``."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self._fail(key, f"an integer >= {low}", value)
        return value

    def optional_integer(self, key: str, *, low: int = 0) -> int | None:
        """An integer ``>= low``, or None."""
        return None if self._get(key) is None else self.integer(key, low=low)

    def number(self, key: str, *, finite: bool = False) -> float:
        """A float, possibly encoded by :func:`encode_float` (then not ``finite``)."""
        value = self._get(key)
        number = decode_float(value)
        if number is None or (finite and not math.isfinite(number)):
            raise self._fail(key, "a finite number" if finite else "a number", value)
        return number

    def flag(self, key: str) -> bool:
        """A bool."""
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def numbers(self, key: str, *, finite: bool = True, length: int | None = None) -> list[float]:
        """A list of numbers, of ``length`` items when given."""
        value = self._get(key)
        expected = "a list of numbers" + (f" of length {length}" if length is not None else "")
        if not isinstance(value, list) or (length is not None and len(value) != length):
            raise self._fail(key, expected, value)
        numbers = [decode_float(v) for v in value]
        for number in numbers:
            if number is None or (finite and not math.isfinite(number)):
                raise self._fail(key, expected, value)
        return [n for n in numbers if n is not None]

    def integers(self, key: str, *, low: int = 0) -> list[int]:
        """A list of integers ``>= low``."""
        value = self._get(key)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= low for v in value
        ):
            raise self._fail(key, f"a list of integers >= {low}", value)
        return list(value)

    def items(self, key: str) -> list[object]:
        """A list of anything (checked by the caller, e.g. with :meth:`nested`)."""
        value = self._get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list", value)
        return list(value)

    def nested(self, value: object, key: str) -> StateReader:
        """A reader over ``value``, an object found at ``key`` of this one."""
        return StateReader(value, self.owner, ".".join(p for p in (self.where, key) if p))

    def error(self, key: str, problem: str) -> InvalidStateError:
        """An error about ``key`` the caller raises (consistency checks across fields)."""
        return InvalidStateError(self._name(key) + problem)
