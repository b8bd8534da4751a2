"""What the REST API returns: pydantic models, one per resource, and their list envelopes.

Requests are parsed into :class:`~monitor.project.monitors.MonitorSpec` (the project file's
schema) or :class:`MonitorReplacement`; responses are built from the storage layer's frozen
dataclasses by the ``of`` class methods, so handlers stay one line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from monitor.alerting.silences import MatchOp, SilenceState
from monitor.api.params import UtcDatetime
from monitor.api.services.alerts import AlertDetail, AlertState
from monitor.api.services.catalog import ModelSummary, VersionSummary
from monitor.api.services.deliveries import DeliveryDetail, DeliveryStatus
from monitor.api.services.silences import SilenceInfo, SilenceRequest
from monitor.api.validation import CONTROL_FREE
from monitor.project._base import Slug, spec_error
from monitor.project.durations import Duration
from monitor.project.monitors import MonitorSpec
from storage.repositories.alerting import AlertRow, DeliveryRow
from storage.repositories.monitors import MonitorInfo, ResultInfo, ResultStatus
from storage.repositories.references import ReferenceInfo
from storage.repositories.tokens import Scope, TokenInfo
from storage.types import Task

__all__ = [
    "AlertDetailOut",
    "AlertEventOut",
    "AlertOut",
    "AlertPageOut",
    "DeliveryAttemptOut",
    "DeliveryDetailOut",
    "DeliveryOut",
    "DeliveryPageOut",
    "FeatureOut",
    "Health",
    "MatcherIn",
    "MatcherOut",
    "ModelList",
    "ModelOut",
    "MonitorList",
    "MonitorOut",
    "MonitorReplacement",
    "ReferenceList",
    "ReferenceOut",
    "ResultOut",
    "ResultPageOut",
    "SilenceIn",
    "SilenceList",
    "SilenceOut",
    "VersionList",
    "VersionOut",
    "WhoAmI",
]


class Out(BaseModel):
    """Base of every response: non-finite floats are written as ``null`` (JSON has none)."""

    model_config = ConfigDict(ser_json_inf_nan="null")


class ModelOut(Out):
    """A registered model."""

    name: str
    task: Task
    classes: list[str] = Field(description="Class labels in the order predictions use.")
    description: str | None
    versions: int = Field(description="How many versions are registered.")
    latest_version: str | None = Field(description="The newest version, by registration.")
    created_at: dt.datetime

    @classmethod
    def of(cls, summary: ModelSummary) -> ModelOut:
        return cls(
            name=summary.name,
            task=summary.task,
            classes=list(summary.classes),
            description=summary.description,
            versions=summary.versions,
            latest_version=summary.latest_version,
            created_at=summary.created_at,
        )


class ModelList(Out):
    items: list[ModelOut]


class FeatureOut(Out):
    """One feature of a version's schema."""

    name: str
    kind: Literal["numeric", "categorical", "text", "embedding"]
    dims: int | None = Field(default=None, description="Dimension, for embeddings only.")


class VersionOut(Out):
    """A version of a model and the features its records carry."""

    version: str
    features: list[FeatureOut]
    created_at: dt.datetime

    @classmethod
    def of(cls, summary: VersionSummary) -> VersionOut:
        return cls(
            version=summary.version,
            features=[FeatureOut.model_validate(item) for item in summary.features],
            created_at=summary.created_at,
        )


class VersionList(Out):
    items: list[VersionOut]


class ReferenceOut(Out):
    """A stored reference dataset (kept as Parquet)."""

    model: str
    name: str
    version: str | None = Field(description="The model version its columns follow.")
    row_count: int
    sha256: str = Field(description="SHA-256 of the stored Parquet bytes.")
    size_bytes: int
    created_at: dt.datetime

    @classmethod
    def of(cls, info: ReferenceInfo) -> ReferenceOut:
        return cls(
            model=info.model_name,
            name=info.name,
            version=info.version,
            row_count=info.row_count,
            sha256=info.sha256,
            size_bytes=info.size_bytes,
            created_at=info.created_at,
        )


