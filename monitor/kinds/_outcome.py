"""What a monitor kind returns for one window, and the helpers that build it JSON-able.

Every detector result is reduced to one summary row ``{"detector", "status", "score",
"threshold"}``; a kind's status is the worst of its rows (:func:`worst`). Summaries and
details must survive strict JSON: :func:`jsonable` turns numpy scalars and arrays into Python
values, tuples into lists and NaN or infinities into None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

import numpy as np

from detectors.outcome import DetectorResult

__all__ = [
    "KindOutcome",
    "KindStatus",
    "detector_row",
    "finite_or_none",
    "insufficient",
    "jsonable",
    "worst",
]

KindStatus = Literal["ok", "warning", "alarm", "insufficient_data"]
_STATUSES: Mapping[str, KindStatus] = {
    "insufficient_data": "insufficient_data",
    "ok": "ok",
    "warning": "warning",
    "alarm": "alarm",
}
_SEVERITY: Mapping[str, int] = {"insufficient_data": -1, "ok": 0, "warning": 1, "alarm": 2}


@dataclass(frozen=True, slots=True)
class KindOutcome:
    """The result of one monitor run over one window.

    Attributes
    ----------
    status
        ``ok``, ``warning``, ``alarm``, or ``insufficient_data`` when the window or the
        reference holds too little to judge (the summary's ``reason`` says why).
    score
        The kind's headline number (drift share, metric drop, failure rate, p99 latency),
        None when there is none.
    summary
        Small and JSON-able: ``detectors`` (one row per detector) and headline fields.
    details
        JSON-able detail for the dashboard (per-column table, intervals, detections).
    state
        Streaming detector state to persist for the next run; None when there is none.
    """

    status: KindStatus
    score: float | None
    summary: dict[str, Any]
    details: dict[str, Any]
    state: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.status not in get_args(KindStatus):
            msg = f"status must be one of {', '.join(get_args(KindStatus))}, got {self.status!r}"
            raise ValueError(msg)
        if self.score is not None and not math.isfinite(self.score):
            raise ValueError(f"score must be a finite number or None, got {self.score!r}")


def worst(statuses: Iterable[str]) -> KindStatus:
    """The most severe status; ``insufficient_data`` only when no detector had data.

    Examples
    --------
    >>> worst(["ok", "insufficient_data", "warning"])
    'warning'
    >>> worst(["insufficient_data"]), worst([])
    ('insufficient_data', 'insufficient_data')
    """
    found: KindStatus = "insufficient_data"
    for status in statuses:
        if status not in _SEVERITY:
            raise ValueError(f"unknown status {status!r}")
        if _SEVERITY[status] > _SEVERITY[found]:
            found = _STATUSES[status]
    return found


def detector_row(result: DetectorResult) -> dict[str, Any]:
    """The summary row of one detector result."""
    return {
        "detector": result.detector,
        "status": result.status.value,
        "score": finite_or_none(result.score),
        "threshold": finite_or_none(result.threshold),
    }


def insufficient(
    reason: str, *, details: Mapping[str, Any] | None = None, **summary: Any
) -> KindOutcome:
    """An ``insufficient_data`` outcome whose summary says why."""
    return KindOutcome(
        status="insufficient_data",
        score=None,
        summary=jsonable({"reason": reason, "detectors": [], **summary}),
        details=jsonable(dict(details or {})),
    )


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or None for None, NaN and infinities."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def jsonable(value: Any) -> Any:
    """``value`` with numpy values, tuples, NaN and infinities made strict-JSON-able.

    Examples
    --------
    >>> jsonable({"a": np.float64("nan"), "b": (np.int64(2), 1.5), "c": np.array([True])})
    {'a': None, 'b': [2, 1.5], 'c': [True]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return finite_or_none(float(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(item) for item in value.tolist()]
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    raise TypeError(f"not JSON-able: a {type(value).__name__}")
