"""Alerting wired to the store: rules evaluated on each result, notifications planned on a
tick, retraining requests queued, all through the outbox.

Three entry points, each one transaction:

* :meth:`AlertingService.after_result` runs inside the transaction that stores a monitor
  result (the runner's hook): it moves the alerts of the monitor's rules and queues the
  retraining requests a newly firing rule asks for (respecting its cooldown).
* :meth:`AlertingService.notify` plans, per group and channel, what to send now (group
  wait, interval, repeat; silences; inhibition) and queues the notifications together
  with the notification log entries they advance.
* The dispatcher (:mod:`monitor.alerting.dispatch`) sends what is queued.

A process killed between any two of these loses nothing: each step reads what the
previous one committed, and notification keys are deterministic, so a replayed step
queues nothing twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.engine import Connection, Engine

from monitor.alerting.evaluation import AlertRecord, alert_labels, evaluate
from monitor.alerting.fingerprint import fingerprint
from monitor.alerting.model import AlertSnapshot, RetrainRequest
from monitor.alerting.notification import (
    GroupLog,
    build_notification,
    muted_alerts,
    plan,
    snapshot,
)
from monitor.alerting.payloads import EVENT_RETRAIN, to_payload
from monitor.alerting.routing import route
from monitor.alerting.silences import Matcher, SilenceView
from monitor.project import Project
from monitor.project.alert_rules import AlertRuleSpec
from storage.engine import write_transaction
from storage.repositories.alerting import (
    AlertRow,
    ChannelDraft,
    LogRow,
    RuleDraft,
    active_alerts,
    add_alert_event,
    enqueue_delivery,
    get_log,
    list_rules,
    list_silences,
    notifiable_alerts,
    put_log,
    save_alert,
    sync_alerting,
)
from storage.repositories.monitors import MonitorInfo, ResultDraft
from storage.types import utc_now

__all__ = [
    "AlertingMetrics",
    "AlertingService",
    "ResultFacts",
    "rule_draft",
    "sync_project_alerting",
]

logger = logging.getLogger(__name__)

#: Channel fields that hold secrets, or may (tokens in URLs): never stored.
_SECRET_FIELDS = frozenset(
    {"url", "webhook_url", "routing_key", "api_key", "password", "secret", "token", "headers"}
)


@dataclass(frozen=True, slots=True)
class ResultFacts:
    """A stored result as the conditions read it."""

    monitor_name: str
    model_name: str
    kind: str
    window_start: dt.datetime
    window_end: dt.datetime
    status: str
    score: float | None
    sample_size: int
    summary: Mapping[str, Any]
    details: Mapping[str, Any] | None

    @classmethod
    def of(cls, monitor: MonitorInfo, draft: ResultDraft) -> ResultFacts:
        return cls(
            monitor_name=monitor.name,
            model_name=monitor.model_name,
            kind=monitor.kind,
            window_start=draft.window_start,
            window_end=draft.window_end,
            status=draft.status,
            score=draft.score,
            sample_size=draft.sample_size,
            summary=draft.summary,
            details=draft.details,
        )


def rule_draft(rule: AlertRuleSpec) -> RuleDraft:
    """What the store keeps of a rule: its columns and its whole declaration as JSON."""
    return RuleDraft(
        name=rule.name,
        monitor_name=rule.monitor,
        condition=rule.condition.model_dump(mode="json"),
        for_seconds=int(rule.for_.total_seconds()),
        severity=rule.severity,
        labels=dict(rule.labels),
        annotations=dict(rule.annotations),
        channels=list(rule.channels),
        config=rule.model_dump(mode="json", by_alias=True),
    )


def sync_project_alerting(engine: Engine, project: Project) -> None:
    """Store the project's rules and channels (channel secrets are left out)."""
    channels = [
        ChannelDraft(
            name=channel.name,
            type=channel.type,
            config={
                key: value
                for key, value in channel.model_dump(mode="json").items()
                if key not in _SECRET_FIELDS
            },
        )
        for channel in project.channels
    ]
    sync_alerting(engine, [rule_draft(rule) for rule in project.alert_rules], channels)


