"""Pydantic validation errors as the API's ``details``: a location and a one-line message.

Messages follow the project loader's wording (:mod:`monitor.project.messages`): what was
expected, then what was got. Locations start with where the value was (``body``,
``query``, ``path``, ``header``) and follow the request document, so the tags pydantic
inserts for discriminated unions drop out (``["body", "window", "size"]``, not
``["body", "window", "tumbling", "size"]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from monitor.api.errors import ErrorDetail
from monitor.project._base import ERROR_TYPE
from monitor.project.messages import follow_document, format_path

__all__ = ["CONTROL_FREE", "describe_errors", "summarize"]

#: Pattern of names in paths and queries: no control characters (the store cannot hold NUL).
CONTROL_FREE: Final = r"^[^\x00-\x1f\x7f]+$"

_MAX_SHOWN: Final = 80
_DATETIME: Final = "must be an ISO-8601 datetime with a timezone, like 2026-10-01T00:00:00Z"
_TEMPLATES: Final[dict[str, str]] = {
    "missing": "missing required field",
    "union_tag_not_found": "missing required field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
    "tuple_type": "must be an array",
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "too_long": "must have at most {max_length} items",
    "string_too_long": "must be at most {max_length} characters long",
    "timezone_aware": "must include a timezone, like 2026-10-01T00:00:00Z",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "value_error": "{error}",
}
_NO_GOT: Final = frozenset({"missing", "union_tag_not_found"})
_PATTERNS: Final = {CONTROL_FREE: "must not be empty or contain control characters"}


def describe_errors(errors: Iterable[Mapping[str, Any]], body: Any = None) -> list[ErrorDetail]:
    """Turn pydantic's error dicts into :class:`ErrorDetail` values.

    Parameters
    ----------
    errors
        ``RequestValidationError.errors()`` or ``ValidationError.errors()``.
    body
        The request body as parsed, to follow ``body`` locations through it.
    """
    return [
        ErrorDetail(loc=list(_location(error, body)), message=_message(error)) for error in errors
    ]


def summarize(details: Sequence[ErrorDetail]) -> str:
    """The ``error`` line of a 422: the first problem, and how many more there are."""
    if not details:
        return "invalid request"
    first = details[0]
    where = format_path(tuple(first.loc))
    text = f"{where}: {first.message}" if where else first.message
    if len(details) > 1:
        more = len(details) - 1
        text += f" (and {more} more error{'s' if more > 1 else ''})"
    return text


def _location(error: Mapping[str, Any], body: Any) -> tuple[str | int, ...]:
    loc = tuple(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    if error.get("type") == ERROR_TYPE:
        loc += tuple(ctx.get("at", ()))
    elif error.get("type") in {"union_tag_invalid", "union_tag_not_found"}:
        loc += ("type",)
    if error.get("type") == "json_invalid":
        return loc[:1]
    if not loc or loc[0] != "body":
        return loc
    return ("body", *_document_path(loc[1:], body))


def _document_path(loc: tuple[Any, ...], document: Any) -> list[str | int]:
    """Follow ``loc`` through the document, dropping the labels pydantic adds to unions."""
    return list(follow_document(loc, document))


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    got: object = error.get("input")
    show_got = kind not in _NO_GOT
    if kind == "json_invalid":
        position = error.get("loc", ("body",))[1:2]
        where = f" at character {position[0]}" if position else ""
        return f"invalid JSON{where}: {ctx.get('error', error.get('msg', ''))}"
    if kind == ERROR_TYPE:
        text = str(ctx.get("message", error.get("msg", "")))
        show_got = ctx.get("got_mode") != "none"
        got = ctx.get("got") if ctx.get("got_mode") == "value" else got
    elif kind == "union_tag_invalid":
        text, got = f"must be one of {ctx.get('expected_tags')}", ctx.get("tag")
    elif kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        several = "," in expected or " or " in expected
        text = f"must be one of {expected}" if several else f"must be {expected}"
    elif kind in {"too_short", "string_too_short"}:
        minimum = int(ctx.get("min_length", 1))
        text = "must not be empty" if minimum == 1 else f"must have at least {minimum} items"
        if kind == "string_too_short" and minimum > 1:
            text = f"must be at least {minimum} characters long"
    elif kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        text = _PATTERNS.get(pattern, f"must match {pattern}")
    elif kind == "extra_forbidden":
        text, show_got = "unknown field", False
    elif kind in _TEMPLATES:
        try:
            text = _TEMPLATES[kind].format(**ctx)
        except (KeyError, IndexError):
            text = str(error.get("msg", kind))
    else:
        text = str(error.get("msg", kind))
    if show_got:
        text += f", got {_show(got)}"
    return text


def _show(value: object) -> str:
    """A short, one-line rendering of an offending value, in JSON terms."""
    if isinstance(value, dict):
        text = "an object"
    elif isinstance(value, list | tuple) and not all(
        isinstance(item, str | int | float | bool | None) for item in value
    ):
        text = "an array"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except ValueError:
            text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."
