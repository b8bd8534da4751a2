"""What the REST API returns: pydantic models, one per resource, and their list envelopes.

Requests are parsed into :class:`~monitor.project.monitors.MonitorSpec` (the project file's
schema) or :class:`MonitorReplacement`; responses are built from the storage layer's frozen
dataclasses by the ``of`` class methods, so handlers stay one line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.api.services.catalog import ModelSummary, VersionSummary
from monitor.project._base import Slug
from monitor.project.monitors import MonitorSpec
from storage.repositories.monitors import MonitorInfo, ResultInfo, ResultStatus
from storage.repositories.references import ReferenceInfo
from storage.repositories.tokens import Scope, TokenInfo
from storage.types import Task

__all__ = [
    "FeatureOut",
    "Health",
    "ModelList",
    "ModelOut",
    "MonitorList",
    "MonitorOut",
    "MonitorReplacement",
    "ReferenceList",
    "ReferenceOut",
    "ResultOut",
    "ResultPageOut",
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
