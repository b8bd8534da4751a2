"""The SQL store behind a model's learning loop (:class:`serving.online.store.LearningStore`).

Labels come from the feedback API (``ground_truth_labels``), joined to their prediction
records by request id; what the learner did is kept in the ``online_*`` tables
(:mod:`storage.models.online`). A label whose record has not arrived waits up to
``label_wait_seconds`` and is then refused as ``unknown_request``.

Finding new labels cheaply: the store remembers the label id up to which every label is
resolved (learnt or refused) and only reads labels above it, in arrival (id) order. On
PostgreSQL a label committed late with a smaller id than one already seen would stay below
that floor, so the floor goes back to 0 every ``rescan_seconds`` (and on every start), which
finds such labels.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy.engine import Engine

from serving.online.store import (
    ExampleBatch,
    LearningEvent,
    Refusal,
    ResumeState,
    SnapshotInfo,
    SnapshotStatus,
    UpdateRecord,
)
from storage import ModelHandle, register_model
from storage.repositories import online as repo
from storage.schema import FeatureSchema
from storage.types import FeatureKind, utc_now

__all__ = ["SqlLearningStore"]

_FAILED_STATUS_OK = 0


class SqlLearningStore:
    """One model's line of learning in the SQL store.

    Parameters
    ----------
    engine
        The store.
    handle
        The model and its base version (registered).
    rescan_seconds
        How often the label floor goes back to 0 (see the module's description).
    now
        The wall clock, UTC (replaced in tests).
    """

    def __init__(
        self,
        engine: Engine,
        handle: ModelHandle,
        *,
        rescan_seconds: float = 600.0,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._handle = handle
        self._base = handle.version
        self._names = tuple(spec.name for spec in handle.schema.features)
        self._floor = 0
        self._rescan = rescan_seconds
        self._rescanned = time.monotonic()
        self._now = now
        self._schemas: dict[int, bool] = {}

    # -- resume ----------------------------------------------------------------------------

    def resume(self) -> ResumeState:
        rows = repo.list_snapshots(self._engine, self._handle.model_id, self._base)
        snapshots = [
            SnapshotInfo(r.sequence, r.version, r.file, r.sha256, _status(r.status), r.examples)
            for r in rows
        ]
        live = [s for s in snapshots if s.status != "rolled_back"]
        replayed = 0
        if live:
            newest = max(s.sequence for s in live)
            replayed = repo.replay_after(self._engine, self._handle.model_id, self._base, newest)
        frozen = repo.latest_frozen(self._engine, self._handle.model_id, self._base)
        self._floor = 0
        return ResumeState(snapshots, frozen, replayed)

    # -- examples --------------------------------------------------------------------------

    def fetch(self, limit: int, *, wait_seconds: float) -> ExampleBatch:
        model_id = self._handle.model_id
        if time.monotonic() - self._rescanned >= self._rescan:
            self._floor, self._rescanned = 0, time.monotonic()
        cutoff = self._now() - dt.timedelta(seconds=wait_seconds)
        rows, self._floor = repo.fetch_unlearnt(
            self._engine, model_id, after_label_id=self._floor, limit=limit, cutoff=cutoff
        )
        width = len(self._names)
        features = np.full((len(rows), width), np.nan)
        problems: list[Refusal | None] = []
        for i, row in enumerate(rows):
            problem = self._problem(row)
            if problem is None and row.features is not None:
                features[i] = np.frombuffer(row.features, dtype="<f8")
            problems.append(problem)
        return ExampleBatch(
            request_ids=tuple(row.request_id for row in rows),
            features=features,
            labels=np.array([row.value for row in rows], dtype=np.float64),
            problems=tuple(problems),
        )

    def _problem(self, row: repo.JoinedLabel) -> Refusal | None:
        if row.version_id is None:
            return "unknown_request"
        if row.status != _FAILED_STATUS_OK or row.features is None:
            return "failed_request"
        if not self._fits(row.version_id) or len(row.features) != 8 * len(self._names):
            return "out_of_schema"
        return None

    def _fits(self, version_id: int) -> bool:
        """Whether a version's records carry this model's numeric features, in order."""
        if version_id not in self._schemas:
            schemas = repo.version_schemas(self._engine, self._handle.model_id)
            for key, raw in schemas.items():
                schema = FeatureSchema.from_json(raw)
                self._schemas[key] = tuple(f.name for f in schema.features) == self._names and all(
                    f.kind is FeatureKind.NUMERIC for f in schema.features
                )
        return self._schemas.get(version_id, False)

    def record_update(self, update: UpdateRecord) -> None:
        repo.record_update(
            self._engine,
            self._handle.model_id,
            self._base,
            base_sequence=update.base_sequence,
            learnt=update.learnt,
            refused=update.refused,
            metric=update.metric_name,
            prequential_before=update.prequential_before,
            batch_metric=update.batch_metric,
        )

    # -- snapshots and events --------------------------------------------------------------

    def add_snapshot(self, snapshot: SnapshotInfo) -> None:
        if snapshot.sequence > 0:  # its predictions must find their version in the store
            from sqlalchemy.orm import Session

            handle = self._handle
            with Session(self._engine) as session, session.begin():
                register_model(
                    session,
                    name=handle.model_name,
                    task=handle.task,
                    version=snapshot.version,
                    features=handle.schema.features,
                    classes=handle.classes,
                )
        row = repo.SnapshotRow(
            snapshot.sequence,
            snapshot.version,
            snapshot.file,
            snapshot.sha256,
            snapshot.status,
            snapshot.examples,
        )
        repo.add_snapshot(self._engine, self._handle.model_id, self._base, row)

    def confirm_snapshots(self, sequences: Sequence[int]) -> None:
        repo.confirm_snapshots(self._engine, self._handle.model_id, self._base, sequences)

    def roll_back(self, sequence: int) -> None:
        repo.roll_back(self._engine, self._handle.model_id, self._base, sequence)

    def record_event(self, event: LearningEvent) -> None:
        repo.add_event(
            self._engine,
            self._handle.model_id,
            self._base,
            kind=event.kind,
            frozen=event.frozen,
            reason=event.reason,
            version=event.version,
            details=dict(event.details),
        )


def _status(value: str) -> SnapshotStatus:
    if value == "good":
        return "good"
    return "pending" if value == "pending" else "rolled_back"


def _empty(width: int) -> ExampleBatch:
    return ExampleBatch((), np.zeros((0, width)), np.zeros(0), ())
