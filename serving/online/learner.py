"""The learning loop of one model: test, then train, in small batches, safely.

Each :meth:`Learner.step` (called by the learner's thread, never on the request path):

1. fetches up to ``batch_size`` newly joined (features, label) pairs, oldest label first;
2. refuses what must never be learnt (see :data:`~serving.online.store.REFUSALS`);
3. tests the learning model on the rest (prequential: each example is predicted before it
   is learnt) and hands the losses to the :class:`~serving.online.guard.Guard`;
4. learns them unless the guard raised an alarm, and records the update (examples, time,
   the prequential metric before it) together with every example's outcome;
5. takes a snapshot every ``snapshot_every`` examples (or ``snapshot_seconds``): a pickled
   copy saved as a new model version, which serving switches to (``publish``).

A snapshot is ``pending`` until ``guard.window`` more examples were tested without an alarm,
then ``good``. On an alarm the guard's ``action`` applies: ``rollback`` restores the newest
good snapshot (for learning and serving) and freezes learning; ``freeze`` only stops
learning. People freeze, unfreeze and roll back through :meth:`freeze`, :meth:`unfreeze` and
:meth:`rollback`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.config import ModelConfig
from serving.errors import InvalidRequestError
from serving.online.config import OnlineConfig
from serving.online.guard import Alarm, Guard
from serving.online.models import LearningModel, NotLearntError
from serving.online.runtime import load_model
from serving.online.snapshots import write_snapshot
from serving.online.store import (
    ExampleBatch,
    LearningEvent,
    LearningStore,
    Refusal,
    SnapshotInfo,
    UpdateRecord,
)

__all__ = ["Learner", "StepResult", "snapshot_config"]

logger = logging.getLogger(__name__)

Publish = Callable[[ModelConfig], None]
"""Makes serving answer with a snapshot's configuration (and tells the followers)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    """What one step did."""

    learnt: int = 0
    refused: int = 0
    alarm: Alarm | None = None
    snapshot: str | None = None


