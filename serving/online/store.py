"""What the learning loop needs from the store, as a protocol and plain values.

:mod:`serving` never imports :mod:`storage`; :mod:`monitor.online_store` implements
:class:`LearningStore` over the SQL store (labels joined to prediction records by request
id, updates, snapshots and events in their own tables), and tests may implement it in
memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "REFUSALS",
    "EventKind",
    "ExampleBatch",
    "LearningEvent",
    "LearningStore",
    "Refusal",
    "ResumeState",
    "SnapshotInfo",
    "SnapshotStatus",
    "UpdateRecord",
]

Refusal = Literal[
    "unknown_request",
    "failed_request",
    "out_of_schema",
    "non_finite_features",
    "bad_label",
    "guard",
]
REFUSALS: tuple[Refusal, ...] = (
    "unknown_request",
    "failed_request",
    "out_of_schema",
    "non_finite_features",
    "bad_label",
    "guard",
)
"""Why an example is never learnt: its label names no prediction (after the wait); the
prediction failed; its features do not fit the model's schema; a feature is NaN or
infinite; the label is not a class or not finite; the guard stopped learning on its batch."""

SnapshotStatus = Literal["good", "pending", "rolled_back"]
EventKind = Literal["alarm", "freeze", "unfreeze", "rollback"]


@dataclass(frozen=True, slots=True)
class ExampleBatch:
    """Newly joined (features, label) pairs, in the order their labels arrived.

    Attributes
    ----------
    request_ids
        One per example.
    features
        ``(n, m)`` float64 rows in the model's feature order (NaN where the store had none).
    labels
        The class index (classifiers) or the target (regression).
    problems
        Per example, why the store already refuses it, or None.
    """

    request_ids: tuple[str, ...]
    features: NDArray[np.float64]
    labels: NDArray[np.float64]
    problems: tuple[Refusal | None, ...]

    def __len__(self) -> int:
        return len(self.request_ids)


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """One update of the model: what it learnt and how it did just before."""

    base_sequence: int
    """The snapshot the learning model descends from (its newest one)."""
    learnt: tuple[str, ...]
    """Request ids of the examples learnt, in order."""
    refused: tuple[tuple[str, Refusal], ...]
    """Request ids refused with this batch, and why."""
    prequential_before: float | None
    """The prequential metric over the guard's window just before this update."""
    batch_metric: float | None
    """The metric of the model on this batch, tested before learning it."""
    metric_name: str
    """``accuracy`` or ``mae``."""


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One snapshot: a frozen state of the learning model, served as a model version."""

    sequence: int
    """0 for the base model the project declares, then 1, 2, …"""
    version: str
    file: str
    sha256: str | None
    """None for the base model (read as its runtime reads it)."""
    status: SnapshotStatus
    """``good`` once the guard's window passed after it without an alarm; ``pending``
    before; ``rolled_back`` when a rollback discarded it."""
    examples: int = 0
    """Examples the model had learnt (since the base) when it was taken."""


@dataclass(frozen=True, slots=True)
class LearningEvent:
    """An alarm or a control action; alarms are what alert rules and people act on."""

    kind: EventKind
    frozen: bool
    """Whether learning is frozen after the event."""
    reason: str
    version: str
    """The version served after the event."""
    details: dict[str, float | str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResumeState:
    """Where a starting learner picks up."""

    snapshots: Sequence[SnapshotInfo]
    """Every snapshot of the base version, oldest first (empty on the first start)."""
    frozen: bool
    replayed: int
    """Examples learnt after the newest snapshot, made unlearnt again so they are learnt
    (once) into the snapshot the learner resumes from."""


class LearningStore(Protocol):
    """The store side of one model's learning loop: one model, one base version (a new
    base version in the project file starts a new line of snapshots)."""

    def resume(self) -> ResumeState:
        """The snapshots and the frozen flag; examples learnt after the newest snapshot that
        was not rolled back are made unlearnt again, in one transaction."""
        ...

    def fetch(self, limit: int, *, wait_seconds: float) -> ExampleBatch:
        """Up to ``limit`` examples neither learnt nor refused, oldest label first. A label
        whose prediction has not arrived within ``wait_seconds`` comes back refused as
        ``unknown_request``; younger ones wait."""
        ...

    def record_update(self, update: UpdateRecord) -> None:
        """Store the update and mark its examples learnt or refused (one transaction)."""
        ...

    def add_snapshot(self, snapshot: SnapshotInfo) -> None:
        """Record a snapshot, and register its version so its predictions can be stored."""
        ...

    def confirm_snapshots(self, sequences: Sequence[int]) -> None:
        """Mark pending snapshots ``good`` (their probation passed)."""
        ...

    def roll_back(self, sequence: int) -> None:
        """Discard what was learnt since snapshot ``sequence``: newer snapshots become
        ``rolled_back``, and so do the updates made since it (their examples stay marked,
        so they are never learnt again)."""
        ...

    def record_event(self, event: LearningEvent) -> None:
        """Store an alarm or a control action."""
        ...
