"""A feature of one window: reference and current distributions overlaid, and its history."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from dashboards.web.cells import finite_number
from dashboards.web.charts import Series, distribution_figure, time_figure
from dashboards.web.source import WindowSource, WindowUnavailableError
from dashboards.web.timerange import TimeRange, parse_moment
from storage.errors import NotFoundError
from storage.repositories.dashboard import (
    feature_history,
    model_overview,
    result_detail,
)

__all__ = ["feature_context"]

#: Most runs of the feature's history chart (the newest in the range); the chart
#: downsamples what it draws, so this bounds the query, not the picture.
HISTORY_RUNS = 20_000


def feature_context(
    engine: Engine,
    source: WindowSource | None,
    model: str,
    feature: str,
    span: TimeRange,
    *,
    monitor: str | None,
    window: str | None,
) -> dict[str, Any]:
    """What the feature template shows; the window defaults to the monitor's newest."""
    overview = model_overview(engine, model)
    drift = [m for m in overview.monitors if m.kind == "data_drift"]
    if monitor is None:
        chosen = drift[0] if drift else None
    else:
        chosen = next((m for m in drift if m.name == monitor), None)
    if chosen is None:
        known = ", ".join(m.name for m in drift) or "none"
        asked = f"{monitor!r}" if monitor else "any"
        raise NotFoundError(
            f"monitor: model {model!r} has no data-drift monitor {asked} (known: {known})"
        )
    end = parse_moment(window, now=span.end, name="window") if window else None
    detail = result_detail(engine, chosen.id, window_end=end)
    if detail is None:
        raise NotFoundError(f"monitor {chosen.name!r} has no result for that window yet")
    columns = (detail.details or {}).get("columns") or []
    row = next((c for c in columns if c.get("name") == feature), None)
    if row is None:
        raise NotFoundError(f"feature: monitor {chosen.name!r} tested no feature {feature!r}")
    shown = feature_history(
        engine, chosen.id, feature, since=span.start, until=span.end, limit=HISTORY_RUNS
    )
    xs = [end for end, _ in shown]
    effects = [finite_number(column.get("effect")) for _, column in shown]
    statuses = ["alarm" if column.get("drifted") else "ok" for _, column in shown]
    history_chart = time_figure(
        [Series(f"{feature}: effect size", xs, effects, statuses=statuses)],
        start=span.start,
        end=span.end,
        y_title="effect size",
    )
    distribution: dict[str, Any] | None = None
    unavailable: str | None = None
    if source is None:
        unavailable = "this dashboard has no access to production records"
    else:
        point = detail.point
        try:
            found_distribution = source.feature_distribution(
                chosen.name, point.window_start, point.window_end, feature
            )
        except WindowUnavailableError as error:
            unavailable = str(error)
        else:
            distribution = {
                "data": found_distribution,
                "figure": distribution_figure(
                    kind=found_distribution.kind,
                    edges=found_distribution.edges,
                    labels=found_distribution.labels,
                    reference=found_distribution.reference_counts,
                    current=found_distribution.current_counts,
                    reference_label=found_distribution.reference_label,
                ),
            }
    return {
        "model": overview,
        "feature": feature,
        "monitor": chosen,
        "detail": detail,
        "row": row,
        "span": span,
        "distribution": distribution,
        "unavailable": unavailable,
        "history_chart": history_chart,
    }
