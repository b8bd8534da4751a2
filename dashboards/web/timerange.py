"""The time range and filters of a dashboard page, read from its URL so pages can be shared.

``from`` and ``to`` take a relative span (``30m``, ``24h``, ``7d``, ``12w``), meaning that
long before now, or an ISO 8601 time (a time without an offset is UTC); ``to`` may also be
``now``. The default range is the last seven days. Anything else is refused with a message
naming the parameter and the accepted forms.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["PRESETS", "PageQueryError", "TimeRange", "parse_moment", "parse_time_range"]

#: The spans offered by the range picker, with their labels.
PRESETS: Final = (
    ("6h", "6 hours"),
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
)
DEFAULT_FROM: Final = "7d"
_SPAN: Final = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS: Final = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_FORMS: Final = "a span such as 24h, 7d or 12w, or an ISO 8601 time such as 2026-01-31T12:00Z"


class PageQueryError(ValueError):
    """A query parameter of a page is malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A page's range ``(start, end]`` and how the URL spelled it."""

    start: dt.datetime
    end: dt.datetime
    raw_from: str
    raw_to: str

    @property
    def is_default(self) -> bool:
        return self.raw_from == DEFAULT_FROM and self.raw_to == "now"


def parse_moment(value: str, *, now: dt.datetime, name: str) -> dt.datetime:
    """A span before ``now`` or an ISO time, as an aware UTC datetime.

    >>> now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    >>> parse_moment("36h", now=now, name="from").isoformat()
    '2026-02-28T12:00:00+00:00'
    >>> parse_moment("2026-03-01T06:00", now=now, name="from").isoformat()
    '2026-03-01T06:00:00+00:00'
    """
    text = value.strip()
    if text == "now":
        return now
    span = _SPAN.match(text)
    if span is not None:
        amount = int(span.group(1))
        if amount == 0:
            raise PageQueryError(f"{name}: a span must be longer than 0, got {value!r}")
        return now - dt.timedelta(**{_UNITS[span.group(2)]: amount})
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise PageQueryError(f"{name}: expected {_FORMS}; got {value!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def parse_time_range(query: Mapping[str, str], *, now: dt.datetime) -> TimeRange:
    """The ``from`` / ``to`` parameters of ``query`` as a range; the last 7 days by default.

    >>> now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    >>> r = parse_time_range({"from": "24h"}, now=now)
    >>> (r.start.isoformat(), r.end.isoformat())
    ('2026-03-01T00:00:00+00:00', '2026-03-02T00:00:00+00:00')
    >>> parse_time_range({"from": "2026-03-03"}, now=now)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dashboards.web.timerange.PageQueryError: from (2026-03-03 00:00 UTC) must be before ...
    """
    raw_from = query.get("from") or DEFAULT_FROM
    raw_to = query.get("to") or "now"
    start = parse_moment(raw_from, now=now, name="from")
    end = parse_moment(raw_to, now=now, name="to")
    if start >= end:
        msg = f"from ({_show(start)}) must be before to ({_show(end)})"
        raise PageQueryError(msg)
    return TimeRange(start, end, raw_from.strip(), raw_to.strip())


def _show(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
