"""The dashboard's Plotly figures and sparklines."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboards.web.charts import (
    STATUS_COLOURS,
    AlertBand,
    Series,
    distribution_figure,
    sparkline_points,
    time_figure,
)

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _hours(n: int) -> list[dt.datetime]:
    return [T0 + dt.timedelta(hours=i) for i in range(n)]


def test_time_figure_is_strict_json_with_gaps_for_missing_values() -> None:
    figure = time_figure(
        [Series("drift", _hours(3), [0.1, float("nan"), None], statuses=["ok", "alarm", "error"])],
        start=T0,
        end=T0 + dt.timedelta(hours=3),
        y_title="share",
        percent=True,
        threshold=0.5,
    )
    text = json.dumps(figure, allow_nan=False)  # NaN would break JSON.parse in the browser
    trace = json.loads(text)["data"][0]
    assert trace["y"] == [0.1, None, None]
    assert trace["x"][0] == "2026-03-01T00:00:00Z"
    assert trace["customdata"] == trace["x"]
    assert trace["marker"]["color"] == [
        STATUS_COLOURS["ok"],
        STATUS_COLOURS["alarm"],
        STATUS_COLOURS["error"],
    ]
    assert figure["layout"]["yaxis"]["tickformat"] == ".0%"
    [line] = figure["layout"]["shapes"]
    assert (line["y0"], line["y1"]) == (0.5, 0.5)


def test_alert_bands_span_the_alert_on_every_chart() -> None:
    band = AlertBand(T0, T0 + dt.timedelta(hours=2), "critical", "drift (firing)")
    figure = time_figure(
        [Series("x", _hours(2), [1.0, 2.0], secondary=True, bars=True)],
        start=T0,
        end=T0 + dt.timedelta(hours=4),
        y_title="a",
        y2_title="b",
        alerts=[band],
    )
    [shape] = figure["layout"]["shapes"]
    assert (shape["x0"], shape["x1"]) == ("2026-03-01T00:00:00Z", "2026-03-01T02:00:00Z")
    assert "198, 40, 40" in shape["fillcolor"]
    assert figure["data"][0]["yaxis"] == "y2"
    assert figure["data"][0]["type"] == "bar"
    assert figure["layout"]["yaxis2"]["overlaying"] == "y"


def test_series_names_cannot_inject_markup_into_hover_labels() -> None:
    figure = time_figure(
        [Series("<b>x</b>", _hours(1), [1.0])], start=T0, end=_hours(2)[1], y_title="y"
    )
    assert "<b>x" not in figure["data"][0]["hovertemplate"]


def test_distribution_shares_are_per_side() -> None:
    figure = distribution_figure(
        kind="numeric",
        edges=[0.0, 1.0, 3.0],
        labels=None,
        reference=[10, 30],
        current=[1, 1],
        reference_label="dataset 'train'",
    )
    reference, current = figure["data"]
    assert reference["y"] == [0.25, 0.75]
    assert current["y"] == [0.5, 0.5]
    assert reference["x"] == [0.5, 2.0]
    assert reference["width"] == [1.0, 2.0]
    assert reference["customdata"] == [10, 30]
    assert "train" in reference["name"]
    assert figure["layout"]["barmode"] == "overlay"


def test_categorical_distribution_groups_bars_by_label() -> None:
    figure = distribution_figure(
        kind="categorical",
        edges=None,
        labels=["a", "b", "(other)"],
        reference=[1, 1, 2],
        current=[0, 0, 0],
        reference_label="the previous window",
    )
    assert figure["data"][0]["x"] == ["a", "b", "(other)"]
    assert figure["data"][1]["y"] == [0.0, 0.0, 0.0]  # an empty side draws nothing, not NaN
    assert figure["layout"]["barmode"] == "group"


def test_numeric_distribution_needs_matching_edges() -> None:
    with pytest.raises(ValueError, match="edges"):
        distribution_figure(
            kind="numeric", edges=[0.0, 1.0], labels=None, reference=[1, 2], current=[1, 2],
            reference_label="r",
        )  # fmt: skip


def test_sparkline_scales_into_the_box_and_skips_gaps() -> None:
    points = sparkline_points([2.0, None, 4.0, float("inf")], width=40, height=10)
    assert points == "1.0,9.0 26.3,1.0"  # x: 1 + 2 * (40 - 2) / 3
    flat = sparkline_points([3.0, 3.0], width=10, height=10)
    assert flat == "1.0,9.0 9.0,9.0"
    assert sparkline_points([5.0], width=10, height=10) == "1.0,9.0"


def test_a_long_series_is_a_bare_line_with_markers_only_where_not_ok() -> None:
    n = 2160  # 90 days of hourly windows
    statuses = ["ok"] * n
    statuses[100] = "alarm"
    statuses[200] = "warning"
    values = [0.1] * n
    values[1234] = 0.9  # one spike among thousands of windows
    figure = time_figure(
        [
            Series("drift", _hours(n), values, statuses=statuses),
            Series("rows", _hours(n), [5.0] * n, secondary=True, bars=True),
        ],
        start=T0,
        end=_hours(n)[-1],
        y_title="share",
        y2_title="rows",
    )
    line, flagged, rows = figure["data"]
    assert line["mode"] == "lines"
    assert len(line["x"]) <= 600  # drawn: each bucket's lowest and highest point
    assert max(line["y"]) == 0.9
    assert _hours(n)[1234].strftime("%Y-%m-%dT%H:%M:%SZ") in line["x"]
    assert len(rows["x"]) <= 600
    assert flagged["mode"] == "markers"
    assert flagged["showlegend"] is False
    iso = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in _hours(n)]
    assert flagged["x"] == [iso[100], iso[200]]  # from the whole series, not the drawn one
    assert flagged["marker"]["color"] == [STATUS_COLOURS["alarm"], STATUS_COLOURS["warning"]]
    assert rows["type"] == "scatter"
    assert rows["fill"] == "tozeroy"
    assert rows["yaxis"] == "y2"
