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
#: Points beyond which a series is drawn as a bare line (markers only where not ok).
LONG_SERIES: Final = 300
#: Most points drawn of a long series: the lowest and the highest of each of half as many
#: buckets, so no spike is lost (a 1,000-pixel chart shows no more anyway).
MAX_DRAWN: Final = 600
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
            "hovertemplate": _hover(line, percent),
        }
        long = len(line.x) > LONG_SERIES
        kept = envelope([_finite(y) for y in line.y], MAX_DRAWN // 2) if long else None
        xs = line.x if kept is None else [line.x[i] for i in kept]
        trace["x"] = [_iso(x) for x in xs]
        trace["y"] = [_finite(line.y[i]) for i in kept] if kept else [_finite(y) for y in line.y]
        if not long:  # a click reads a point's window from here (long series: from x)
            trace["customdata"] = trace["x"]
        if line.bars and not long:
            trace["marker"] = {"color": colour, "opacity": 0.35}
        elif line.bars:  # thousands of SVG bars are slow to draw: a stepped area instead
            trace.update(type="scatter", mode="lines", fill="tozeroy", opacity=0.35)
            trace["line"] = {"color": colour, "width": 0, "shape": "hv"}
        else:
            trace["mode"] = "lines" if long else "lines+markers"
            trace["connectgaps"] = False
            trace["line"] = {
                "color": colour,
                "width": 1.5 if long else 2,
                **({"dash": line.dash} if line.dash else {}),
            }
            marker: dict[str, Any] = {"size": 6, "color": colour}
            if line.statuses is not None and not long:
                marker["color"] = [STATUS_COLOURS.get(s, colour) for s in line.statuses]
            trace["marker"] = marker
        if line.secondary:
            trace["yaxis"] = "y2"
        traces.append(trace)
        if long and not line.bars and line.statuses is not None:
            flagged = _flagged(line, percent)
            if flagged is not None:
                traces.append(flagged)
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


def envelope(values: Sequence[float | None], buckets: int) -> list[int] | None:
    """Indices of the lowest and highest value of each of ``buckets`` runs, in order.

    None when ``values`` is short enough to draw whole. Missing values are kept where a
    bucket has nothing else, so gaps stay gaps.

    >>> envelope([0.0, 5.0, 1.0, 2.0, 9.0, 3.0, None, None], 2)
    [0, 1, 4, 5]
    >>> envelope([1.0, 2.0], 2) is None
    True
    """
    n = len(values)
    if n <= 2 * buckets:
        return None
    kept: list[int] = []
    for b in range(buckets):
        lo, hi = b * n // buckets, (b + 1) * n // buckets
        present = [i for i in range(lo, hi) if values[i] is not None]
        if not present:
            kept.append(lo)
            continue
        low = min(present, key=lambda i: values[i])  # type: ignore[arg-type, return-value]
        high = max(present, key=lambda i: values[i])  # type: ignore[arg-type, return-value]
        kept.extend(sorted({low, high}))
    return kept


def _hover(line: Series, percent: bool) -> str:
    """The hover text: the window end, the value, and the series' name (escaped)."""
    value = ":.1%" if percent and not line.secondary else ":.4g"
    name = line.name.replace("<", "&lt;")
    return f"%{{x|%Y-%m-%d %H:%M}} UTC<br>%{{y{value}}}<extra>{name}</extra>"


def _flagged(line: Series, percent: bool) -> dict[str, Any] | None:
    """Markers for the points of a long series whose status is not ``ok``, coloured by it.

    A long series is drawn as a bare line (one SVG path); only the points worth a look get
    a marker, so a 90-day hourly chart stays quick to draw.
    """
    assert line.statuses is not None
    keep = [n for n, status in enumerate(line.statuses) if status != "ok"]
    if not keep:
        return None
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{line.name}: not ok",
        "showlegend": False,
        "x": [_iso(line.x[n]) for n in keep],
        "y": [_finite(line.y[n]) for n in keep],
        "customdata": [_iso(line.x[n]) for n in keep],
        "marker": {
            "size": 6,
            "color": [STATUS_COLOURS.get(line.statuses[n], "#000") for n in keep],
        },
        "hovertemplate": _hover(line, percent),
        **({"yaxis": "y2"} if line.secondary else {}),
    }


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
