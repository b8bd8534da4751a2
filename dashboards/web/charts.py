"""Plotly figures of the dashboard, as plain dicts the page hands to Plotly.js.

Every time chart shares one x axis convention (window ends, UTC) and the same alert bands,
so a drift, a metric drop and the alert they raised line up across charts. Points carry the
window end in ``customdata`` so a click can select that window.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "STATUS_COLOURS",
    "AlertBand",
    "Series",
    "distribution_figure",
    "sparkline_points",
    "time_figure",
]

STATUS_COLOURS: Final = {
    "ok": "#2e7d32",
    "warning": "#f9a825",
    "alarm": "#c62828",
    "insufficient_data": "#9e9e9e",
    "error": "#6a1b9a",
}
_SEVERITY_FILL: Final = {
    "critical": "rgba(198, 40, 40, 0.14)",
    "warning": "rgba(249, 168, 37, 0.16)",
    "info": "rgba(21, 101, 192, 0.10)",
}
_PALETTE: Final = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037")


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a time chart; ``statuses`` colour its markers when given."""

    name: str
    x: Sequence[dt.datetime]
    y: Sequence[float | None]
    statuses: Sequence[str] | None = None
    dash: str | None = None
    secondary: bool = False
    #: Bars instead of a line (e.g. counts on the secondary axis).
    bars: bool = False


@dataclass(frozen=True, slots=True)
class AlertBand:
    """An alert's active span on the time axis."""

    start: dt.datetime
    end: dt.datetime
    severity: str
    label: str


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def time_figure(
    series: Iterable[Series],
    *,
    start: dt.datetime,
    end: dt.datetime,
    y_title: str,
    y2_title: str | None = None,
    percent: bool = False,
    alerts: Sequence[AlertBand] = (),
    threshold: float | None = None,
) -> dict[str, Any]:
    """A time chart over ``[start, end]`` with alert bands and an optional threshold line."""
    traces: list[dict[str, Any]] = []
    for n, line in enumerate(series):
        colour = _PALETTE[n % len(_PALETTE)]
        trace: dict[str, Any] = {
            "type": "bar" if line.bars else "scatter",
            "name": line.name,
            "x": [_iso(x) for x in line.x],
            "y": [_finite(y) for y in line.y],
            "customdata": [_iso(x) for x in line.x],
            "hovertemplate": "%{x|%Y-%m-%d %H:%M} UTC<br>%{y"
            + (":.1%" if percent and not line.secondary else ":.4g")
            + "}<extra>"
            + line.name.replace("<", "&lt;")
            + "</extra>",
        }
        if line.bars:
            trace["marker"] = {"color": colour, "opacity": 0.35}
        else:
            trace["mode"] = "lines+markers"
            trace["connectgaps"] = False
            trace["line"] = {
                "color": colour,
                "width": 2,
                **({"dash": line.dash} if line.dash else {}),
            }
            marker: dict[str, Any] = {"size": 6, "color": colour}
            if line.statuses is not None:
                marker["color"] = [STATUS_COLOURS.get(s, colour) for s in line.statuses]
            trace["marker"] = marker
        if line.secondary:
            trace["yaxis"] = "y2"
        traces.append(trace)
    layout: dict[str, Any] = {
        "margin": {"l": 56, "r": 56 if y2_title else 16, "t": 8, "b": 36},
        "height": 260,
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.22},
        "xaxis": {"type": "date", "range": [_iso(start), _iso(end)]},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "zeroline": False},
        "shapes": [_band(alert) for alert in alerts],
    }
    if percent:
        layout["yaxis"]["tickformat"] = ".0%"
    if y2_title:
        layout["yaxis2"] = {
            "title": {"text": y2_title},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        }
    if threshold is not None and math.isfinite(threshold):
        layout["shapes"].append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": threshold,
                "y1": threshold,
                "line": {"color": "#c62828", "width": 1, "dash": "dot"},
            }
        )
    return {"data": traces, "layout": layout}


def _band(alert: AlertBand) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": _iso(alert.start),
        "x1": _iso(alert.end),
        "y0": 0,
        "y1": 1,
        "fillcolor": _SEVERITY_FILL.get(alert.severity, _SEVERITY_FILL["info"]),
        "line": {"width": 0},
        "layer": "below",
        "name": alert.label,
    }


def distribution_figure(
    *,
    kind: str,
    edges: Sequence[float] | None,
    labels: Sequence[str] | None,
    reference: Sequence[int],
    current: Sequence[int],
    reference_label: str,
) -> dict[str, Any]:
    """Reference and current overlaid as shares of their non-missing values.

    Numeric features are drawn as histograms on shared bins, categories as grouped bars.
    Shares, not counts, so samples of different sizes compare.
    """
    ref_total, cur_total = sum(reference) or 1, sum(current) or 1
    ref_share = [c / ref_total for c in reference]
    cur_share = [c / cur_total for c in current]
    if kind == "numeric":
        if edges is None or len(edges) != len(reference) + 1:
            raise ValueError("a numeric distribution needs len(counts) + 1 edges")
        x: list[Any] = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        widths = [b - a for a, b in itertools.pairwise(edges)]
        common: dict[str, Any] = {"type": "bar", "width": widths, "opacity": 0.55}
        barmode = "overlay"
    else:
        x = list(labels or [])
        common = {"type": "bar"}
        barmode = "group"
    traces = [
        {
            **common,
            "name": f"reference ({reference_label})",
            "x": x,
            "y": ref_share,
            "customdata": list(reference),
            "marker": {"color": "#78909c"},
            "hovertemplate": "%{x}<br>%{y:.1%} (%{customdata})<extra>reference</extra>",
        },
        {
            **common,
            "name": "current window",
            "x": x,
            "y": cur_share,
            "customdata": list(current),
            "marker": {"color": "#1565c0"},
            "hovertemplate": "%{x}<br>%{y:.1%} (%{customdata})<extra>current</extra>",
        },
    ]
    layout = {
        "barmode": barmode,
        "height": 340,
        "margin": {"l": 56, "r": 16, "t": 8, "b": 48},
        "yaxis": {"title": {"text": "share of values"}, "tickformat": ".0%"},
        "legend": {"orientation": "h", "y": -0.18},
    }
    return {"data": traces, "layout": layout}


def sparkline_points(
    values: Sequence[float | None], *, width: float = 96, height: float = 20
) -> str:
    """SVG polyline points of ``values`` scaled into ``width`` x ``height`` (missing: skipped).

    >>> sparkline_points([0.0, 1.0, 0.5], width=10, height=10)
    '1.0,9.0 5.0,1.0 9.0,5.0'
    >>> sparkline_points([None, None])
    ''
    """
    points = [(n, float(v)) for n, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not points:
        return ""
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = high - low or 1.0
    pad = 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    out = []
    for n, v in points:
        x = pad + n * step
        y = pad + (height - 2 * pad) * (1 - (v - low) / span)
        out.append(f"{x:.1f},{y:.1f}")
    return " ".join(out)


def legend_colours(names: Iterable[str]) -> Mapping[str, str]:
    """The colour each named series gets, in order."""
    return {name: _PALETTE[n % len(_PALETTE)] for n, name in enumerate(names)}
