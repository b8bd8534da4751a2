"""The alerts list, one alert's history and deliveries, and the silences."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy.engine import Engine

from dashboards.web.timerange import PageQueryError, TimeRange
from storage.errors import NotFoundError
from storage.repositories.alerting import list_alerts, list_silences
from storage.repositories.dashboard_alerts import (
    alerts_by_fingerprint,
    deliveries_for_alerts,
)

__all__ = ["alert_context", "alerts_context", "silences_context"]

STATES: Final = ("pending", "firing", "resolved")
#: Alerts listed on one page.
PAGE_SIZE: Final = 200


def alerts_context(
    engine: Engine, span: TimeRange, *, state: str | None, model: str | None
) -> dict[str, Any]:
    """Alerts active at some time in the range, newest first."""
    if state is not None and state not in STATES:
        raise PageQueryError(f"state: expected one of {', '.join(STATES)}, got {state!r}")
    rows = list_alerts(engine, state=state, model=model, limit=PAGE_SIZE)
    shown = [
        row
        for row in rows
        if row.active_since <= span.end
        and (row.resolved_at is None or row.resolved_at >= span.start)
    ]
    return {
        "alerts": shown,
        "span": span,
        "state": state,
        "states": STATES,
        "model": model,
        "truncated": len(rows) == PAGE_SIZE,
    }


def alert_context(engine: Engine, fingerprint: str) -> dict[str, Any]:
    """Every episode of one alert with its state changes, and what was sent about it."""
    episodes = alerts_by_fingerprint(engine, fingerprint)
    if not episodes:
        raise NotFoundError(f"no alert has the fingerprint {fingerprint!r}")
    ids = [e.alert.id for e in episodes if e.alert.id is not None]
    deliveries = deliveries_for_alerts(engine, ids)
    latest = episodes[0]
    return {
        "fingerprint": fingerprint,
        "latest": latest,
        "episodes": episodes,
        "deliveries": deliveries,
        "model": latest.alert.labels.get("model"),
    }


def silences_context(engine: Engine, *, now: dt.datetime, expired: bool) -> dict[str, Any]:
    """Silences, the active and pending first; expired ones on request."""
    silences = list_silences(engine, now=now, include_expired=expired)
    rows = []
    for silence in silences:
        if silence.expired_at is not None or silence.ends_at < now:
            status = "expired"
        elif silence.starts_at > now:
            status = "pending"
        else:
            status = "active"
        rows.append((silence, status))
    return {"silences": rows, "expired": expired}
