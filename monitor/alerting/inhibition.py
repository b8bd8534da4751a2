"""Inhibition: a firing alert mutes others, Alertmanager's ``inhibit_rules``.

An alert matching a rule's ``target_matchers`` is inhibited while at least one *firing*
alert matching its ``source_matchers`` has the same value for every label in ``equal`` (a
missing label equals ``""``, so when both alerts lack every ``equal`` label the rule
applies). An alert matching both sides cannot be inhibited by alerts that also match both
sides, so an alert never inhibits itself. Inhibited alerts keep their state; they are only
left out of notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.alerting.silences import Matcher, matches_all

__all__ = ["InhibitRule", "inhibited", "inhibited_by"]


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """One inhibition rule."""

    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()
    name: str | None = None

    def mutes(self, target: Mapping[str, str], source: Mapping[str, str]) -> bool:
        """Whether the firing alert ``source`` inhibits the alert ``target`` by this rule."""
        if not matches_all(self.target_matchers, target):
            return False
        if not matches_all(self.source_matchers, source):
            return False
        if matches_all(self.source_matchers, target) and matches_all(self.target_matchers, source):
            return False  # both match both sides: no inhibition between them
        return all(target.get(name, "") == source.get(name, "") for name in self.equal)


def inhibited_by(
    alert: Mapping[str, str],
    firing_alerts: Iterable[Mapping[str, str]],
    rules: Sequence[InhibitRule],
) -> Mapping[str, str] | None:
    """The labels of the first firing alert that inhibits ``alert``, or None.

    Parameters
    ----------
    alert
        The labels of the alert that may be muted.
    firing_alerts
        The labels of the alerts firing now (``alert`` itself may be among them).
    rules
        The inhibition rules.
    """
    sources = list(firing_alerts)
    for rule in rules:
        for source in sources:
            if rule.mutes(alert, source):
                return source
    return None


def inhibited(
    alert: Mapping[str, str],
    firing_alerts: Iterable[Mapping[str, str]],
    rules: Sequence[InhibitRule],
) -> bool:
    """Whether a firing alert inhibits ``alert`` (see :func:`inhibited_by`).

    Examples
    --------
    >>> from monitor.alerting.silences import parse_matcher
    >>> rule = InhibitRule((parse_matcher("severity=critical"),),
    ...                    (parse_matcher("severity=warning"),), equal=("model",))
    >>> warning = {"alertname": "drift", "severity": "warning", "model": "churn"}
    >>> inhibited(warning, [{"severity": "critical", "model": "churn"}], [rule])
    True
    >>> inhibited(warning, [{"severity": "critical", "model": "credit"}], [rule])
    False
    """
    return inhibited_by(alert, firing_alerts, rules) is not None
