"""Checks of 5-field cron expressions (``minute hour day-of-month month day-of-week``)."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import AfterValidator

from monitor.project._base import spec_error

__all__ = ["CronExpression", "check_cron"]


class _Field(NamedTuple):
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for the value low + i


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 0, 7, _DAYS),  # 0 and 7 are both Sunday
)


def check_cron(expression: str) -> str:
    """Check a standard 5-field cron expression and normalise its spacing.

    Each field is a comma-separated list of ``*``, ``*/step``, ``n``, ``n-m`` or ``n-m/step``;
    months and days of the week may also be written as ``jan``..``dec`` and ``sun``..``sat``.

    Parameters
    ----------
    expression
        The cron expression, fields separated by whitespace.

    Returns
    -------
    str
        The expression with single spaces between its fields.

    Raises
    ------
    ValueError
        If the expression does not have 5 fields, or a field is malformed or out of range.

    Examples
    --------
    >>> check_cron("*/15  9-17 * * mon-fri")
    '*/15 9-17 * * mon-fri'
    """
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        msg = f"found {len(fields)} fields, expected minute hour day-of-month month day-of-week"
        raise ValueError(msg)
    for text, field in zip(fields, _FIELDS, strict=True):
        for item in text.split(","):
            _check_item(item, field)
    return " ".join(fields)


def _check_item(item: str, field: _Field) -> None:
    span, slash, step = item.partition("/")
    if slash and not (step.isascii() and step.isdigit() and int(step) >= 1):
        msg = f"{field.name} step {step!r} must be a positive integer"
        raise ValueError(msg)
    if span == "*":
        return
    start, dash, end = span.partition("-")
    low = _value(start, field)
    high = _value(end, field) if dash else low
    if slash and not dash:
        msg = f"{field.name} {item!r}: a step needs '*' or a range before '/'"
        raise ValueError(msg)
    if low > high:
        msg = f"{field.name} range {span!r} runs backwards"
        raise ValueError(msg)


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.low + field.names.index(lowered)
    if not (text.isascii() and text.isdigit()):
        kind = "a number or a name" if field.names else "a number"
        msg = f"{field.name} {text!r} is not {kind}"
        raise ValueError(msg)
    value = int(text)
    if not field.low <= value <= field.high:
        msg = f"{field.name} {value} is out of range {field.low}-{field.high}"
        raise ValueError(msg)
    return value


def _validate(value: str) -> str:
    try:
        return check_cron(value)
    except ValueError as exc:
        expected = "must be a 5-field cron expression"
        raise spec_error(f"{expected}: {exc}", redacted=expected) from None


CronExpression = Annotated[str, AfterValidator(_validate)]
"""A 5-field cron expression, checked by :func:`check_cron` and stored normalised."""
