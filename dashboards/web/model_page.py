"""The model page: every monitor's results over the range, on one time axis with the alerts.

The per-feature table belongs to one data-drift monitor and one window: the URL's
``monitor`` and ``window`` (a window end) pick them, by default the first data-drift monitor
and its newest window in the range. Clicking a point of the drift chart picks that window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.engine import Engine

from dashboards.web.cells import KINDS, cell_of, finite_number
from dashboards.web.charts import AlertBand, Series, sparkline_points, time_figure
from dashboards.web.overview_page import for_version
from dashboards.web.timerange import PageQueryError, TimeRange, parse_moment
from storage.errors import NotFoundError
from storage.repositories.dashboard import (
    MonitorOverview,
    ResultPoint,
    details_history,
    model_overview,
    result_detail,
    result_series,
)
from storage.repositories.dashboard_alerts import (
    AlertTimeline,
    model_alerts,
)

__all__ = ["FeatureRow", "model_context"]

#: Where a p-value of exactly 0 is drawn on a logarithmic axis.
_TINY: Final = 1e-300
#: Runs shown in each feature's sparkline.
SPARK_RUNS: Final = 30


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One tested column of the selected window."""

    name: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float | None
    effect: float | None
    drifted: bool
    n_reference: int | None
    n_current: int | None
    spark: str
    severity: float