class ReferenceList(Out):
    items: list[ReferenceOut]


class MonitorReplacement(MonitorSpec):
    """A monitor's new spec for ``PUT``: the name may be left out (the path gives it)."""

    name: Slug | None = None  # type: ignore[assignment]
    """Must equal the name in the path when given."""


class MonitorOut(Out):
    """A monitor, its spec and where it was declared."""

    name: str
    model: str
    kind: str
    enabled: bool
    source: Literal["project", "api"] = Field(
        description="`project`: declared in the project file, changed only there; "
        "`api`: created through this API."
    )
    spec: dict[str, Any] = Field(
        description="The monitor's spec (the `MonitorSpec` schema), as `PUT` takes it back."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, info: MonitorInfo) -> MonitorOut:
        return cls(
            name=info.name,
            model=info.model_name,
            kind=info.kind,
            enabled=info.enabled,
            source=info.source,
            spec=info.config,
            created_at=info.created_at,
            updated_at=info.updated_at,
        )


class MonitorList(Out):
    items: list[MonitorOut]


class ResultOut(Out):
    """The outcome of one monitor run over one window."""

    id: int
    monitor: str
    model: str
    kind: str
    window_start: dt.datetime
    window_end: dt.datetime
    status: ResultStatus
    score: float | None = Field(description="The headline number; null if there is none.")
    sample_size: int
    summary: dict[str, Any]
    details: dict[str, Any] | None = Field(
        description="Per-feature or per-metric detail; only with `details=true`."
    )
    computed_at: dt.datetime
    duration_seconds: float | None

    @classmethod
    def of(cls, info: ResultInfo) -> ResultOut:
        return cls(
            id=info.id,
            monitor=info.monitor_name,
            model=info.model_name,
            kind=info.kind,
            window_start=info.window_start,
            window_end=info.window_end,
            status=info.status,
            score=info.score,
            sample_size=info.sample_size,
            summary=info.summary,
            details=info.details,
            computed_at=info.computed_at,
            duration_seconds=info.duration_seconds,
        )


