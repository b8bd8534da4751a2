"""Test helpers: notifications, retraining requests and channel declarations."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import TypeAdapter

from monitor.alerting.model import AlertSnapshot, Notification, RetrainRequest
from monitor.project.channels import Channel

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STARTS = dt.datetime(2026, 5, 1, 11, 50, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 5, 1, 12, 0, 5, tzinfo=dt.UTC)
ENDS = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
DASHBOARD = "https://driftline.example.com"
GROUP_KEY = '{}/{rule="credit-drift"}:{model="credit", rule="credit-drift"}'

_CHANNEL: TypeAdapter[Channel] = TypeAdapter(Channel)


def channel(**fields: Any) -> Channel:
    """A channel declaration validated the way the project loader validates it."""
    return _CHANNEL.validate_python({"name": "hook", **fields})


def alert(
    *,
    feature: str = "age",
    state: Literal["firing", "resolved"] = "firing",
    severity: Literal["info", "warning", "critical"] = "critical",
    value: float | None = 0.4213,
    annotations: Mapping[str, str] | None = None,
) -> AlertSnapshot:
    """An alert of rule ``credit-drift`` on model ``credit`` about one feature."""
    return AlertSnapshot(
        fingerprint=hashlib.sha256(feature.encode()).hexdigest()[:16],
        rule="credit-drift",
        state=state,
        severity=severity,
        labels={"rule": "credit-drift", "model": "credit", "feature": feature},
        annotations=(
            {"summary": f"Drift on {feature}"} if annotations is None else dict(annotations)
        ),
        value=value,
        starts_at=STARTS,
        ends_at=ENDS if state == "resolved" else None,
        url=f"{DASHBOARD}/alerts/credit-drift/{feature}",
    )


def notification(
    *alerts: AlertSnapshot,
    status: Literal["firing", "resolved"] = "firing",
    key: str = "ntf_7Hq2",
    channel_name: str = "hook",
) -> Notification:
    """A notification of the ``credit-drift`` group (two firing alerts by default)."""
    if not alerts:
        alerts = (alert(feature="age"), alert(feature="income", severity="warning", value=0.25))
    return Notification(
        key=key,
        channel=channel_name,
        group_key=GROUP_KEY,
        group_labels={"model": "credit", "rule": "credit-drift"},
        status=status,
        reason="first notification" if status == "firing" else "all alerts resolved",
        alerts=alerts,
        external_url=DASHBOARD,
        created_at=ENDS,
        common_labels={"rule": "credit-drift", "model": "credit"},
        common_annotations={},
    )


def retrain_request(
    *, findings: tuple[Mapping[str, object], ...] | None = None, key: str = "rtr_91xK"
) -> RetrainRequest:
    """A retraining request for model ``credit`` after drift on ``age``."""
    if findings is None:
        findings = (
            {"feature": "age", "method": "ks", "statistic": 0.31, "effect": 0.31},
            {"feature": "income", "method": "psi", "statistic": 0.27, "effect": float("nan")},
        )
    return RetrainRequest(
        key=key,
        channel="hook",
        rule="credit-drift",
        model="credit",
        version="7",
        monitor="credit-features",
        window_start=dt.datetime(2026, 5, 1, 11, 0, tzinfo=dt.UTC),
        window_end=ENDS,
        findings=findings,
        score=0.31,
        links={"model": f"{DASHBOARD}/models/credit", "alert": f"{DASHBOARD}/alerts/credit-drift"},
        created_at=ENDS,
    )
