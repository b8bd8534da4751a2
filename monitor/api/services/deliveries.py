"""The delivery log through the API: the outbox's deliveries, paged; one with its attempts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import Engine

from monitor.api.services.alerts import MAX_ID
from storage.errors import NotFoundError
from storage.repositories.alerting import DeliveryRow, delivery_attempts, list_deliveries

__all__ = [
    "DeliveryAttempt",
    "DeliveryDetail",
    "DeliveryPage",
    "DeliveryStatus",
    "deliveries_page",
    "delivery_detail",
]

DeliveryStatus = Literal["pending", "in_flight", "delivered", "failed", "dead"]


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """Deliveries, newest first; ``next_cursor`` is the ``before`` of the next page."""

    items: list[DeliveryRow]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt at sending a delivery."""

    attempt: int
    at: dt.datetime
    outcome: str
    status_code: int | None
    seconds: float | None
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    """A delivery, its payload and its attempts, oldest first."""

    delivery: DeliveryRow
    history: list[DeliveryAttempt]


def deliveries_page(
    engine: Engine,
    *,
    status: DeliveryStatus | None = None,
    channel: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> DeliveryPage:
    """One page of deliveries, newest (highest id) first, filtered."""
    rows = list_deliveries(
        engine, status=status, channel=channel, limit=limit + 1, before_id=before
    )
    more = len(rows) > limit
    items = rows[:limit]
    return DeliveryPage(items=items, next_cursor=items[-1].id if more else None)


def delivery_detail(engine: Engine, delivery_id: int) -> DeliveryDetail:
    """A delivery and its attempts.

    Raises
    ------
    NotFoundError
        If there is no delivery ``delivery_id``.
    """
    before = delivery_id + 1 if delivery_id < MAX_ID else None
    found = list_deliveries(engine, limit=1, before_id=before)
    if not found or found[0].id != delivery_id:
        raise NotFoundError(f"unknown delivery {delivery_id}")
    history = [
        DeliveryAttempt(
            attempt=int(row["attempt"]),
            at=row["at"],
            outcome=str(row["outcome"]),
            status_code=row["status_code"],
            seconds=row["seconds"],
            error=row["error"],
        )
        for row in delivery_attempts(engine, delivery_id)
    ]
    return DeliveryDetail(delivery=found[0], history=history)
