"""Errors the API's services raise for requests that name things wrongly.

They carry where in the request the mistake is (``("body", "features", 1)``), not an HTTP
status: :mod:`monitor.api.handlers` maps them.
"""

from __future__ import annotations

from monitor.errors import ConfigError
from monitor.project._base import Loc

__all__ = ["InvalidRequestError"]


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
