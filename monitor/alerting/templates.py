"""Annotation templates: ``{{ name }}`` replaced by a value, and nothing else.

Deliberately not Jinja: a placeholder is one name between ``{{`` and ``}}`` (spaces
allowed), with no attribute access, filters, expressions or control flow, so a project file
cannot run code or read anything but the values listed here. Every ``{{`` opens a
placeholder. Templates are checked when the project file is loaded (:func:`check_template`),
so an unknown placeholder never reaches a notification.

Placeholders of every rule: ``value`` (the metric's value), ``threshold``, ``metric``,
``op``, ``rule``, ``severity``, ``model``, ``monitor``, ``window_start``, ``window_end``;
plus ``feature`` for ``feature.<name>.*`` metrics and ``output`` for ``output.<name>.*``
metrics (:func:`placeholders_for`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from typing import Final

from monitor.errors import DriftlineError

__all__ = [
    "PLACEHOLDERS",
    "TemplateError",
    "check_template",
    "format_time",
    "format_value",
    "placeholders",
    "placeholders_for",
    "render",
]

PLACEHOLDERS: Final = (
    "value",
    "threshold",
    "metric",
    "op",
    "rule",
    "severity",
    "model",
    "monitor",
    "window_start",
    "window_end",
)
"""Placeholders every rule's annotations may use."""

_OPEN: Final = "{{"
_CLOSE: Final = "}}"
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")


class TemplateError(DriftlineError, ValueError):
    """A template is malformed or names a placeholder that does not exist."""


def placeholders(text: str) -> tuple[str, ...]:
    """The placeholder names of a template, in order of appearance.

    Raises
    ------
    TemplateError
        On a ``{{`` without ``}}``, or a placeholder that is not a plain name.

    Examples
    --------
    >>> placeholders("Drift {{ value }} on {{model}}")
    ('value', 'model')
    """
    return tuple(name for kind, name in _parts(text) if kind == "name")


def check_template(text: str, allowed: Collection[str]) -> None:
    """Check that a template is well formed and uses only ``allowed`` placeholders.

    Raises
    ------
    TemplateError
        ``unknown placeholder {{ x }}; placeholders: value, ...`` and the like.

    Examples
    --------
    >>> check_template("{{ value }}", PLACEHOLDERS)
    >>> check_template("{{ valu }}", ["value"])
    Traceback (most recent call last):
    ...
    monitor.alerting.templates.TemplateError: unknown placeholder {{ valu }}; placeholders: value
    """
    for name in placeholders(text):
        if name not in allowed:
            listing = ", ".join(allowed)
            raise TemplateError(f"unknown placeholder {{{{ {name} }}}}; placeholders: {listing}")


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder by its value.

    Raises
    ------
    TemplateError
        If the template is malformed or a placeholder has no value.

    Examples
    --------
    >>> render("Drift {{ value }} on {{ model }}", {"value": "0.42", "model": "churn"})
    'Drift 0.42 on churn'
    """
    pieces: list[str] = []
    for kind, piece in _parts(text):
        if kind == "text":
            pieces.append(piece)
        elif piece in values:
            pieces.append(values[piece])
        else:
            raise TemplateError(f"no value for placeholder {{{{ {piece} }}}}")
    return "".join(pieces)


def placeholders_for(metric: str) -> tuple[str, ...]:
    """The placeholders of a rule whose condition reads ``metric``.

    Examples
    --------
    >>> placeholders_for("feature.age.drifted")[-1]
    'feature'
    >>> "output" in placeholders_for("drift_share")
    False
    """
    prefix, _, rest = metric.partition(".")
    if prefix in ("feature", "output") and "." in rest:
        return (*PLACEHOLDERS, prefix)
    return PLACEHOLDERS


def format_value(value: float | None) -> str:
    """A metric value for people: six significant digits, ``n/a`` when unknown.

    Examples
    --------
    >>> format_value(0.123456789), format_value(3.0), format_value(None)
    ('0.123457', '3', 'n/a')
    """
    return "n/a" if value is None else f"{value:.6g}"


def format_time(moment: dt.datetime) -> str:
    """A UTC timestamp as ISO 8601 with a ``Z``.

    Examples
    --------
    >>> format_time(dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
    '2026-03-02T09:30:00Z'
    """
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parts(text: str) -> list[tuple[str, str]]:
    """Split a template into ``("text", ...)`` and ``("name", ...)`` parts."""
    parts: list[tuple[str, str]] = []
    position = 0
    while (start := text.find(_OPEN, position)) >= 0:
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            raise TemplateError(f"'{{{{' at character {start + 1} is never closed by '}}}}'")
        inner = text[start + len(_OPEN) : end]
        match = _NAME.fullmatch(inner)
        if match is None:
            raise TemplateError(
                f"unsupported placeholder {{{{{inner}}}}}: only a name like {{{{ value }}}} "
                "is allowed (no attributes, filters or expressions)"
            )
        parts.extend((("text", text[position:start]), ("name", match[1])))
        position = end + len(_CLOSE)
    parts.append(("text", text[position:]))
    return parts