class AlertingMetrics:
    """Firing alerts by rule and severity (as of the last tick), notifications queued."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.firing = Gauge(
            "driftline_alerts_firing",
            "Firing alerts by rule and severity, as of the last notification tick.",
            ("rule", "severity"),
            registry=registry,
        )
        self.notifications = Counter(
            "driftline_alert_notifications",
            "Notifications queued for delivery, by channel and status (firing, resolved).",
            ("channel", "status"),
            registry=registry,
        )

    def observe_firing(self, alerts: Sequence[AlertSnapshot]) -> None:
        """Replace the firing gauge with the counts of ``alerts``."""
        counts: dict[tuple[str, str], int] = {}
        for alert in alerts:
            if alert.state == "firing":
                key = (alert.rule, alert.severity)
                counts[key] = counts.get(key, 0) + 1
        self.firing.clear()
        for (rule, severity), count in counts.items():
            self.firing.labels(rule, severity).set(count)


class AlertingService:
    """The project's alert rules and channels, applied to the store.

    Parameters
    ----------
    project
        Rules, channels and the ``alerting`` section.
    clock
        Current time (UTC) for notification ticks; tests pass their own.
    """

    def __init__(
        self,
        project: Project,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        metrics: AlertingMetrics | None = None,
    ) -> None:
        self.project = project
        self.metrics = metrics
        self.settings = project.alerting
        self.clock = clock
        self._send_resolved = {c.name: c.send_resolved for c in project.channels}
        self._inhibit = [spec.rule() for spec in self.settings.inhibit_rules]
        self._specs: dict[tuple[int, dt.datetime], AlertRuleSpec] = {}

    def rules(
        self, connection: Connection, *, monitor_name: str | None = None
    ) -> list[tuple[int, AlertRuleSpec]]:
        """The enabled rules in the store (from the project file or the API), parsed."""
        found = []
        for info in list_rules(connection, monitor_name=monitor_name, enabled=True):
            key = (info.id, info.updated_at)
            spec = self._specs.get(key)
            if spec is None:
                try:
                    spec = AlertRuleSpec.model_validate(info.config)
                except ValueError as exc:
                    logger.error("alert rule %s cannot be read, skipped: %s", info.name, exc)
                    continue
                self._specs[key] = spec
            found.append((info.id, spec))
        return found

    # -- evaluation, in the result's transaction ---------------------------------------------

    def after_result(
        self, connection: Connection, monitor: MonitorInfo, draft: ResultDraft
    ) -> None:
        """Move the alerts of the monitor's rules on this result (the runner's hook)."""
        rules = self.rules(connection, monitor_name=monitor.name)
        if not rules:
            return
        facts = ResultFacts.of(monitor, draft)
        for rule_id, rule in rules:
            self._evaluate(connection, rule, rule_id, facts)

    def _evaluate(
        self, connection: Connection, rule: AlertRuleSpec, rule_id: int, facts: ResultFacts
    ) -> None:
        labels = alert_labels(rule, model=facts.model_name, monitor=facts.monitor_name)
        key = fingerprint(labels)
        stored = active_alerts(connection, rule_id).get(key)
        previous = None if stored is None else _record(stored)
        outcome = evaluate(rule, facts, previous)
        if outcome.event is None and outcome.record == previous:
            return
        if outcome.record is None:  # a pending alert cleared: kept as history, never notified
            if stored is None or stored.id is None:
                return
            cleared = dataclasses.replace(
                stored, state="resolved", resolved_at=facts.window_end,
                last_evaluated_at=facts.window_end, value=outcome.value,
            )  # fmt: skip
            save_alert(connection, cleared)
            add_alert_event(connection, stored.id, "cleared", facts.window_end, outcome.value)
            return
        alert_id = save_alert(connection, _row(outcome.record, rule_id, stored))
        if outcome.event is not None:
            add_alert_event(connection, alert_id, outcome.event, facts.window_end, outcome.value)
            logger.info(
                "alert %s %s (%s %s %s, value %s)",
                rule.name, outcome.event, rule.condition.metric, rule.condition.op,
                rule.condition.value, outcome.value,
            )  # fmt: skip
        if outcome.event == "firing" and rule.retrain is not None:
            self._retrain(connection, rule, facts)

    def _retrain(self, connection: Connection, rule: AlertRuleSpec, facts: ResultFacts) -> None:
        assert rule.retrain is not None
        group = f"retrain:{rule.name}:{facts.model_name}"
        for channel in rule.retrain.channels:
            log = get_log(connection, group, channel)
            if (
                log is not None
                and log.notified_at is not None
                and facts.window_end - log.notified_at < rule.retrain.cooldown
            ):
                logger.info("retraining for %s skipped: cooldown until %s", rule.name,
                            log.notified_at + rule.retrain.cooldown)  # fmt: skip
                continue
            key = _key(
                "retrain", rule.name, facts.model_name, channel, facts.window_end.isoformat()
            )
            request = RetrainRequest(
                key=key,
                channel=channel,
                rule=rule.name,
                model=facts.model_name,
                version=None,
                monitor=facts.monitor_name,
                window_start=facts.window_start,
                window_end=facts.window_end,
                findings=_findings(facts),
                score=facts.score,
                links=self._links(facts),
                created_at=self.clock(),
            )
            enqueue_delivery(
                connection, channel=channel, event=EVENT_RETRAIN, key=key,
                payload=to_payload(request), now=self.clock(),
            )  # fmt: skip
            count = 0 if log is None else log.count
            put_log(connection, LogRow(group, channel, (), (), None, facts.window_end, count + 1))

    def _links(self, facts: ResultFacts) -> dict[str, str]:
        base = self.settings.external_url.rstrip("/")
        return {
            "model": f"{base}/models/{facts.model_name}",
            "monitor": f"{base}/models/{facts.model_name}?monitor={facts.monitor_name}",
        }

    # -- notifications, on a tick ------------------------------------------------------------

    def notify(self, connection: Connection, *, now: dt.datetime | None = None) -> int:
        """Queue what every group's channels are to be told now; returns how many."""
        now = self.clock() if now is None else now
        since = now - self.settings.resolved_retention
        rows = notifiable_alerts(connection, resolved_since=since)
        external = self.settings.external_url.rstrip("/")
        snapshots = [snapshot(_record(row), external_url=external) for row in rows]
        firing = [a.labels for a in snapshots if a.state == "firing"]
        if self.metrics is not None:
            self.metrics.observe_firing(snapshots)
        silences = [_silence(row) for row in list_silences(connection, now=now)]
        channels = {rule.name: list(rule.channels) for _, rule in self.rules(connection)}
        queued = 0
        for group in route(snapshots, channels, group_by=self.settings.group_by):
            muted = muted_alerts(
                group.alerts, firing=firing, silences=silences,
                inhibit_rules=self._inhibit, now=now,
            )  # fmt: skip
            stored = get_log(connection, group.key, group.channel)
            log = GroupLog() if stored is None else _group_log(stored)
            decision = plan(
                group.alerts, log, now=now, settings=self.settings,
                send_resolved=self._send_resolved.get(group.channel, True), muted=muted,
            )  # fmt: skip
            if decision.notify:
                item = build_notification(
                    decision, channel=group.channel, group=group.key,
                    group_labels=group.labels, external_url=external, created_at=now,
                )  # fmt: skip
                added = enqueue_delivery(
                    connection, channel=group.channel, event=item.status, key=item.key,
                    payload=to_payload(item), now=now,
                )  # fmt: skip
                queued += added
                if added and self.metrics is not None:
                    self.metrics.notifications.labels(group.channel, item.status).inc()
            if decision.new_log != log:
                put_log(connection, _log_row(group.key, group.channel, decision.new_log))
        return queued

    def notify_now(self, engine: Engine) -> int:
        """:meth:`notify` in its own transaction (the scheduler's tick)."""
        with write_transaction(engine) as connection:
            return self.notify(connection)


