"""A :class:`~serving.online.store.LearningStore` in memory: for tests, benchmarks and
embedding applications that bring their own labels (nothing survives the process)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from serving.online.store import (
    ExampleBatch,
    LearningEvent,
    Refusal,
    ResumeState,
    SnapshotInfo,
    UpdateRecord,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Labelled examples queued in arrival order, and the learner's records.

    Attributes
    ----------
    updates, events
        Every update and event recorded, in order.
    outcomes
        Request id → ``"learnt"`` or the refusal reason.
    """

    def __init__(self, n_features: int) -> None:
        self._width = n_features
        self._queue: list[tuple[str, list[float], float, Refusal | None]] = []
        self.updates: list[UpdateRecord] = []
        self.events: list[LearningEvent] = []
        self.snapshots: list[SnapshotInfo] = []
        self.outcomes: dict[str, str] = {}
        self._learnt_by: dict[str, int] = {}
        self._fetched: list[tuple[str, list[float], float, Refusal | None]] = []

    def add(
        self,
        request_ids: Sequence[str],
        features: ArrayLike,
        labels: ArrayLike,
        problem: Refusal | None = None,
    ) -> None:
        """Queue labelled examples (``problem``: as the SQL store would refuse them)."""
        rows = np.asarray(features, dtype=np.float64).reshape(len(request_ids), self._width)
        values = np.asarray(labels, dtype=np.float64)
        for request_id, row, value in zip(request_ids, rows.tolist(), values.tolist(), strict=True):
            self._queue.append((request_id, row, value, problem))

    @property
    def pending(self) -> int:
        """Examples not yet fetched."""
        return len(self._queue)

    def resume(self) -> ResumeState:
        live = [s for s in self.snapshots if s.status != "rolled_back"]
        replayed = 0
        if live:
            newest = max(s.sequence for s in live)
            again = [r for r, seq in self._learnt_by.items() if seq == newest]
            replayed = len(again)
            wanted = set(again)
            self._queue[:0] = [item for item in self._fetched if item[0] in wanted]
            for request_id in again:
                del self._learnt_by[request_id]
                del self.outcomes[request_id]
        frozen = self.events[-1].frozen if self.events else False
        return ResumeState(list(self.snapshots), frozen, replayed)

    def fetch(self, limit: int, *, wait_seconds: float) -> ExampleBatch:
        taken, self._queue = self._queue[:limit], self._queue[limit:]
        self._fetched.extend(taken)
        return ExampleBatch(
            request_ids=tuple(item[0] for item in taken),
            features=np.array([item[1] for item in taken], dtype=np.float64).reshape(
                len(taken), self._width
            ),
            labels=np.array([item[2] for item in taken], dtype=np.float64),
            problems=tuple(item[3] for item in taken),
        )

    def record_update(self, update: UpdateRecord) -> None:
        self.updates.append(update)
        for request_id in update.learnt:
            if request_id in self.outcomes:
                raise RuntimeError(f"example {request_id} learnt twice")
            self.outcomes[request_id] = "learnt"
            self._learnt_by[request_id] = update.base_sequence
        for request_id, reason in update.refused:
            self.outcomes[request_id] = reason

    def add_snapshot(self, snapshot: SnapshotInfo) -> None:
        self.snapshots.append(snapshot)

    def confirm_snapshots(self, sequences: Sequence[int]) -> None:
        self.snapshots = [
            dataclasses.replace(s, status="good") if s.sequence in sequences else s
            for s in self.snapshots
        ]

    def roll_back(self, sequence: int) -> None:
        self.snapshots = [
            dataclasses.replace(s, status="rolled_back") if s.sequence > sequence else s
            for s in self.snapshots
        ]
        for request_id, base in list(self._learnt_by.items()):
            if base >= sequence:
                del self._learnt_by[request_id]  # discarded: never learnt again

    def record_event(self, event: LearningEvent) -> None:
        self.events.append(event)
