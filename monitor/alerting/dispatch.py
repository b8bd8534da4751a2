"""The dispatcher: sends the outbox's due deliveries, retries them, dead-letters them.

Each pass claims a batch of due deliveries for a lease, renders each one for its channel
(signing afresh per attempt), sends it through the egress guard and records the attempt.
A delivery whose sender dies mid-pass becomes due again when its lease ends and is sent
again under the same idempotency key, so a receiver that deduplicates on it (Standard
Webhooks' ``webhook-id``, the ``Idempotency-Key`` header, PagerDuty's ``dedup_key``)
sees one notification, however many attempts it took.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.engine import Engine

from monitor.alerting.backoff import RetryPolicy
from monitor.alerting.channels import OutgoingEmail, render_any
from monitor.alerting.egress import EgressPolicy, SendResult, send, send_email
from monitor.alerting.payloads import from_payload
from monitor.errors import DriftlineError
from monitor.project.channels import Channel
from storage.repositories.alerting import (
    DeliveryRow,
    Outcome,
    claim_due_deliveries,
    finish_attempt,
)
from storage.types import utc_now

__all__ = ["DispatchMetrics", "Dispatcher"]

logger = logging.getLogger(__name__)


class DispatchMetrics:
    """Deliveries by channel and outcome, and how long sending took."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "driftline_alert_delivery_attempts",
            "Delivery attempts by channel and outcome (delivered, retry, failed, dead).",
            ("channel", "outcome"),
            registry=registry,
        )
        self.seconds = Histogram(
            "driftline_alert_delivery_duration_seconds",
            "Time one delivery attempt took.",
            ("channel",),
            registry=registry,
        )


class Dispatcher:
    """Sends due deliveries to the channels declared in the project.

    Parameters
    ----------
    engine
        The store holding the outbox.
    channels
        Channel name to its declaration (secrets resolved).
    policy
        Which addresses may be sent to.
    retry
        Backoff and the number of tries before a delivery is dead.
    batch
        Deliveries claimed per pass.
    lease
        How long a claimed delivery is reserved for this dispatcher.
    """

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        *,
        policy: EgressPolicy,
        retry: RetryPolicy | None = None,
        batch: int = 20,
        lease: dt.timedelta = dt.timedelta(minutes=2),
        metrics: DispatchMetrics | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.channels = dict(channels)
        self.policy = policy
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self.lease = lease
        self.metrics = metrics
        self.clock = clock
        self.rng = rng or random.Random()

    def run_once(self) -> int:
        """One pass: claim, send and record every due delivery; returns how many."""
        deliveries = claim_due_deliveries(
            self.engine, now=self.clock(), limit=self.batch, lease=self.lease
        )
        for delivery in deliveries:
            self._deliver(delivery)
        return len(deliveries)

    def drain(self, *, max_passes: int = 100) -> int:
        """Passes until nothing is due (bounded); returns the deliveries handled."""
        total = 0
        for _ in range(max_passes):
            handled = self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    def _deliver(self, delivery: DeliveryRow) -> None:
        started = time.perf_counter()
        result = self._send(delivery)
        seconds = time.perf_counter() - started
        now = self.clock()
        outcome: Outcome = result.outcome
        retry_at = None
        error = result.error
        if outcome == "retry":
            if self.retry.exhausted(delivery.attempts):
                outcome = "dead"
                error = f"gave up after {delivery.attempts} attempts; last: {result.error}"
            else:
                retry_at = self.retry.retry_at(
                    now,
                    attempts=delivery.attempts,
                    retry_after=result.retry_after_seconds,
                    rng=self.rng,
                )
        finish_attempt(
            self.engine,
            delivery,
            outcome=outcome,
            now=now,
            status_code=result.status_code,
            error=error,
            seconds=seconds,
            retry_at=retry_at,
        )
        if self.metrics is not None:
            self.metrics.attempts.labels(delivery.channel, outcome).inc()
            self.metrics.seconds.labels(delivery.channel).observe(seconds)
        level = logging.INFO if outcome in ("delivered", "retry") else logging.WARNING
        logger.log(
            level,
            "delivery %s (%s to %s, attempt %d): %s%s",
            delivery.key, delivery.event, delivery.channel, delivery.attempts, outcome,
            f" - {error}" if error else "",
        )  # fmt: skip

    def _send(self, delivery: DeliveryRow) -> SendResult:
        spec = self.channels.get(delivery.channel)
        if spec is None:
            return SendResult("failed", error=f"channel {delivery.channel!r} is no longer declared")
        try:
            item = from_payload(delivery.event, delivery.payload)
            outgoing = render_any(spec, item, now=self.clock())
        except (DriftlineError, KeyError, ValueError) as exc:
            return SendResult("failed", error=f"cannot render the delivery: {exc}")
        if isinstance(outgoing, OutgoingEmail):
            return send_email(outgoing, policy=self.policy)
        return send(outgoing, policy=self.policy)