def _record(row: AlertRow) -> AlertRecord:
    return AlertRecord(
        fingerprint=row.fingerprint,
        rule=row.rule,
        state=row.state,  # type: ignore[arg-type]
        labels=row.labels,
        annotations=row.annotations,
        value=row.value,
        active_since=row.active_since,
        fired_at=row.fired_at,
        resolved_at=row.resolved_at,
        last_true_at=row.last_true_at,
        last_evaluated_at=row.last_evaluated_at,
    )


def _row(record: AlertRecord, rule_id: int, stored: AlertRow | None) -> AlertRow:
    return AlertRow(
        id=None if stored is None else stored.id,
        rule_id=rule_id,
        rule=record.rule,
        fingerprint=record.fingerprint,
        state=record.state,
        labels=dict(record.labels),
        annotations=dict(record.annotations),
        value=record.value,
        active_since=record.active_since,
        fired_at=record.fired_at,
        resolved_at=record.resolved_at,
        last_true_at=record.last_true_at,
        last_evaluated_at=record.last_evaluated_at,
    )


def _group_log(row: LogRow) -> GroupLog:
    return GroupLog(
        firing=frozenset(row.firing),
        resolved=frozenset(row.resolved),
        notified_at=row.notified_at,
        first_seen_at=row.first_seen_at,
        flushed_at=row.flushed_at,
        count=row.count,
    )


def _log_row(group: str, channel: str, log: GroupLog) -> LogRow:
    return LogRow(
        group_key=group,
        channel=channel,
        firing=tuple(sorted(log.firing)),
        resolved=tuple(sorted(log.resolved)),
        first_seen_at=log.first_seen_at,
        notified_at=log.notified_at,
        count=log.count,
        flushed_at=log.flushed_at,
    )


def _silence(row: Any) -> SilenceView:
    return SilenceView(
        id=row.id,
        matchers=tuple(Matcher.from_dict(m) for m in row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        expired_at=row.expired_at,
    )


def _findings(facts: ResultFacts) -> tuple[Mapping[str, object], ...]:
    """What drifted and by how much: the drifted columns, or the summary's headline."""
    columns = (facts.details or {}).get("columns")
    if isinstance(columns, Sequence):
        drifted = [
            {k: c.get(k) for k in ("name", "method", "statistic", "p_value", "effect", "threshold")}
            for c in columns
            if isinstance(c, Mapping) and c.get("drifted")
        ]
        if drifted:
            return tuple(drifted)
    headline = {k: v for k, v in facts.summary.items() if isinstance(v, int | float | str | bool)}
    return (headline,) if headline else ()


def _key(*parts: str) -> str:
    return "rt_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