class Learner:
    """Owns one model's learning state: the live model, the guard, the snapshots.

    Parameters
    ----------
    config
        The model's base configuration (``learning`` set).
    store
        The store side (examples, updates, snapshots, events).
    publish
        Called with a snapshot's configuration when serving should switch to it (also set
        later with :meth:`bind`, once the server runs).
    clock
        Monotonic seconds (replaced in tests).
    """

    def __init__(
        self,
        config: ModelConfig,
        store: LearningStore,
        *,
        publish: Publish | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if config.learning is None:
            raise InvalidRequestError(f"model {config.name!r} does not learn online")
        self.base = config
        self.learning: OnlineConfig = config.learning
        self._store = store
        self._publish: Publish = publish if publish is not None else _nowhere
        self._clock = clock
        self._lock = threading.RLock()
        self._guard = Guard(self.learning.guard, classifier=self.learning.is_classifier)
        self._snapshots: list[SnapshotInfo] = []
        self._live: LearningModel | None = None
        self._serving: SnapshotInfo | None = None
        self._frozen = False
        self._since_snapshot = 0
        self._examples = 0
        self._snapshot_at = clock()
        self.counts: Counter[str] = Counter()
        self.last_alarm: Alarm | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> ModelConfig:
        """Resume from the newest snapshot; returns the configuration serving should use."""
        with self._lock:
            state = self._store.resume()
            self._snapshots = list(state.snapshots)
            if not self._snapshots:
                base = SnapshotInfo(0, self.base.version, self.base.uri, None, "good")
                self._store.add_snapshot(base)
                self._snapshots = [base]
            current = self._newest()
            self._live = load_model(self.config_of(current))
            self._serving = current
            self._frozen = state.frozen
            self._examples = current.examples
            if state.replayed:
                logger.info(
                    "model %s: resuming from version %s; %d examples learnt after it will be "
                    "learnt again",
                    self.base.name,
                    current.version,
                    state.replayed,
                )
            return self.config_of(current)

    def bind(self, publish: Publish) -> None:
        """Publish snapshots through ``publish`` from now on, starting with the current one."""
        with self._lock:
            self._publish = publish
            if self._serving is not None:
                publish(self.config_of(self._serving))

    def config_of(self, snapshot: SnapshotInfo) -> ModelConfig:
        """The serving configuration of one snapshot."""
        return snapshot_config(self.base, snapshot)

    # -- the loop --------------------------------------------------------------------------

    def step(self) -> StepResult:
        """Learn what has arrived (at most one batch); nothing while frozen."""
        with self._lock:
            if self._frozen or self._live is None:
                return StepResult()
            batch = self._store.fetch(
                self.learning.batch_size, wait_seconds=self.learning.label_wait_seconds
            )
            if not len(batch):
                return StepResult(snapshot=self._snapshot_if_due())
            return self._learn(batch, self._live)

    def _learn(self, batch: ExampleBatch, live: LearningModel) -> StepResult:
        problems = self._problems(batch)
        keep = np.array([problem is None for problem in problems], dtype=bool)
        refused = tuple(
            (request_id, problem)
            for request_id, problem in zip(batch.request_ids, problems, strict=True)
            if problem is not None
        )
        rows, labels = batch.features[keep], batch.labels[keep]
        targets = self._targets(labels)
        before = self._guard.metric()
        losses = self._losses(live, rows, targets)
        alarm = self._guard.observe(losses) if len(losses) else None
        learnt = tuple(r for r, k in zip(batch.request_ids, keep.tolist(), strict=True) if k)
        stop = alarm is not None and self.learning.guard.action != "none"
        if stop:
            refused += tuple((request_id, "guard") for request_id in learnt)
            learnt = ()
        elif len(rows):
            live.learn(rows, targets)
        self._store.record_update(
            UpdateRecord(
                base_sequence=self._newest().sequence,
                learnt=learnt,
                refused=refused,
                prequential_before=before,
                batch_metric=self._metric(losses) if len(losses) else None,
                metric_name=self.metric_name,
            )
        )
        for _, reason in refused:
            self.counts[f"refused_{reason}"] += 1
        self.counts["learnt"] += len(learnt)
        self._examples += len(learnt)
        self._since_snapshot += len(learnt)
        if alarm is not None:
            self._on_alarm(alarm)
            return StepResult(len(learnt), len(refused), alarm)
        self._confirm()
        return StepResult(len(learnt), len(refused), None, self._snapshot_if_due())

    @property
    def metric_name(self) -> str:
        """``accuracy`` for classifiers, ``mae`` for regression."""
        return "accuracy" if self.learning.is_classifier else "mae"

    def _problems(self, batch: ExampleBatch) -> list[Refusal | None]:
        finite_rows = np.asarray(np.isfinite(batch.features).all(axis=1), dtype=bool)
        labels = batch.labels
        good_label: NDArray[np.bool_]
        if self.learning.is_classifier:
            good_label = (
                np.isfinite(labels)
                & (labels >= 0)
                & (labels < len(self.learning.classes))
                & (np.mod(labels, 1) == 0)
            )
        else:
            good_label = np.isfinite(labels)
        out: list[Refusal | None] = []
        for problem, finite, label_ok in zip(
            batch.problems, finite_rows.tolist(), good_label.tolist(), strict=True
        ):
            if problem is not None:
                out.append(problem)
            elif not finite:
                out.append("non_finite_features")
            elif not label_ok:
                out.append("bad_label")
            else:
                out.append(None)
        return out

    def _targets(self, labels: NDArray[np.float64]) -> list[Any]:
        if self.learning.is_classifier:
            classes = self.learning.classes
            return [classes[int(index)] for index in labels.tolist()]
        return [float(value) for value in labels.tolist()]

    def _losses(
        self, live: LearningModel, rows: NDArray[np.float64], targets: list[Any]
    ) -> NDArray[np.float64]:
        if not len(rows):
            return np.zeros(0)
        try:
            predicted = live.predict(rows)
        except NotLearntError:
            return np.zeros(0)  # nothing to test yet: the first examples only teach
        losses: NDArray[np.float64]
        if self.learning.is_classifier:
            losses = (predicted != np.array(targets, dtype=object)).astype(np.float64)
        else:
            losses = np.abs(predicted - np.asarray(targets, dtype=np.float64))
        return losses

    def _metric(self, losses: NDArray[np.float64]) -> float:
        mean = float(losses.mean())
        return 1.0 - mean if self.learning.is_classifier else mean

    # -- snapshots -------------------------------------------------------------------------

    def _snapshot_if_due(self) -> str | None:
        if self._since_snapshot == 0 or self._live is None:
            return None
        due = self._since_snapshot >= self.learning.snapshot_every
        if not due and self._clock() - self._snapshot_at < self.learning.snapshot_seconds:
            return None
        return self.snapshot().version

    def snapshot(self) -> SnapshotInfo:
        """Save the live model as a new version now, and serve it."""
        with self._lock:
            assert self._live is not None
            sequence = max(s.sequence for s in self._snapshots) + 1
            version = f"{self.base.version}-s{sequence}"
            written = write_snapshot(
                self.learning.snapshot_dir, self.base.name, version, self._live.model
            )
            snapshot = SnapshotInfo(
                sequence, version, written.path, written.sha256, "pending", self._examples
            )
            self._store.add_snapshot(snapshot)
            self._snapshots.append(snapshot)
            self._since_snapshot = 0
            self._snapshot_at = self._clock()
            self._serve(snapshot)
            return snapshot

    def _confirm(self) -> None:
        """Pending snapshots whose probation passed (a guard window without alarm) are good."""
        window = self.learning.guard.window
        passed = [
            s.sequence
            for s in self._snapshots
            if s.status == "pending" and self._examples - s.examples >= window
        ]
        if passed:
            self._store.confirm_snapshots(passed)
            self._snapshots = [
                dataclasses.replace(s, status="good") if s.sequence in passed else s
                for s in self._snapshots
            ]

    def _newest(self) -> SnapshotInfo:
        return max(
            (s for s in self._snapshots if s.status != "rolled_back"), key=lambda s: s.sequence
        )

    def _serve(self, snapshot: SnapshotInfo) -> None:
        self._publish(self.config_of(snapshot))
        self._serving = snapshot

    # -- safety ----------------------------------------------------------------------------

    def _on_alarm(self, alarm: Alarm) -> None:
        self.last_alarm = alarm
        self.counts[f"alarm_{alarm.reason}"] += 1
        action = self.learning.guard.action
        details: dict[str, float | str | None] = {
            "metric": self.metric_name,
            "metric_before": alarm.metric_before,
            "metric_now": alarm.metric_now,
            "p_value": alarm.p_value,
            "action": action,
        }
        logger.warning(
            "model %s: the online-learning guard raised an alarm (%s: %s %.3f -> %.3f); %s",
            self.base.name,
            alarm.reason,
            self.metric_name,
            alarm.metric_before,
            alarm.metric_now,
            action,
        )
        if action == "rollback":
            self._roll_back_to(
                self._last_good(), kind="alarm", reason=alarm.reason, details=details
            )
            return
        self._frozen = self._frozen or action == "freeze"
        self._event("alarm", alarm.reason, details)

    def freeze(self, reason: str = "manual") -> None:
        """Stop learning; serving keeps its current version."""
        with self._lock:
            self._frozen = True
            self._event("freeze", reason)

    def unfreeze(self, reason: str = "manual") -> None:
        """Resume learning (with a fresh guard: the windows start over)."""
        with self._lock:
            self._frozen = False
            self._guard.reset()
            self._event("unfreeze", reason)

    def rollback(self, version: str | None = None, reason: str = "manual") -> SnapshotInfo:
        """Restore a snapshot (the newest good one by default) and freeze learning.

        Raises
        ------
        InvalidRequestError
            If ``version`` names no snapshot that can be restored.
        """
        with self._lock:
            target = self._last_good()
            if version is not None:
                found = [
                    s for s in self._snapshots if s.version == version and s.status != "rolled_back"
                ]
                if not found:
                    known = ", ".join(
                        s.version for s in self._snapshots if s.status != "rolled_back"
                    )
                    raise InvalidRequestError(
                        f"model {self.base.name!r} has no snapshot {version!r} to roll back to; "
                        f"snapshots: {known}"
                    )
                target = found[0]
            self._roll_back_to(target, kind="rollback", reason=reason, details={})
            return target

    def _last_good(self) -> SnapshotInfo:
        return max((s for s in self._snapshots if s.status == "good"), key=lambda s: s.sequence)

    def _roll_back_to(
        self,
        target: SnapshotInfo,
        *,
        kind: str,
        reason: str,
        details: dict[str, float | str | None],
    ) -> None:
        self._store.roll_back(target.sequence)
        self._snapshots = [
            dataclasses.replace(s, status="rolled_back") if s.sequence > target.sequence else s
            for s in self._snapshots
        ]
        self._live = load_model(self.config_of(target))
        self._examples = target.examples
        self._since_snapshot = 0
        self._frozen = True
        self._guard.reset()
        self._serve(target)
        self._event(kind, reason, {**details, "restored": target.version})

    def _event(
        self, kind: str, reason: str, details: dict[str, float | str | None] | None = None
    ) -> None:
        version = self._serving.version if self._serving else self.base.version
        self._store.record_event(
            LearningEvent(kind, self._frozen, reason, version, details or {})  # type: ignore[arg-type]
        )

    # -- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What the admin API shows: frozen or not, versions, counts, the metric."""
        with self._lock:
            alarm = self.last_alarm
            return {
                "model": self.base.name,
                "frozen": self._frozen,
                "serving": self._serving.version if self._serving else None,
                "snapshots": [
                    {"version": s.version, "status": s.status, "examples": s.examples}
                    for s in self._snapshots
                ],
                "examples_learnt": self._examples,
                "metric": self.metric_name,
                "prequential": self._guard.metric(),
                "counts": dict(self.counts),
                "last_alarm": dataclasses.asdict(alarm) if alarm else None,
            }

    def prequential(self) -> float | None:
        """The prequential metric over the guard's latest window (None before any test)."""
        return self._guard.metric()

    @property
    def frozen(self) -> bool:
        """Whether learning is frozen."""
        return self._frozen


def _nowhere(config: ModelConfig) -> None:
    """Publish to nobody (a learner not yet bound to a server)."""


def snapshot_config(base: ModelConfig, snapshot: SnapshotInfo) -> ModelConfig:
    """The serving configuration of ``snapshot`` of the model ``base`` declares."""
    if snapshot.sha256 is None:
        return base
    assert base.learning is not None
    learning = dataclasses.replace(base.learning, snapshot_sha256=snapshot.sha256)
    return dataclasses.replace(base, version=snapshot.version, uri=snapshot.file, learning=learning)
