"""How the latest result of each monitor kind reads at a glance: a status and one number."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from storage.repositories.dashboard import (
    MonitorOverview,
    ResultPoint,
)

__all__ = [
    "KINDS",
    "STATUS_RANK",
    "Cell",
    "cell_of",
    "finite_number",
    "headline_value",
    "worst_monitor",
]

#: The monitor kinds, in the order the dashboard shows them, with their column titles.
KINDS: Final = (
    ("data_drift", "Data drift"),
    ("prediction_drift", "Prediction drift"),
    ("performance", "Performance"),
    ("failures", "Failures"),
    ("health", "Latency"),
    ("online_learning", "Learning"),
)
#: Higher is worse; a monitor without results ranks lowest.
STATUS_RANK: Final = {
    "none": -2,
    "insufficient_data": -1,
    "ok": 0,
    "warning": 1,
    "error": 2,
    "alarm": 3,
}


@dataclass(frozen=True, slots=True)
class Cell:
    """One monitor's latest state: ``text`` to show, ``sort`` to order a table by."""

    monitor: str
    status: str
    text: str
    sort: float
    title: str


def finite_number(value: object) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def headline_value(kind: str, point: ResultPoint) -> tuple[str, float | None]:
    """The number that stands for ``point``, formatted for its kind, and the raw number."""
    summary = point.summary or {}
    if point.status == "error":
        return "run failed", None
    if point.status == "insufficient_data":
        return "too little data", None
    score = finite_number(point.score)
    if kind == "data_drift":
        drifted, columns = summary.get("n_drifted"), summary.get("n_columns")
        share = "—" if score is None else f"{100 * score:.0f} %"
        if isinstance(drifted, int) and isinstance(columns, int):
            return f"{share} ({drifted}/{columns} drifted)", score
        return share, score
    if kind == "prediction_drift":
        drifted = summary.get("drifted_outputs")
        tested = summary.get("detectors")
        if isinstance(drifted, list) and isinstance(tested, list) and tested:
            return f"{len(drifted)}/{len(tested)} outputs drifted", score
        return ("—", score) if score is None else (f"p = {score:.2g}", score)
    if kind == "performance":
        value = finite_number(summary.get("current_value"))
        metric = str(summary.get("metric", "metric"))
        if value is None:
            return "—", score
        suffix = " (estimated)" if summary.get("estimated") else ""
        return f"{metric} {value:.3f}{suffix}", value
    if kind == "failures":
        rate = finite_number(summary.get("failure_rate"))
        return ("—", None) if rate is None else (f"{100 * rate:.2f} % failed", rate)
    if kind == "health":
        latencies = summary.get("latency_seconds") or {}
        p99 = next((finite_number(v) for k, v in latencies.items() if "99" in str(k)), None)
        value = p99 if p99 is not None else score
        if value is None:
            return "—", None
        label = "p99 " if p99 is not None else ""
        return f"{label}{1000 * value:.1f} ms", value
    if kind == "online_learning":
        alarms = int(score or 0)
        learnt = summary.get("examples_learnt")
        if alarms:
            return f"{alarms} guard alarm{'s' if alarms > 1 else ''}", score
        if summary.get("frozen"):
            return "frozen", score
        return (f"learnt {learnt:,}" if isinstance(learnt, int) else "learning"), score
    return ("—", None) if score is None else (f"{score:.3g}", score)


def cell_of(monitor: MonitorOverview) -> Cell:
    """The cell of ``monitor``'s latest result."""
    point = monitor.latest
    if point is None:
        return Cell(monitor.name, "none", "no results yet", -math.inf, monitor.name)
    text, value = headline_value(monitor.kind, point)
    sort = STATUS_RANK.get(point.status, 0) * 1e6 + (value if value is not None else 0.0)
    title = f"{monitor.name}: {point.status}, window ending {point.window_end:%Y-%m-%d %H:%M} UTC"
    return Cell(monitor.name, point.status, text, sort, title)


def worst_monitor(monitors: Iterable[MonitorOverview]) -> MonitorOverview | None:
    """The monitor whose latest result is the most severe (first by name on ties)."""
    ranked: Sequence[MonitorOverview] = sorted(
        monitors,
        key=lambda m: (-STATUS_RANK.get(m.latest.status if m.latest else "none", 0), m.name),
    )
    return ranked[0] if ranked else None