def model_context(
    engine: Engine,
    model: str,
    span: TimeRange,
    *,
    version: str | None,
    monitor: str | None,
    window: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """What the model template shows; :class:`NotFoundError` for an unknown model/monitor."""
    overview = model_overview(engine, model)
    if version is not None and version not in overview.versions:
        known = ", ".join(overview.versions) or "none"
        raise PageQueryError(
            f"version: model {model!r} has no version {version!r} (known: {known})"
        )
    monitors = for_version(overview.monitors, version)
    by_kind: dict[str, list[MonitorOverview]] = {kind: [] for kind, _ in KINDS}
    for item in monitors:
        by_kind.setdefault(item.kind, []).append(item)
    series = result_series(engine, [m.id for m in monitors], start=span.start, end=span.end)
    alerts = model_alerts(engine, model, start=span.start, end=span.end)
    bands = [_band(a, span.end if span.raw_to != "now" else now) for a in alerts]
    drift_monitors = by_kind["data_drift"]
    selected = _selected(drift_monitors, monitor)
    table = _feature_table(engine, selected, series, span, window) if selected else None
    charts = {
        "drift": _drift_chart(drift_monitors, series, span, bands),
        "prediction": _detector_chart(by_kind["prediction_drift"], series, span, bands),
        "performance": _performance_chart(by_kind["performance"], series, span, bands),
        "failures": _failures_chart(by_kind["failures"], series, span, bands),
        "latency": _latency_chart(by_kind["health"], series, span, bands),
    }
    return {
        "model": overview,
        "span": span,
        "version": version,
        "versions": overview.versions,
        "cells": [(m, cell_of(m)) for m in monitors],
        "charts": {name: chart for name, chart in charts.items() if chart is not None},
        "selected": selected,
        "table": table,
        "alerts": alerts,
        "drift_monitors": drift_monitors,
    }


def _selected(monitors: Sequence[MonitorOverview], name: str | None) -> MonitorOverview | None:
    if name is None:
        return monitors[0] if monitors else None
    for item in monitors:
        if item.name == name:
            return item
    known = ", ".join(m.name for m in monitors) or "none"
    raise NotFoundError(f"monitor: no data-drift monitor {name!r} on this model (known: {known})")


def _band(timeline: AlertTimeline, end: dt.datetime) -> AlertBand:
    alert = timeline.alert
    start = alert.fired_at or alert.active_since
    stop = alert.resolved_at or end
    return AlertBand(start, max(stop, start), timeline.severity, f"{alert.rule} ({alert.state})")


def _points(series: Mapping[int, list[ResultPoint]], monitor: MonitorOverview) -> list[ResultPoint]:
    return series.get(monitor.id, [])


def _drift_chart(
    monitors: Sequence[MonitorOverview],
    series: Mapping[int, list[ResultPoint]],
    span: TimeRange,
    bands: Sequence[AlertBand],
) -> dict[str, Any] | None:
    if not monitors:
        return None
    lines = []
    threshold = None
    for item in monitors:
        points = _points(series, item)
        lines.append(
            Series(
                item.name,
                [p.window_end for p in points],
                [p.score for p in points],
                statuses=[p.status for p in points],
            )
        )
        for point in reversed(points):
            threshold = finite_number(point.summary.get("share_threshold"))
            if threshold is not None:
                break
    return time_figure(
        lines,
        start=span.start,
        end=span.end,
        y_title="drifted share of features",
        percent=True,
        alerts=bands,
        threshold=threshold,
    )


def _detector_chart(
    monitors: Sequence[MonitorOverview],
    series: Mapping[int, list[ResultPoint]],
    span: TimeRange,
    bands: Sequence[AlertBand],
) -> dict[str, Any] | None:
    """Each detector's score (one line per output tested) with its threshold.

    Prediction drift detectors score with p-values, so the axis is logarithmic: the
    interesting values are the tiny ones.
    """
    if not monitors:
        return None
    lines: list[Series] = []
    for item in monitors:
        for line in _detector_lines(_points(series, item)):
            label = line.name if len(monitors) == 1 else f"{item.name}: {line.name}"
            drawn = [y if y is None or y > 0 else _TINY for y in line.y]
            lines.append(Series(label, line.x, drawn, statuses=line.statuses))
    thresholds = {
        threshold
        for item in monitors
        for point in _points(series, item)
        for row in point.summary.get("detectors") or ()
        if (threshold := finite_number(row.get("threshold"))) is not None
    }
    figure = time_figure(
        lines,
        start=span.start,
        end=span.end,
        y_title="p-value (log)",
        alerts=bands,
        threshold=thresholds.pop() if len(thresholds) == 1 else None,
    )
    figure["layout"]["yaxis"].update(type="log", rangemode="normal", exponentformat="power")
    return figure


def _detector_lines(points: Sequence[ResultPoint]) -> list[Series]:
    """One series per detector row of the points' summaries (its scores and statuses), by name."""
    rows: dict[str, tuple[list[dt.datetime], list[float | None], list[str]]] = {}
    for point in points:
        for row in point.summary.get("detectors") or ():
            xs, ys, statuses = rows.setdefault(str(row.get("detector", "")), ([], [], []))
            xs.append(point.window_end)
            ys.append(finite_number(row.get("score")))
            statuses.append(str(row.get("status", "")))
    return [Series(name, xs, ys, statuses=st) for name, (xs, ys, st) in sorted(rows.items())]


def _performance_chart(
    monitors: Sequence[MonitorOverview],
    series: Mapping[int, list[ResultPoint]],
    span: TimeRange,
    bands: Sequence[AlertBand],
) -> dict[str, Any] | None:
    """Realised metric and the estimate without labels side by side, label coverage behind."""
    if not monitors:
        return None
    lines: list[Series] = []
    metric = "metric"
    for item in monitors:
        points = _points(series, item)
        realised = [p for p in points if not p.summary.get("estimated")]
        estimated = [p for p in points if p.summary.get("estimated")]
        metric = str(next((p.summary["metric"] for p in points if "metric" in p.summary), metric))
        if realised:
            lines.append(
                Series(
                    f"{item.name}: realised {metric}",
                    [p.window_end for p in realised],
                    [finite_number(p.summary.get("current_value")) for p in realised],
                    statuses=[p.status for p in realised],
                )
            )
        if estimated:
            lines.append(
                Series(
                    f"{item.name}: estimated {metric} (no labels)",
                    [p.window_end for p in estimated],
                    [finite_number(p.summary.get("current_value")) for p in estimated],
                    statuses=[p.status for p in estimated],
                    dash="dash",
                )
            )
        with_reference = [
            p for p in points if finite_number(p.summary.get("reference_value")) is not None
        ]
        if with_reference:
            lines.append(
                Series(
                    f"{item.name}: reference {metric}",
                    [p.window_end for p in with_reference],
                    [finite_number(p.summary.get("reference_value")) for p in with_reference],
                    dash="dot",
                )
            )
        lines.append(
            Series(
                f"{item.name}: label coverage",
                [p.window_end for p in points],
                [finite_number(p.summary.get("label_coverage")) for p in points],
                secondary=True,
                bars=True,
            )
        )
    return time_figure(
        lines,
        start=span.start,
        end=span.end,
        y_title=metric,
        y2_title="label coverage",
        alerts=bands,
    )


def _failures_chart(
    monitors: Sequence[MonitorOverview],
    series: Mapping[int, list[ResultPoint]],
    span: TimeRange,
    bands: Sequence[AlertBand],
) -> dict[str, Any] | None:
    """The failure rate, and each failure detector's rate (by type) over time."""
    if not monitors:
        return None
    lines: list[Series] = []
    for item in monitors:
        points = _points(series, item)
        lines.append(
            Series(
                f"{item.name}: all failures",
                [p.window_end for p in points],
                [finite_number(p.summary.get("failure_rate")) for p in points],
                statuses=[p.status for p in points],
            )
        )
        for line in _detector_lines(points):
            if "rate" in line.name:
                lines.append(Series(line.name, line.x, line.y, dash="dot"))
    return time_figure(
        lines, start=span.start, end=span.end, y_title="failure rate", percent=True, alerts=bands
    )


def _latency_chart(
    monitors: Sequence[MonitorOverview],
    series: Mapping[int, list[ResultPoint]],
    span: TimeRange,
    bands: Sequence[AlertBand],
) -> dict[str, Any] | None:
    """Latency quantiles (ms) and throughput (records per second of the window)."""
    if not monitors:
        return None
    lines: list[Series] = []
    for item in monitors:
        points = _points(series, item)
        names = sorted({str(k) for p in points for k in (p.summary.get("latency_seconds") or {})})
        for name in names:
            values = []
            for point in points:
                seconds = finite_number((point.summary.get("latency_seconds") or {}).get(name))
                values.append(None if seconds is None else 1000 * seconds)
            lines.append(Series(name, [p.window_end for p in points], values))
        lines.append(
            Series(
                f"{item.name}: throughput",
                [p.window_end for p in points],
                [_throughput(p) for p in points],
                secondary=True,
                bars=True,
            )
        )
    return time_figure(
        lines,
        start=span.start,
        end=span.end,
        y_title="latency (ms)",
        y2_title="records / s",
        alerts=bands,
    )


def _throughput(point: ResultPoint) -> float | None:
    seconds = (point.window_end - point.window_start).total_seconds()
    rows = finite_number(point.summary.get("window_rows"))
    if rows is None:
        rows = float(point.sample_size)
    return rows / seconds if seconds > 0 else None


def _p_value(column: Mapping[str, Any]) -> float | None:
    adjusted = finite_number(column.get("adjusted_p_value"))
    return adjusted if adjusted is not None else finite_number(column.get("p_value"))


def _feature_table(
    engine: Engine,
    monitor: MonitorOverview,
    series: Mapping[int, list[ResultPoint]],
    span: TimeRange,
    window: str | None,
) -> dict[str, Any]:
    """The selected window's per-feature table, most severe first, with sparklines."""
    if window is not None:
        end = parse_moment(window, now=span.end, name="window")
        detail = result_detail(engine, monitor.id, window_end=end)
        if detail is None:
            msg = f"window: monitor {monitor.name!r} has no result for the window ending {window}"
            raise NotFoundError(msg)
    else:
        judged = [p for p in _points(series, monitor) if p.status not in ("error",)]
        if not judged:
            return {"monitor": monitor, "detail": None, "rows": [], "window_end": None}
        detail = result_detail(engine, monitor.id, window_end=judged[-1].window_end)
        if detail is None:  # deleted meanwhile
            return {"monitor": monitor, "detail": None, "rows": [], "window_end": None}
    point = detail.point
    columns = (detail.details or {}).get("columns") or []
    history = details_history(engine, monitor.id, until=point.window_end, limit=SPARK_RUNS)
    effects: dict[str, list[float | None]] = {}
    for n, (_, details) in enumerate(history):
        for column in details.get("columns") or ():
            effects.setdefault(str(column.get("name")), [None] * len(history))[n] = finite_number(
                column.get("effect")
            )
    rows = [
        FeatureRow(
            name=str(c.get("name")),
            kind=str(c.get("kind", "")),
            method=str(c.get("method", "")),
            statistic=finite_number(c.get("statistic")),
            p_value=_p_value(c),
            threshold=finite_number(c.get("threshold")),
            effect=finite_number(c.get("effect")),
            drifted=bool(c.get("drifted")),
            n_reference=c.get("n_reference"),
            n_current=c.get("n_current"),
            spark=sparkline_points(effects.get(str(c.get("name")), [])),
            severity=(1e6 if c.get("drifted") else 0.0) + (finite_number(c.get("effect")) or 0.0),
        )
        for c in columns
    ]
    rows.sort(key=lambda r: (-r.severity, r.name))
    return {
        "monitor": monitor,
        "detail": detail,
        "rows": rows,
        "window_end": point.window_end,
        "runs": len(history),
    }
