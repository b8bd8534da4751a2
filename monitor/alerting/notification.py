"""When to notify a channel about a group of alerts: Alertmanager's flush and dedup logic.

Per (group, channel) a :class:`GroupLog` remembers what the channel was last told.
:func:`plan` is called whenever convenient (after each evaluation cycle, on a timer) and
decides as Alertmanager's aggregation group and dedup stage would:

- a group's *episode* starts when it first has a firing alert (``first_seen_at``, the
  earliest ``starts_at`` of its firing alerts) and ends when it has no firing alert and the
  channel was told so (or never told anything);
- flushes happen on *ticks*: the first at ``first_seen_at + group_wait``, then every
  ``group_interval``. A call between ticks decides nothing; a call after a tick not yet
  flushed (``flushed_at``) flushes it with the alerts as they are now;
- at a flush, silenced and inhibited alerts (``muted``) are left out (they keep their
  state); then Alertmanager's ``needsUpdate``: new firing alerts ⇒ ``first notification`` /
  ``new alerts added``; no firing alert left ⇒ ``all alerts resolved`` (only when the last
  notification had firing alerts; sent only with ``send_resolved``, else the log is cleared
  silently); newly resolved alerts with ``send_resolved`` ⇒ ``some alerts resolved``; else
  ``repeat interval elapsed`` once ``repeat_interval`` has passed since the last
  notification, checked at ticks, so rounded up to a multiple of ``group_interval``.

An alert that fires and resolves between two flushes is never announced; a resolved alert is
announced once. Times are the alerts' (window ends) and the caller's clock for ``now``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from monitor.alerting.evaluation import AlertRecord
from monitor.alerting.fingerprint import group_key
from monitor.alerting.inhibition import InhibitRule, inhibited
from monitor.alerting.model import AlertSnapshot, Notification, NotificationReason
from monitor.alerting.silences import SilenceView, is_silenced

__all__ = [
    "Decision",
    "GroupLog",
    "GroupTiming",
    "build_notification",
    "group_key",
    "muted_alerts",
    "notification_key",
    "plan",
    "snapshot",
]

_Severity = Literal["info", "warning", "critical"]
_SEVERITIES: Final[dict[str, _Severity]] = {
    "info": "info",
    "warning": "warning",
    "critical": "critical",
}


class GroupTiming(Protocol):
    """Alertmanager's timers (``AlertingSpec`` has them)."""

    @property
    def group_wait(self) -> dt.timedelta: ...
    @property
    def group_interval(self) -> dt.timedelta: ...
    @property
    def repeat_interval(self) -> dt.timedelta: ...


