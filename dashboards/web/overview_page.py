"""The overview: every model with its health at a glance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from dashboards.web.cells import KINDS, Cell, cell_of, worst_monitor
from dashboards.web.charts import sparkline_points
from dashboards.web.timerange import TimeRange
from storage.repositories.dashboard import (
    ModelOverview,
    MonitorOverview,
    model_overviews,
    result_series,
)

__all__ = ["OverviewRow", "for_version", "overview_context"]

_SEVERITY_RANK = {None: 0, "info": 1, "warning": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class OverviewRow:
    name: str
    task: str
    versions: tuple[str, ...]
    cells: tuple[Cell | None, ...]
    open_alerts: int
    firing_severity: str | None
    alert_sort: int
    last_window_end: dt.datetime | None
    drift_spark: str


def for_version(monitors: Sequence[MonitorOverview], version: str | None) -> list[MonitorOverview]:
    """The monitors that watch ``version``: those filtered to it and those of every version."""
    if version is None:
        return list(monitors)
    return [m for m in monitors if m.version is None or m.version == version]


def overview_context(engine: Engine, span: TimeRange, *, version: str | None) -> dict[str, Any]:
    """What the overview template shows."""
    models = model_overviews(engine)
    drift_ids = {
        model.name: [m.id for m in for_version(model.monitors, version) if m.kind == "data_drift"]
        for model in models
    }
    series = result_series(
        engine,
        [i for ids in drift_ids.values() for i in ids],
        start=span.start,
        end=span.end,
    )
    rows = [_row(model, version, [p.score for i in drift_ids[model.name][:1] for p in series[i]])
            for model in models]  # fmt: skip
    versions = sorted({v for model in models for v in model.versions})
    return {
        "rows": rows,
        "kinds": KINDS,
        "span": span,
        "version": version,
        "versions": versions,
    }


def _row(model: ModelOverview, version: str | None, drift: list[float | None]) -> OverviewRow:
    monitors = for_version(model.monitors, version)
    cells = []
    for kind, _ in KINDS:
        worst = worst_monitor(m for m in monitors if m.kind == kind)
        cells.append(cell_of(worst) if worst is not None else None)
    ends = [m.latest.window_end for m in monitors if m.latest is not None]
    return OverviewRow(
        name=model.name,
        task=model.task,
        versions=model.versions,
        cells=tuple(cells),
        open_alerts=model.open_alerts,
        firing_severity=model.firing_severity,
        alert_sort=_SEVERITY_RANK.get(model.firing_severity, 0) * 100_000 + model.open_alerts,
        last_window_end=max(ends) if ends else None,
        drift_spark=sparkline_points(drift, width=120, height=22),
    )
