"""Reading a monitor's ``params``: known keys, types, ranges and defaults, with one error shape.

Every problem raises :class:`MonitorParamsError` worded
``params.<key> of a <kind> monitor: must be <what is allowed>, got <value>`` (prefixed by
``monitor '<name>': `` when the monitor's name is known). A ``null`` value counts as not given:
the default applies.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import TypeVar

from monitor.errors import ConfigError
from monitor.project.monitors import ParamValue

__all__ = ["MonitorParamsError", "ParamReader", "show"]

T = TypeVar("T", bound=str)
_MAX_SHOWN = 80


class MonitorParamsError(ConfigError):
    """A monitor's ``params`` hold an unknown key or a value its kind does not accept.

    Parameters
    ----------
    message
        The whole one-line message: the monitor (when known), the param, what is allowed
        and what was given.
    kind
        The monitor kind the params were read for, when known.
    keys
        The param key(s) the message is about.
    monitor
        The monitor's name, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        keys: tuple[str, ...] = (),
        monitor: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.keys = keys
        self.monitor = monitor


def show(value: object) -> str:
    """A short rendering of a param value, in YAML terms (``true``, ``null``, ``[a, b]``).

    Examples
    --------
    >>> show(True), show(None), show(("a", 1)), show(0.5)
    ('true', 'null', "['a', 1]", '0.5')
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(item) for item in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."


class ParamReader:
    """Reads one monitor's params; each getter checks one key and returns its typed value.

    Parameters
    ----------
    kind
        The monitor kind, for messages.
    params
        The monitor's ``params``.
    known
        Every key this kind accepts; any other key is an error at once.
    monitor
        The monitor's name, for messages, when known.
    """

    def __init__(
        self,
        kind: str,
        params: Mapping[str, ParamValue],
        known: Sequence[str],
        *,
        monitor: str | None = None,
    ) -> None:
        self.kind = kind
        self.monitor = monitor
        self._params = params
        for key in params:
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                allowed = ", ".join(known) if known else "none"
                msg = f"{self._where(key)}: unknown parameter{hint}; known parameters: {allowed}"
                raise MonitorParamsError(msg, kind=kind, keys=(key,), monitor=monitor)

    def raw(self, key: str) -> ParamValue:
        """The value of ``key`` as given (None when absent)."""
        return self._params.get(key)

    def given(self, key: str) -> bool:
        """Whether ``key`` was set to something other than null."""
        return self._params.get(key) is not None

    def error(self, key: str, expected: str, *, got: object = None) -> MonitorParamsError:
        """The error for ``key``: ``must be <expected>, got <got>``."""
        msg = f"{self._where(key)}: must be {expected}, got {show(got)}"
        return MonitorParamsError(msg, kind=self.kind, keys=(key,), monitor=self.monitor)

    def choice(self, key: str, options: Sequence[T], default: T) -> T:
        """One of ``options`` (strings)."""
        found = self.optional_choice(key, options)
        return default if found is None else found

    def optional_choice(self, key: str, options: Sequence[T]) -> T | None:
        """One of ``options``, or None when not given."""
        value = self._params.get(key)
        if value is None:
            return None
        for option in options:
            if value == option and isinstance(value, str):
                return option
        raise self.error(key, f"one of {', '.join(options)}", got=value)

    def choices(self, key: str, options: Sequence[T], default: tuple[T, ...]) -> tuple[T, ...]:
        """A non-empty list of distinct ``options`` (a single string is a list of one)."""
        value = self._params.get(key)
        if value is None:
            return default
        items = (value,) if isinstance(value, str) else value
        expected = f"a non-empty list of distinct values among {', '.join(options)}"
        if not isinstance(items, list | tuple) or not items or len(set(items)) != len(items):
            raise self.error(key, expected, got=value)
        found = []
        for item in items:
            match = [option for option in options if isinstance(item, str) and item == option]
            if not match:
                raise self.error(key, expected, got=value)
            found.append(match[0])
        return tuple(found)

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self._params.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, "true or false", got=value)
        return value

    def integer(self, key: str, default: int, *, low: int) -> int:
        """An integer of at least ``low``."""
        value = self._params.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.error(key, f"an integer >= {low}", got=value)
        return value

    def number(
        self,
        key: str,
        default: float,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        low_open: bool = False,
        high_open: bool = False,
    ) -> float:
        """A finite number in the interval."""
        found = self.optional_number(
            key, low=low, high=high, low_open=low_open, high_open=high_open
        )
        return default if found is None else found

    def optional_number(
        self,
        key: str,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        low_open: bool = False,
        high_open: bool = False,
    ) -> float | None:
        """A finite number in the interval, or None when not given."""
        value = self._params.get(key)
        if value is None:
            return None
        expected = f"a number {_interval(low, high, low_open, high_open)}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, expected, got=value)
        number = float(value)
        inside = (low < number if low_open else low <= number) and (
            number < high if high_open else number <= high
        )
        if not math.isfinite(number) or not inside:
            raise self.error(key, expected, got=value)
        return number

    def _where(self, key: str) -> str:
        prefix = f"monitor {self.monitor!r}: " if self.monitor is not None else ""
        return f"{prefix}params.{key} of a {self.kind} monitor"


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """``in (0, 1]``, ``> 0``, ``<= 5`` or ``(finite)``, as the bounds say."""
    if math.isinf(low) and math.isinf(high):
        return "(finite)"
    if math.isinf(high):
        return f"{'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
