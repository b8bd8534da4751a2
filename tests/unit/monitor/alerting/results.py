"""Test helpers: monitor results and alert rules built in one line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from monitor.project.alert_rules import AlertRuleSpec

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Result:
    """Shaped like ``storage.repositories.monitors.ResultInfo`` (the fields conditions read)."""

    kind: str = "data_drift"
    status: str = "ok"
    score: float | None = None
    sample_size: int = 500
    summary: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] | None = None
    window_end: dt.datetime = T0
    window_start: dt.datetime = T0 - STEP
    monitor_name: str = "credit-drift"
    model_name: str = "credit-risk"


def drift(share: float | None, at: dt.datetime = T0) -> Result:
    """A data drift result of ``share``; None gives an ``insufficient_data`` result."""
    summary: dict[str, Any]
    if share is None:
        summary = {"reason": "too few rows", "detectors": []}
        return Result(status="insufficient_data", summary=summary, window_end=at)
    status = "alarm" if share >= 0.5 else "ok"
    summary = {"drift_share": share, "n_drifted": 0, "dataset_drift": share >= 0.5}
    return Result(
        status=status, score=share, summary=summary, window_end=at, window_start=at - STEP
    )


def make_rule(**fields: Any) -> AlertRuleSpec:
    """``drift-high``: drift_share > 0.3 on credit-drift, with ``fields`` changed."""
    document: dict[str, Any] = {
        "name": "drift-high",
        "monitor": "credit-drift",
        "condition": {"metric": "drift_share", "op": ">", "value": 0.3},
        **fields,
    }
    return AlertRuleSpec.model_validate(document)
