"""Resolution of ``${NAME}`` references to environment variables in the raw project document.

References are replaced in string values (never in keys) before validation. ``$${NAME}``
stands for a literal ``${NAME}``. The paths of the values that received a substitution are
returned so that error messages never echo a value that came from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from monitor.project._base import Loc

__all__ = ["Interpolated", "InterpolationError", "interpolate"]

_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# ``$${`` (escape), or ``${`` with everything up to the next ``}`` (or the end).
_TOKEN = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\}?)")


class InterpolationError(ValueError):
    """A reference is malformed or names an unset variable.

    Parameters
    ----------
    at
        Path of the string value holding the reference.
    message
        What is wrong; names the variable, never a value.
    """

    def __init__(self, at: Loc, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


class Interpolated(NamedTuple):
    """The document with references resolved, and the paths of the values that had any."""

    data: Any
    from_environment: frozenset[Loc]


def interpolate(data: Any, environ: Mapping[str, str]) -> Interpolated:
    """Replace every ``${NAME}`` in the string values of a parsed YAML document.

    Parameters
    ----------
    data
        The document as parsed: nested ``dict``, ``list`` and scalars.
    environ
        Where variables are looked up.

    Returns
    -------
    Interpolated
        A new document (the input is not modified) and the substituted paths.

    Raises
    ------
    InterpolationError
        If a reference is malformed or its variable is not set.

    Examples
    --------
    >>> interpolate({"url": "https://${HOST}/hook"}, {"HOST": "example.com"}).data
    {'url': 'https://example.com/hook'}
    """
    paths: set[Loc] = set()
    resolved = _walk(data, (), environ, paths)
    return Interpolated(resolved, frozenset(paths))


def _walk(node: Any, at: Loc, environ: Mapping[str, str], paths: set[Loc]) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value, (*at, key), environ, paths) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, (*at, index), environ, paths) for index, value in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        return _substitute(node, at, environ, paths)
    return node


def _substitute(text: str, at: Loc, environ: Mapping[str, str], paths: set[Loc]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match["body"]
        if not match["close"] or _NAME.fullmatch(name) is None:
            msg = (
                "malformed environment variable reference: expected ${NAME} with NAME made of "
                "upper-case letters, digits and '_' (write $${ for a literal ${)"
            )
            raise InterpolationError(at, msg)
        if name not in environ:
            raise InterpolationError(at, f"environment variable {name} is not set")
        paths.add(at)
        return environ[name]

    return _TOKEN.sub(replace, text)
