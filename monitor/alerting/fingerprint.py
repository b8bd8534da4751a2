"""Alert identity and group identity, as Alertmanager computes them.

An alert is identified by its labels alone (annotations, times and state excluded): the
*fingerprint* is the 64-bit FNV-1a hash of the label set (names sorted; each name and each
value followed by a ``0xFF`` byte), written as 16 lower-case hex digits — prometheus/common's
``LabelSet.Fingerprint``. A group of alerts notified together is identified by its *group key*,
``<route key>:<group labels>``, with label sets written as ``{a="1", b="2"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

__all__ = [
    "ALL_LABELS",
    "ROOT_ROUTE",
    "fingerprint",
    "fingerprint_value",
    "format_labels",
    "group_key",
    "group_labels",
]

_OFFSET: Final = 14_695_981_039_346_656_037
_PRIME: Final = 1_099_511_628_211
_MASK: Final = (1 << 64) - 1
_SEPARATOR: Final = 0xFF

ROOT_ROUTE: Final = "{}"
"""Route key of the root route: Driftline has one route, every alert goes through it."""
ALL_LABELS: Final = "..."
"""The ``group_by`` entry meaning "every label" (each alert is then its own group)."""


def fingerprint_value(labels: Mapping[str, str]) -> int:
    """The 64-bit FNV-1a hash of a label set, as an unsigned integer.

    Examples
    --------
    >>> fingerprint_value({"name": "garland, briggs", "fear": "love is not enough"})
    5799056148416392346
    """
    value = _OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8"):
                value = ((value ^ byte) * _PRIME) & _MASK
            value = ((value ^ _SEPARATOR) * _PRIME) & _MASK
    return value


def fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint of an alert: its labels' hash as 16 lower-case hex digits.

    Parameters
    ----------
    labels
        The alert's labels; the order of the mapping does not matter.

    Returns
    -------
    str
        Alertmanager's ``%016x`` rendering of :func:`fingerprint_value`.

    Examples
    --------
    >>> fingerprint({})
    'cbf29ce484222325'
    >>> fingerprint({"name": "garland, briggs", "fear": "love is not enough"})
    '507a62d79ee76c9a'
    """
    return f"{fingerprint_value(labels):016x}"


def format_labels(labels: Mapping[str, str]) -> str:
    """A label set written as Alertmanager does: names sorted, values double-quoted.

    Examples
    --------
    >>> format_labels({"model": "churn", "alertname": 'say "hi"'})
    '{alertname="say \\\\"hi\\\\"", model="churn"}'
    >>> format_labels({})
    '{}'
    """
    pairs = (f"{name}={_quote(labels[name])}" for name in sorted(labels))
    return "{" + ", ".join(pairs) + "}"


def group_labels(labels: Mapping[str, str], group_by: Sequence[str]) -> dict[str, str]:
    """The labels of an alert that name its group.

    Parameters
    ----------
    labels
        The alert's labels.
    group_by
        Label names; a name the alert lacks is left out (as Alertmanager does). An empty list
        puts every alert in one group; ``["..."]`` groups by every label.

    Examples
    --------
    >>> group_labels({"alertname": "a", "model": "m", "team": "t"}, ["model", "zone"])
    {'model': 'm'}
    >>> group_labels({"alertname": "a"}, [])
    {}
    """
    if ALL_LABELS in group_by:
        return dict(labels)
    return {name: labels[name] for name in group_by if name in labels}


def group_key(route: str, labels: Mapping[str, str], group_by: Sequence[str]) -> str:
    """The key of the group an alert belongs to: ``<route>:<group labels>``.

    Parameters
    ----------
    route
        The route key (:data:`ROOT_ROUTE` for Driftline's single route).
    labels
        The alert's labels.
    group_by
        As for :func:`group_labels`.

    Examples
    --------
    >>> group_key(ROOT_ROUTE, {"alertname": "drift", "model": "churn", "x": "1"},
    ...           ["alertname", "model"])
    '{}:{alertname="drift", model="churn"}'
    """
    return f"{route}:{format_labels(group_labels(labels, group_by))}"


def _quote(value: str) -> str:
    """Double-quote like Go's ``%q`` for the characters label values hold in practice."""
    return json.dumps(value, ensure_ascii=False)
