"""One-line descriptions of pydantic validation errors in the project document.

A message reads ``<field path>: <what was expected>, got <value>``. The field path is built
from pydantic's ``loc``, walked along the document itself so that union tags drop out
(``channels[0].webhook_url``, not ``channels.0.slack.webhook_url``). The ``got`` part is left
out for secret fields and for values that came from environment variables.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import typing
from collections.abc import Collection, Sequence
from typing import Any, Final

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from monitor.project._base import ERROR_TYPE, Loc
from monitor.project.channels import Channel

__all__ = ["describe_validation_error", "follow_document", "format_path"]

_MAX_SHOWN: Final = 80
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
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
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "too_long": "must have at most {max_length} items",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": "must match {pattern}",
    "timezone_aware": "must include a timezone, like 2026-10-01T00:00:00Z",
    "datetime_type": "must be an ISO-8601 datetime with a timezone, like 2026-10-01T00:00:00Z",
    "datetime_parsing": "must be an ISO-8601 datetime with a timezone, like 2026-10-01T00:00:00Z",
    "datetime_from_date_parsing": (
        "must be an ISO-8601 datetime with a timezone, like 2026-10-01T00:00:00Z"
    ),
    "value_error": "{error}",
}
_NO_GOT: Final = frozenset({"missing", "union_tag_not_found"})


def describe_validation_error(
    exc: ValidationError, data: Any, from_environment: Collection[Loc]
) -> tuple[str, str]:
    """Describe the first error of a failed :class:`~monitor.project.Project` validation.

    Parameters
    ----------
    exc
        The error raised by ``Project.model_validate(data)``.
    data
        The validated document, to turn ``loc`` into a field path.
    from_environment
        Paths of the values substituted from environment variables.

    Returns
    -------
    tuple of str
        The field path (``monitors[2].schedule.every``) and the one-line message, which ends
        with ``(and N more errors)`` when pydantic reported several.
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = _document_path(first, data)
    hidden = _is_secret(path) or any(tuple(env[: len(path)]) == path for env in from_environment)
    text = _message(first, hidden)
    if len(errors) > 1:
        more = len(errors) - 1
        text += f" (and {more} more error{'s' if more > 1 else ''})"
    return format_path(path), text


def format_path(path: Loc) -> str:
    """Write a document path as ``monitors[2].schedule.every``.

    Examples
    --------
    >>> format_path(("alert_rules", 0, "labels", "app.kubernetes.io/name"))
    "alert_rules[0].labels['app.kubernetes.io/name']"
    """
    text = ""
    for part in path:
        if isinstance(part, str) and _KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def _document_path(error: ErrorDetails, data: Any) -> Loc:
    """Follow ``loc`` through the document, dropping union tags and member labels."""
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if error["type"] == ERROR_TYPE:
        loc += tuple(ctx["at"])
    elif error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        loc += ("type",)
    return follow_document(loc, data)


def follow_document(loc: Sequence[Any], data: Any) -> Loc:
    """The part of a pydantic error location that exists in the validated document.

    Drops the labels pydantic inserts (the tag after a discriminated union, union member
    names, ``[key]``) and stops below the first missing key.
    """
    path: list[str | int] = []
    node, fresh, missing = data, False, False
    for part in loc:
        if isinstance(node, dict) and not missing:
            if fresh and isinstance(part, str) and node.get("type") == part:
                fresh = False  # the tag pydantic inserts after a discriminated union
                continue
            path.append(part)
            missing = part not in node
            node, fresh = node.get(part), True
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node, fresh = node[part], True
        elif missing:
            break
        # anything else is a label pydantic adds (union member, "[key]"): not in the document
    return tuple(path)


def _message(error: ErrorDetails, hidden: bool) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got: object = error["input"]
    show_got = kind not in _NO_GOT
    if kind == ERROR_TYPE:
        text = str(ctx["redacted"] if hidden and "redacted" in ctx else ctx["message"])
        show_got = ctx["got_mode"] != "none"
        got = ctx["got"] if ctx["got_mode"] == "value" else got
    elif kind == "union_tag_invalid":
        text, got = f"must be one of {ctx['expected_tags']}", ctx["tag"]
    elif kind == "literal_error":
        expected = str(ctx["expected"])
        several = "," in expected or " or " in expected
        text = f"must be one of {expected}" if several else f"must be {expected}"
    elif kind in {"too_short", "string_too_short"}:
        text = _too_short(kind, int(ctx["min_length"]))
    elif kind in _TEMPLATES:
        text = _TEMPLATES[kind].format(**ctx)
    else:
        text = error["msg"]
    if show_got and not hidden:
        text += f", got {_show(got)}"
    return text


def _too_short(kind: str, minimum: int) -> str:
    if minimum == 1:
        return "must not be empty"
    if kind == "string_too_short":
        return f"must be at least {minimum} characters long"
    return f"must have at least {minimum} items"


def _show(value: object) -> str:
    """A short, one-line rendering of an offending value, in YAML terms where they differ."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, dict | BaseModel):
        text = "a mapping"
    elif isinstance(value, list | tuple):
        if not all(isinstance(item, str | int | float | bool | None) for item in value):
            return "a list"
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, str | int | float):
        text = repr(value)
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."


def _is_secret(path: Loc) -> bool:
    """Whether a path runs through a field declared as a secret (on any channel type)."""
    keys = _secret_keys()
    return any(isinstance(part, str) and part in keys for part in path)


@functools.cache
def _secret_keys() -> frozenset[str]:
    union = typing.get_args(Channel)[0]
    return frozenset(
        field.alias or name
        for model in typing.get_args(union)
        for name, field in model.model_fields.items()
        if _mentions_secret(field.annotation)
    )


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(arg) for arg in typing.get_args(annotation))
