"""Settings of a model that learns online, as plain frozen values checked when built.

The project file (``learning: online`` and ``online:`` in a model's ``serving`` block) is
turned into an :class:`OnlineConfig` by :mod:`monitor`; the server never reads YAML itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from serving.errors import ServingError

__all__ = [
    "DETECTORS",
    "GUARD_ACTIONS",
    "LABEL_ENCODINGS",
    "DetectorName",
    "GuardAction",
    "GuardConfig",
    "LabelEncoding",
    "OnlineConfig",
    "OnlineConfigError",
    "Task",
]

GuardAction = Literal["rollback", "freeze", "none"]
DetectorName = Literal["page_hinkley", "ddm", "adwin", "none"]
Task = Literal["binary_classification", "multiclass_classification", "regression"]
LabelEncoding = Literal["declared", "index", "boolean"]
LABEL_ENCODINGS: tuple[LabelEncoding, ...] = get_args(LabelEncoding)
GUARD_ACTIONS: tuple[GuardAction, ...] = get_args(GuardAction)
DETECTORS: tuple[DetectorName, ...] = get_args(DetectorName)


class OnlineConfigError(ServingError, ValueError):
    """An online-learning setting is out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """When learning is stopped, and what happens then.

    Attributes
    ----------
    action
        On an alarm: ``rollback`` (restore the last good snapshot and freeze learning),
        ``freeze`` (stop learning, serve the last good snapshot) or ``none`` (only record it).
    window
        Examples per window of the prequential test: the latest ``window`` examples are
        compared with the ``window`` before them; also a snapshot's probation.
    min_drop
        Smallest drop that counts: accuracy points for classifiers, a relative rise of the
        mean absolute error for regression (0.1 = 10 %).
    alpha
        Level of the one-sided test that the drop is not noise.
    detector
        Streaming drift detector on the error stream (:mod:`detectors.streaming`), or
        ``none``; only a rise of the error counts.
    """

    action: GuardAction = "rollback"
    window: int = 200
    min_drop: float = 0.1
    alpha: float = 0.01
    detector: DetectorName = "adwin"

    def __post_init__(self) -> None:
        _choice("guard.action", self.action, GUARD_ACTIONS)
        _choice("guard.detector", self.detector, DETECTORS)
        _at_least("guard.window", self.window, 10)
        if not self.min_drop > 0:
            raise OnlineConfigError(f"guard.min_drop must be > 0, got {self.min_drop}")
        if not 0 < self.alpha < 1:
            raise OnlineConfigError(f"guard.alpha must be in (0, 1), got {self.alpha}")


@dataclass(frozen=True, slots=True)
class OnlineConfig:
    """How one served model learns from its delayed labels.

    Attributes
    ----------
    task
        What the model predicts; classifiers learn and answer with ``classes``.
    classes
        Class labels in the store's order (empty for regression).
    labels
        What a classifier is taught: the ``declared`` class labels, their ``index`` (0, 1,
        …), or for a binary model ``boolean`` (the second class is True), which river's
        binary classifiers need.
    learn_many
        Teach a river model a batch at once with its ``learn_many`` (where it has one)
        instead of ``learn_one`` per example; a linear model then takes one gradient step
        per batch instead of one per example, so it adapts more slowly.
    batch_size
        Most examples per update; the learner takes what has arrived, up to this many.
    poll_seconds
        How often the learner looks for newly joined labels.
    snapshot_every
        Examples learnt between two snapshots (each a new model version that serving uses).
    snapshot_seconds
        Longest time between snapshots while something was learnt.
    label_wait_seconds
        How long a label waits for its prediction record before it is refused as a label
        for an unknown request id.
    snapshot_dir
        Where snapshots are written (the learner) and read (every serving process).
    learner
        Whether this process owns the learning (one per model); other processes only
        follow its snapshots.
    guard
        The safety guard.
    snapshot_sha256
        Set on the configuration of a snapshot version: the file at the model's ``uri`` is a
        Driftline snapshot with this digest.
    """

    task: Task
    classes: tuple[str, ...] = ()
    labels: LabelEncoding = "declared"
    learn_many: bool = False
    batch_size: int = 32
    poll_seconds: float = 1.0
    snapshot_every: int = 500
    snapshot_seconds: float = 300.0
    label_wait_seconds: float = 3600.0
    snapshot_dir: str = ".driftline/online"
    learner: bool = True
    guard: GuardConfig = field(default_factory=GuardConfig)
    snapshot_sha256: str | None = None

    def __post_init__(self) -> None:
        _choice("task", self.task, get_args(Task))
        if self.task == "regression" and self.classes:
            raise OnlineConfigError("classes: a regression model has no classes")
        if self.task != "regression" and len(self.classes) < 2:
            raise OnlineConfigError(f"classes: a {self.task} model needs at least 2 classes")
        _choice("labels", self.labels, LABEL_ENCODINGS)
        if self.labels == "boolean" and self.task != "binary_classification":
            raise OnlineConfigError("labels: boolean is for binary_classification models only")
        _at_least("batch_size", self.batch_size, 1)
        _at_least("snapshot_every", self.snapshot_every, 1)
        for name in ("poll_seconds", "snapshot_seconds", "label_wait_seconds"):
            value = getattr(self, name)
            if not value > 0:
                raise OnlineConfigError(f"{name} must be > 0, got {value}")

    @property
    def is_classifier(self) -> bool:
        """Whether the model predicts classes."""
        return self.task != "regression"


def _at_least(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise OnlineConfigError(f"{name} must be an integer >= {low}, got {value!r}")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OnlineConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