class ResultPageOut(Out):
    """A page of results, newest window first."""

    items: list[ResultOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class WhoAmI(Out):
    """The token a request was made with."""

    authenticated: bool = Field(description="False when the API runs without authentication.")
    name: str | None = Field(description="The token's name; null without authentication.")
    scopes: list[Scope]
    expires_at: dt.datetime | None

    @classmethod
    def of(cls, token: TokenInfo | None) -> WhoAmI:
        if token is None:
            return cls(
                authenticated=False,
                name=None,
                scopes=["ingest", "feedback", "read", "admin"],
                expires_at=None,
            )
        return cls(
            authenticated=True,
            name=token.name,
            scopes=list(token.scopes),
            expires_at=token.expires_at,
        )


class Health(Out):
    """A liveness or readiness answer."""

    status: Literal["ok", "ready"]


# -- alerting: alerts, silences, the delivery log ------------------------------------------

#: Pattern of free text the store keeps: anything but NUL (PostgreSQL text cannot hold it).
_NUL_FREE = r"^[^\x00]*$"


def _check_nul_free(value: str) -> str:
    if "\x00" in value:
        raise spec_error("must not contain NUL characters (\\u0000)")
    return value


_NUL_FREE_DOC = Field(json_schema_extra={"pattern": _NUL_FREE})
#: Free text without NUL (documented as a pattern, refused with a readable message).
_Value = Annotated[
    str, StringConstraints(max_length=1024), AfterValidator(_check_nul_free), _NUL_FREE_DOC
]
_Text = Annotated[
    str, StringConstraints(max_length=4096), AfterValidator(_check_nul_free), _NUL_FREE_DOC
]
_Comment = Annotated[
    str,
    StringConstraints(min_length=1, max_length=4096),
    AfterValidator(_check_nul_free),
    _NUL_FREE_DOC,
]
#: Pattern of a label name, as Prometheus writes them.
_LABEL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class AlertOut(Out):
    """An alert: one instance of a rule, identified by the fingerprint of its labels."""

    id: int
    rule: str = Field(description="The alert rule's name.")
    fingerprint: str = Field(description="Hash of the labels; stable across the alert's life.")
    state: AlertState = Field(
        description="`pending` (the condition holds, not yet for the rule's `for`), "
        "`firing`, or `resolved`."
    )
    labels: dict[str, str] = Field(description="Identify the alert (`model`, `severity`, ...).")
    annotations: dict[str, str] = Field(description="Describe it (`summary`, `runbook`, ...).")
    value: float | None = Field(description="The value the condition last saw.")
    active_since: dt.datetime = Field(description="When the condition first held.")
    fired_at: dt.datetime | None = Field(description="When it started firing; null if never.")
    resolved_at: dt.datetime | None = Field(description="When it resolved; null while active.")
    last_evaluated_at: dt.datetime

    @classmethod
    def of(cls, row: AlertRow) -> AlertOut:
        return cls(**_alert_fields(row))


def _alert_fields(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "rule": row.rule,
        "fingerprint": row.fingerprint,
        "state": row.state,
        "labels": row.labels,
        "annotations": row.annotations,
        "value": row.value,
        "active_since": row.active_since,
        "fired_at": row.fired_at,
        "resolved_at": row.resolved_at,
        "last_evaluated_at": row.last_evaluated_at,
    }


class AlertEventOut(Out):
    """One state change of an alert."""

    event: Literal["pending", "firing", "resolved", "cleared"] = Field(
        description="The state entered; `cleared`: a pending alert whose condition stopped "
        "holding before it fired."
    )
    at: dt.datetime = Field(description="End of the window whose result caused the change.")
    value: float | None
    recorded_at: dt.datetime


class AlertDetailOut(AlertOut):
    """An alert and its history."""

    history: list[AlertEventOut] = Field(description="State changes, oldest first.")

    @classmethod
    def with_history(cls, detail: AlertDetail) -> AlertDetailOut:
        return cls(
            **_alert_fields(detail.alert),
            history=[
                AlertEventOut(
                    event=event.event,
                    at=event.at,
                    value=event.value,
                    recorded_at=event.recorded_at,
                )
                for event in detail.history
            ],
        )


class AlertPageOut(Out):
    """A page of alerts, newest first."""

    items: list[AlertOut]
    next_cursor: int | None = Field(
        description="Pass as `before` to get the next page; null on the last page."
    )


class MatcherIn(BaseModel):
    """One condition on one label: ``=``, ``!=``, or a fully anchored regex ``=~``, ``!~``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=128, pattern=_LABEL_NAME, examples=["model"])
    op: MatchOp = Field(examples=["=~"])
    value: _Value = Field(examples=["churn|credit"])


class MatcherOut(Out):
    """One condition on one label."""

    name: str
    op: MatchOp
    value: str


class SilenceIn(BaseModel):
    """A new silence: its matchers in one of two forms, when it ends, and why."""

    model_config = ConfigDict(extra="forbid")

    matchers: list[MatcherIn] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The alerts to mute: those matching all of these. Give this or "
        "`matchers_text`.",
    )
    matchers_text: _Text | None = Field(
        default=None,
        description='The matchers as text, like `model=churn,severity=~"warn.*"` (braces '
        "optional). Give this or `matchers`.",
        examples=['model=churn,severity=~"warn.*"'],
    )
    starts_at: UtcDatetime | None = Field(
        default=None, description="When it starts (default and in the past: now)."
    )
    ends_at: UtcDatetime | None = Field(
        default=None, description="When it ends, in the future. Give this or `duration`."
    )
    duration: Duration | None = Field(
        default=None, description="How long it lasts from its start. Give this or `ends_at`."
    )
    created_by: str | None = Field(
        default=None,
        max_length=127,
        pattern=CONTROL_FREE,
        description="Who made it (default: the token's name).",
    )
    comment: _Comment = Field(description="Why; required.")

    def to_request(self) -> SilenceRequest:
        return SilenceRequest(
            comment=self.comment,
            matchers=None
            if self.matchers is None
            else [(item.name, item.op, item.value) for item in self.matchers],
            matchers_text=self.matchers_text,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            duration=self.duration,
            created_by=self.created_by,
        )


class SilenceOut(Out):
    """A silence and its state now."""

    id: int
    matchers: list[MatcherOut]
    matchers_text: str = Field(description='The matchers as text: `model="churn", ...`.')
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_by: str
    comment: str
    state: SilenceState = Field(
        description="`pending` before `starts_at`, `active`, `expired` after `ends_at` or "
        "once expired by hand."
    )
    expired_at: dt.datetime | None = Field(description="When it was expired by hand.")
    created_at: dt.datetime

    @classmethod
    def of(cls, info: SilenceInfo) -> SilenceOut:
        return cls(
            id=info.id,
            matchers=[MatcherOut(name=m.name, op=m.op, value=m.value) for m in info.matchers],
            matchers_text=", ".join(str(matcher) for matcher in info.matchers),
            starts_at=info.starts_at,
            ends_at=info.ends_at,
            created_by=info.created_by,
            comment=info.comment,
            state=info.state,
            expired_at=info.expired_at,
            created_at=info.created_at,
        )


class SilenceList(Out):
    items: list[SilenceOut]


class DeliveryOut(Out):
    """A notification or webhook in the outbox: where it goes and how sending it went."""

    id: int
    channel: str
    channel_type: str
    event: str = Field(description="`firing`, `resolved`, `retrain`, `test`, ...")
    key: str = Field(description="Idempotency key (the `webhook-id` of signed webhooks).")
    status: DeliveryStatus
    attempts: int = Field(description="Attempts made so far.")
    next_attempt_at: dt.datetime
    last_error: str | None
    last_status_code: int | None = Field(
        description="HTTP status (or SMTP code) of the last attempt."
    )
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    alert_id: int | None = Field(description="The alert it is about, if any.")

    @classmethod
    def of(cls, row: DeliveryRow) -> DeliveryOut:
        return cls(**_delivery_fields(row))


def _delivery_fields(row: DeliveryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "channel_type": row.channel_type,
        "event": row.event,
        "key": row.key,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "last_status_code": row.last_status_code,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "alert_id": row.alert_id,
    }


class DeliveryAttemptOut(Out):
    """One attempt at sending a delivery."""

    attempt: int
    at: dt.datetime
    outcome: Literal["delivered", "retry", "failed", "dead"]
    status_code: int | None
    seconds: float | None
    error: str | None


class DeliveryDetailOut(DeliveryOut):
    """A delivery, what it carries, and every attempt."""

    payload: dict[str, Any] = Field(description="What is sent (it holds no secrets).")
    history: list[DeliveryAttemptOut] = Field(description="Attempts, oldest first.")

    @classmethod
    def with_history(cls, detail: DeliveryDetail) -> DeliveryDetailOut:
        return cls(
            **_delivery_fields(detail.delivery),
            payload=detail.delivery.payload,
            history=[
                DeliveryAttemptOut(
                    attempt=attempt.attempt,
                    at=attempt.at,
                    outcome=attempt.outcome,
                    status_code=attempt.status_code,
                    seconds=attempt.seconds,
                    error=attempt.error,
                )
                for attempt in detail.history
            ],
        )


class DeliveryPageOut(Out):
    """A page of deliveries, newest first."""

    items: list[DeliveryOut]
    next_cursor: int | None = Field(
        description="Pass as `before` to get the next page; null on the last page."
    )