@dataclass(frozen=True, slots=True)
class GroupLog:
    """What one channel was last told about one group (Alertmanager's nflog entry).

    Attributes
    ----------
    firing, resolved
        Fingerprints of the firing and resolved alerts of the last notification.
    notified_at
        Tick of the last notification (None: never notified).
    first_seen_at
        Start of the group's current episode (None: the group is quiet).
    flushed_at
        Last tick flushed in this episode.
    count
        Notifications sent so far; never reset.
    """

    firing: frozenset[str] = frozenset()
    resolved: frozenset[str] = frozenset()
    notified_at: dt.datetime | None = None
    first_seen_at: dt.datetime | None = None
    flushed_at: dt.datetime | None = None
    count: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`plan`.

    Attributes
    ----------
    notify
        Whether to send a notification of ``alerts_to_send``.
    reason
        Why the log changes; set with ``notify`` false when all alerts resolved on a channel
        without ``send_resolved`` (nothing is sent, the log is cleared).
    alerts_to_send
        Firing alerts, then newly resolved ones (with ``send_resolved``), by fingerprint.
    new_log
        The log to store (it may change without a notification: ticks, episodes).
    next_flush_at
        When the next flush is due (None: the group is quiet).
    """

    notify: bool
    reason: NotificationReason | None
    alerts_to_send: tuple[AlertSnapshot, ...]
    new_log: GroupLog
    next_flush_at: dt.datetime | None


def snapshot(record: AlertRecord, *, external_url: str) -> AlertSnapshot:
    """An alert as notifications show it; ``starts_at`` is when it fired.

    Raises
    ------
    ValueError
        For a pending alert (pending alerts are never notified) or an unknown severity.
    """
    if record.state == "pending" or record.fired_at is None:
        raise ValueError(f"alert {record.fingerprint} has not fired: pending alerts are not sent")
    label = record.labels.get("severity", "")
    severity = _SEVERITIES.get(label)
    if severity is None:
        raise ValueError(f"alert {record.fingerprint} has an unknown severity {label!r}")
    return AlertSnapshot(
        fingerprint=record.fingerprint,
        rule=record.rule,
        state="firing" if record.state == "firing" else "resolved",
        severity=severity,
        labels=dict(record.labels),
        annotations=dict(record.annotations),
        value=record.value,
        starts_at=record.fired_at,
        ends_at=record.resolved_at if record.state == "resolved" else None,
        url=f"{external_url.rstrip('/')}/alerts/{record.fingerprint}",
    )


def muted_alerts(
    alerts: Iterable[AlertSnapshot],
    *,
    firing: Iterable[Mapping[str, str]],
    silences: Iterable[SilenceView],
    inhibit_rules: Sequence[InhibitRule],
    now: dt.datetime,
) -> frozenset[str]:
    """Fingerprints of the alerts an active silence or a firing alert mutes.

    Parameters
    ----------
    alerts
        The alerts of a group.
    firing
        Labels of every firing alert of every group, silenced or not: the possible
        inhibitors (Alertmanager's inhibitor sees them all).
    silences, inhibit_rules
        Silences (only active ones mute) and inhibition rules.
    now
        The current time, for the silences.
    """
    sources, views = list(firing), list(silences)
    return frozenset(
        alert.fingerprint
        for alert in alerts
        if is_silenced(alert.labels, views, now) or inhibited(alert.labels, sources, inhibit_rules)
    )


def plan(
    alerts: Sequence[AlertSnapshot],
    log: GroupLog,
    *,
    now: dt.datetime,
    settings: GroupTiming,
    send_resolved: bool,
    muted: Collection[str] = frozenset(),
) -> Decision:
    """Decide whether to notify one channel about one group now (module notes).

    Parameters
    ----------
    alerts
        The group's firing and resolved alerts routed to the channel, muted ones included.
    log
        What the channel was told so far (``GroupLog()`` the first time).
    now
        The current time, timezone-aware.
    settings
        ``group_wait``, ``group_interval``, ``repeat_interval``.
    send_resolved
        The channel's setting.
    muted
        Fingerprints of silenced or inhibited alerts (:func:`muted_alerts`).

    Returns
    -------
    Decision
        Same inputs, same decision: a retried call yields the same notification.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    firing_now = [alert for alert in alerts if alert.state == "firing"]
    first_seen = log.first_seen_at
    if first_seen is None:
        if not firing_now:
            return Decision(False, None, (), log, None)
        first_seen = min(alert.starts_at for alert in firing_now)
    waiting = dataclasses.replace(log, first_seen_at=first_seen)
    first_flush = first_seen + settings.group_wait
    if now < first_flush:
        return Decision(False, None, (), waiting, first_flush)
    interval = settings.group_interval
    tick = first_flush + ((now - first_flush) // interval) * interval
    if log.flushed_at is not None and log.flushed_at >= tick:
        return Decision(False, None, (), waiting, tick + interval)
    visible = [alert for alert in alerts if alert.fingerprint not in muted]
    firing = frozenset(alert.fingerprint for alert in visible if alert.state == "firing")
    resolved = frozenset(alert.fingerprint for alert in visible if alert.state == "resolved")
    reason = None
    if visible or not alerts:  # every alert muted: Alertmanager's pipeline stops, log kept
        reason = _reason(log, firing, resolved, tick, settings.repeat_interval, send_resolved)
    new_log = dataclasses.replace(log, first_seen_at=first_seen, flushed_at=tick)
    sent: tuple[AlertSnapshot, ...] = ()
    if reason is not None:
        sent = _to_send(visible, log, send_resolved)
        count = log.count + (1 if sent else 0)
        new_log = GroupLog(firing, resolved, tick, first_seen, tick, count)
    next_flush: dt.datetime | None = tick + interval
    if not firing_now and not new_log.firing:  # the episode is over
        new_log = dataclasses.replace(new_log, first_seen_at=None, flushed_at=None)
        next_flush = None
    return Decision(bool(sent), reason, sent, new_log, next_flush)


def notification_key(group: str, channel: str, log: GroupLog) -> str:
    """The idempotency key of the notification that produced ``log``.

    A SHA-256 (hex) of the group key, the channel, the episode start, the sorted firing and
    resolved fingerprints and the notification count: replaying a decision gives the same
    key; a repeat of an unchanged group gives a new one.

    Examples
    --------
    >>> key = notification_key("{}:{}", "slack", GroupLog(frozenset({"a"}), count=1))
    >>> len(key), key == notification_key("{}:{}", "slack", GroupLog(frozenset({"a"}), count=2))
    (64, False)
    """
    started = log.first_seen_at.isoformat() if log.first_seen_at is not None else ""
    parts = (
        group,
        channel,
        started,
        ",".join(sorted(log.firing)),
        ",".join(sorted(log.resolved)),
        str(log.count),
    )
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def build_notification(
    decision: Decision,
    *,
    channel: str,
    group: str,
    group_labels: Mapping[str, str],
    external_url: str,
    created_at: dt.datetime,
) -> Notification:
    """The notification a decision sends to ``channel``.

    Raises
    ------
    ValueError
        If the decision sends nothing.
    """
    if not decision.notify or decision.reason is None or not decision.alerts_to_send:
        raise ValueError("the decision sends no notification")
    alerts = decision.alerts_to_send
    firing = any(alert.state == "firing" for alert in alerts)
    return Notification(
        key=notification_key(group, channel, decision.new_log),
        channel=channel,
        group_key=group,
        group_labels=dict(group_labels),
        status="firing" if firing else "resolved",
        reason=decision.reason,
        alerts=alerts,
        external_url=external_url,
        created_at=created_at,
        common_labels=_common(alert.labels for alert in alerts),
        common_annotations=_common(alert.annotations for alert in alerts),
    )


def _reason(
    log: GroupLog,
    firing: frozenset[str],
    resolved: frozenset[str],
    tick: dt.datetime,
    repeat: dt.timedelta,
    send_resolved: bool,
) -> NotificationReason | None:
    """Alertmanager's ``needsUpdate``, with the reason it reports."""
    if not firing <= log.firing:
        return "new alerts added" if log.firing else "first notification"
    if not firing:
        return "all alerts resolved" if log.firing else None
    if send_resolved and not resolved <= log.resolved:
        return "some alerts resolved"
    if log.notified_at is not None and tick - log.notified_at >= repeat:
        return "repeat interval elapsed"
    return None


def _to_send(
    visible: Sequence[AlertSnapshot], log: GroupLog, send_resolved: bool
) -> tuple[AlertSnapshot, ...]:
    firing = sorted((a for a in visible if a.state == "firing"), key=lambda a: a.fingerprint)
    if not firing and not send_resolved:
        return ()
    resolved = sorted(
        (a for a in visible if a.state == "resolved" and a.fingerprint not in log.resolved),
        key=lambda a: a.fingerprint,
    )
    return (*firing, *(resolved if send_resolved else ()))


def _common(mappings: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The pairs every mapping has."""
    common: dict[str, str] | None = None
    for mapping in mappings:
        if common is None:
            common = dict(mapping)
        else:
            common = {key: value for key, value in common.items() if mapping.get(key) == value}
    return common or {}
