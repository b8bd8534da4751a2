"""Errors the API's services raise for requests that name things wrongly.

They carry where in the request the mistake is (``("body", "features", 1)``), not an HTTP
status: :mod:`monitor.api.handlers` maps them.
"""

from __future__ import annotations

import math
from typing import Any

from monitor.errors import ConfigError
from monitor.project._base import Loc

__all__ = ["InvalidRequestError", "check_storable"]


class InvalidRequestError(ConfigError):
    """A request parameter or body field is well-formed but names nothing usable.

    Parameters
    ----------
    loc
        Where the value is: ``"body"``, ``"query"`` or ``"path"``, then the field path.
    message
        What is wrong with it, without the location.
    """

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message

    def __repr__(self) -> str:
        return f"InvalidRequestError(loc={self.loc!r}, message={self.message!r})"


def check_storable(value: Any, at: Loc) -> None:
    """Refuse what JSON columns cannot hold: NUL characters and non-finite numbers."""
    if isinstance(value, str) and "\x00" in value:
        raise InvalidRequestError(at, "must not contain NUL characters")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidRequestError(at, f"must be a finite number, got {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, at)
            check_storable(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, (*at, index))
