"""How values go on the wire: JSON bodies and RFC 3339 timestamps."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["ZERO_TIME", "json_bytes", "json_size", "plain", "rfc3339"]

ZERO_TIME: Final = "0001-01-01T00:00:00Z"
"""Go's zero time, which Alertmanager sends as the ``endsAt`` of a firing alert."""


def rfc3339(moment: dt.datetime) -> str:
    """Write a timezone-aware datetime in UTC, RFC 3339 with a ``Z``.

    Parameters
    ----------
    moment
        A timezone-aware datetime.

    Returns
    -------
    str
        ``2026-05-01T12:00:00Z``, with microseconds when there are any.

    Raises
    ------
    ValueError
        If ``moment`` is naive.

    Examples
    --------
    >>> rfc3339(dt.datetime(2026, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    '2026-05-01T12:00:00Z'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"timestamps must be timezone-aware, got the naive datetime {moment.isoformat()}"
        raise ValueError(msg)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """Turn a value into plain JSON types.

    Mappings become dicts (keys as strings), sequences lists, datetimes RFC 3339 strings,
    NumPy scalars their Python value, and NaN or infinite floats ``None`` (JSON has no
    such numbers). Anything else becomes its ``str``.

    Parameters
    ----------
    value
        A nested structure, e.g. a finding of a monitor.

    Returns
    -------
    Any
        The same structure in ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and
        ``None`` only.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return plain(item())
    return str(value)


def json_bytes(payload: Any) -> bytes:
    """Encode a payload as compact UTF-8 JSON, after :func:`plain`.

    Parameters
    ----------
    payload
        The body as nested mappings and sequences.

    Returns
    -------
    bytes
        The JSON text, keys in insertion order, no insignificant whitespace.

    Examples
    --------
    >>> json_bytes({"a": float("nan"), "b": (1, 2)})
    b'{"a":null,"b":[1,2]}'
    """
    text = json.dumps(plain(payload), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


def json_size(payload: Any) -> int:
    """Bytes :func:`json_bytes` would produce for ``payload``."""
    return len(json_bytes(payload))
