"""The ``online`` block of a model's ``serving``: how a model with ``learning: online``
learns from its delayed labels (see ``docs/online-learning.md``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from monitor.project._base import Spec, Text

__all__ = ["GuardSpec", "OnlineSpec"]


class GuardSpec(Spec):
    """When learning stops by itself, and what happens then."""

    action: Literal["rollback", "freeze", "none"] = "rollback"
    """On an alarm: ``rollback`` restores the newest good snapshot and freezes learning;
    ``freeze`` stops learning and keeps serving; ``none`` only records the alarm."""
    window: int = Field(default=200, ge=10, le=1_000_000)
    """Examples per window of the prequential test (the latest against the one before),
    and a snapshot's probation before it counts as good."""
    min_drop: float = Field(default=0.1, gt=0, le=1_000)
    """Smallest drop that counts: accuracy points for classifiers, the relative rise of
    the mean absolute error for regression."""
    alpha: float = Field(default=0.01, gt=0, lt=1)
    """Level of the one-sided test that the drop is not noise."""
    detector: Literal["adwin", "ddm", "page_hinkley", "none"] = "adwin"
    """Streaming drift detector on the error stream (ddm: classifiers only)."""


class OnlineSpec(Spec):
    """Settings of a model that learns online."""

    labels: Literal["declared", "index", "boolean"] = "declared"
    """What a classifier is taught: the declared class labels, their index, or (binary
    models) False / True, which river's binary classifiers need."""
    learn_many: bool = False
    """Teach a river model a whole batch with ``learn_many`` instead of ``learn_one``."""
    batch_size: int = Field(default=32, ge=1, le=100_000)
    """Most examples per update."""
    poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    """How often the learner looks for new labels, and followers for new snapshots."""
    snapshot_every: int = Field(default=500, ge=1, le=100_000_000)
    """Examples learnt between snapshots (each one a new model version)."""
    snapshot_seconds: float = Field(default=300.0, gt=0, le=30 * 86_400)
    """Longest time between snapshots while something was learnt."""
    label_wait_seconds: float = Field(default=3600.0, gt=0, le=365 * 86_400)
    """How long a label may wait for its prediction before it is refused as a label for
    an unknown request id."""
    snapshot_dir: Text | None = None
    """Where snapshots are kept (relative to the project file); default
    ``<data dir>/online``."""
    guard: GuardSpec = GuardSpec()
    """The safety guard."""
