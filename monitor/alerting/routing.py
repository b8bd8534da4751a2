"""Which alerts go to which channel, in which group.

Driftline has one route: every alert goes to the channels its rule lists, grouped by the
``alerting.group_by`` labels. A *group* here is one group key and one channel — the unit
:func:`~monitor.alerting.notification.plan` decides for — with the group's alerts whose rule
lists that channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.alerting.fingerprint import ROOT_ROUTE, group_key, group_labels
from monitor.alerting.model import AlertSnapshot

__all__ = ["Group", "route"]


@dataclass(frozen=True, slots=True)
class Group:
    """The alerts of one group bound for one channel."""

    key: str
    labels: Mapping[str, str]
    channel: str
    #: By fingerprint.
    alerts: tuple[AlertSnapshot, ...]


def route(
    alerts: Iterable[AlertSnapshot],
    channels: Mapping[str, Sequence[str]],
    *,
    group_by: Sequence[str],
    route_key: str = ROOT_ROUTE,
) -> list[Group]:
    """Sort alerts into (group, channel) pairs.

    Parameters
    ----------
    alerts
        Firing and resolved alerts.
    channels
        Channel names per rule name; an alert of a rule not listed goes nowhere.
    group_by
        The labels forming groups (``alerting.group_by``).
    route_key
        The route's key, the first part of each group key.

    Returns
    -------
    list of Group
        By group key, then channel.

    Examples
    --------
    >>> import datetime as dt
    >>> alert = AlertSnapshot("f1", "drift", "firing", "warning",
    ...     {"alertname": "drift", "model": "churn"}, {}, 0.4,
    ...     dt.datetime(2026, 3, 2, tzinfo=dt.UTC), None, "http://x/alerts/f1")
    >>> [(g.key, g.channel) for g in route([alert], {"drift": ["slack"]}, group_by=["model"])]
    [('{}:{model="churn"}', 'slack')]
    """
    found: dict[tuple[str, str], list[AlertSnapshot]] = defaultdict(list)
    labels_of: dict[str, dict[str, str]] = {}
    for alert in alerts:
        key = group_key(route_key, alert.labels, group_by)
        labels_of[key] = group_labels(alert.labels, group_by)
        for channel in channels.get(alert.rule, ()):
            found[key, channel].append(alert)
    return [
        Group(key, labels_of[key], channel, tuple(sorted(group, key=lambda a: a.fingerprint)))
        for (key, channel), group in sorted(found.items())
    ]
