"""The one result shape of every monitoring detector (performance, streaming, failures, health).

Drift tests report per-column arrays (:class:`detectors.results.ColumnTest`); everything the
scheduler runs as a *monitor* reports a :class:`DetectorResult`: a status, a score, the
threshold the score was held against, the window it covers and details the dashboard can draw.

``insufficient_data`` is a status of its own: a window with too few labels or records is not
"ok" and not an alarm, and alerting treats it separately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from detectors.errors import InvalidInputError

__all__ = ["DetectorResult", "Direction", "JSONValue", "Span", "Status", "status_of"]

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
Direction = Literal["higher_is_worse", "lower_is_worse"]


class Status(StrEnum):
    """How bad a window is, in increasing order of severity (``insufficient_data`` apart)."""

    OK = "ok"
    WARNING = "warning"
    ALARM = "alarm"
    INSUFFICIENT_DATA = "insufficient_data"

    @property
    def severity(self) -> int:
        """0 for ok and insufficient data, 1 for a warning, 2 for an alarm."""
        return {"ok": 0, "insufficient_data": 0, "warning": 1, "alarm": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Span:
    """The window a result covers: its bounds (UTC, when known) and the records in it.

    Detectors work on arrays and do not know clocks; the caller that read the window passes
    its bounds through so that a result says which window it is about.
    """

    n: int
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.n < 0:
            raise InvalidInputError(f"Span.n must be >= 0, got {self.n}")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidInputError(f"Span ends ({self.end}) before it starts ({self.start})")

    def to_dict(self) -> dict[str, JSONValue]:
        """JSON-able form, datetimes as ISO 8601."""
        return {
            "n": self.n,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class DetectorResult:
    """What one detector says about one window.

    Attributes
    ----------
    detector
        Name of the detector, e.g. ``"performance.accuracy"`` or ``"health.latency_p99"``.
    status
        ok / warning / alarm / insufficient_data.
    score
        The measured quantity the status was decided on (NaN when there was no data).
    threshold
        The alarm threshold ``score`` was compared with.
    window
        The window the result covers.
    details
        JSON-able extras for the dashboard: intervals, baselines, per-class values, indices.
    """

    detector: str
    status: Status
    score: float
    threshold: float
    window: Span
    details: Mapping[str, JSONValue] = field(default_factory=dict)

    @property
    def alarm(self) -> bool:
        """The status is an alarm."""
        return self.status is Status.ALARM

    def to_dict(self) -> dict[str, JSONValue]:
        """JSON-able form (NaN and infinities become None)."""
        return {
            "detector": self.detector,
            "status": self.status.value,
            "score": _finite_or_none(self.score),
            "threshold": _finite_or_none(self.threshold),
            "window": self.window.to_dict(),
            "details": dict(self.details),
        }


def status_of(
    score: float,
    *,
    threshold: float,
    direction: Direction = "higher_is_worse",
    warning: float | None = None,
) -> Status:
    """Compare a score with an alarm threshold and an optional warning threshold.

    Examples
    --------
    >>> status_of(0.12, threshold=0.1).value
    'alarm'
    >>> status_of(0.08, threshold=0.1, warning=0.05).value
    'warning'
    >>> status_of(0.9, threshold=0.8, direction="lower_is_worse").value
    'ok'
    >>> status_of(float("nan"), threshold=0.1).value
    'insufficient_data'
    """
    if direction not in ("higher_is_worse", "lower_is_worse"):
        raise InvalidInputError(
            f"direction must be 'higher_is_worse' or 'lower_is_worse', got {direction!r}"
        )
    if math.isnan(score):
        return Status.INSUFFICIENT_DATA
    sign = 1.0 if direction == "higher_is_worse" else -1.0
    if sign * score >= sign * threshold:
        return Status.ALARM
    if warning is not None and sign * score >= sign * warning:
        return Status.WARNING
    return Status.OK


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
