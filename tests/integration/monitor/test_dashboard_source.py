"""The dashboard's window data (:mod:`monitor.dashboard_source`) on SQLite and PostgreSQL.

Records with known values are inserted hour by hour; the expected counts are computed here
with numpy and :class:`collections.Counter` from the inserted values.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from dashboards.reports import window_report_html
from dashboards.web.source import WindowUnavailableError
from monitor.dashboard_source import MonitorWindowSource
from monitor.project import Project
from monitor.references import upload_reference
from monitor.scheduling.sync import sync_project
from storage import (
    ModelHandle,
    PredictionBatch,
    create_session_factory,
    get_model_version,
    insert_predictions,
    upsert_labels,
)

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CLASSES = ("stay", "leave")
PLANS = ("basic", "pro", "team")
HOURLY = {"type": "tumbling", "size": "1h"}


def monitor(
    name: str, model: str, kind: str, reference: dict[str, Any] | None, **more: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "model": model, "kind": kind, "window": HOURLY}
    spec |= {"schedule": {"every": "1h"}, "min_samples": 10, **more}
    return spec if reference is None else {**spec, "reference": reference}


PREVIOUS = {"type": "previous_window"}
PROJECT: dict[str, Any] = {
    "version": 1,
    "models": [
        {
            "name": "churn",
            "task": "binary_classification",
            "classes": list(CLASSES),
            "features": [
                {"name": "age", "kind": "numeric"},
                {"name": "income", "kind": "numeric"},
                {"name": "plan", "kind": "categorical"},
                {"name": "note", "kind": "text"},
            ],
        },
        {
            "name": "price",
            "task": "regression",
            "features": [{"name": "rooms", "kind": "numeric"}],
        },
    ],
    "monitors": [
        monitor("drift", "churn", "data_drift", PREVIOUS),
        monitor(
            "drift-train",
            "churn",
            "data_drift",
            {"type": "dataset", "dataset": "training"},
            features=["age", "plan"],
        ),
        monitor(
            "drift-fixed",
            "churn",
            "data_drift",
            {"type": "fixed_window", "start": T0.isoformat(), "end": (T0 + HOUR).isoformat()},
        ),
        monitor("drift-last-week", "churn", "data_drift", {"type": "same_window_last_week"}),
        monitor("quality", "churn", "performance", PREVIOUS),
        monitor("errors", "churn", "failures", None),
        monitor("price-quality", "price", "performance", PREVIOUS),
    ],
}


@dataclass(frozen=True)
class Hour:
    """What was inserted for one hour of the churn model."""

    age: NDArray[np.float64]
    plan: list[str | None]
    predictions: list[str]
    labels: list[str | None]


def handle(engine: Engine, model: str) -> ModelHandle:
    with create_session_factory(engine)() as session:
        return get_model_version(session, model)


def stamps(start: dt.datetime, n: int) -> NDArray[np.int64]:
    first = (start - EPOCH) // dt.timedelta(microseconds=1)
    return first + np.arange(n, dtype=np.int64) * 1_000_000  # one per second, in order


def insert_churn(
    engine: Engine,
    rng: np.random.Generator,
    start: dt.datetime,
    n: int,
    *,
    shift: float = 0.0,
    plan_weights: tuple[float, float, float] = (0.5, 0.3, 0.2),
) -> Hour:
    """``n`` records from ``start``: some ages NaN, some plans missing, a third labelled."""
    model = handle(engine, "churn")
    ids = [f"{start.isoformat()}-{i}" for i in range(n)]
    age = rng.normal(40 + shift, 10, n)
    age[rng.uniform(size=n) < 0.05] = np.nan
    plan: list[str | None] = list(rng.choice(PLANS, n, p=plan_weights))
    for i in range(0, n, 17):
        plan[i] = None
    predictions = list(rng.choice(CLASSES, n))
    insert_predictions(
        engine,
        model,
        PredictionBatch(
            request_ids=ids,
            timestamps_us=stamps(start, n),
            features={
                "age": age,
                "income": rng.lognormal(10, 0.5, n),
                "plan": plan,
                "note": ["text"] * n,
            },
            predictions=predictions,
        ),
        rng=rng,
    )
    labels: list[str | None] = [None] * n
    for i in range(0, n, 3):
        labels[i] = str(rng.choice(CLASSES))
    labelled = [i for i in range(n) if labels[i] is not None]
    upsert_labels(engine, model, [ids[i] for i in labelled], [labels[i] for i in labelled])
    return Hour(age=age, plan=plan, predictions=predictions, labels=labels)


@pytest.fixture
def source(engine: Engine) -> MonitorWindowSource:
    sync_project(engine, Project.model_validate(PROJECT))
    return MonitorWindowSource(engine)


def expected_histogram(values: NDArray[np.float64], edges: tuple[float, ...]) -> list[int]:
    finite = values[np.isfinite(values)]
    counts, _ = np.histogram(np.clip(finite, edges[0], edges[-1]), bins=np.array(edges))
    return [int(c) for c in counts]


def test_numeric_distribution_against_the_previous_window(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    before = insert_churn(engine, rng, T0, 200)
    now = insert_churn(engine, rng, T0 + HOUR, 150, shift=25)

    dist = source.feature_distribution("drift", T0 + HOUR, T0 + 2 * HOUR, "age")

    assert dist.kind == "numeric"
    assert dist.labels is None
    assert dist.edges is not None
    assert len(dist.edges) == 31
    assert list(dist.reference_counts) == expected_histogram(before.age, dist.edges)
    assert list(dist.current_counts) == expected_histogram(now.age, dist.edges)
    assert dist.reference_missing == int(np.isnan(before.age).sum()) > 0
    assert dist.current_missing == int(np.isnan(now.age).sum()) > 0
    lows = [np.nanpercentile(a.age, 0.5, method="lower") for a in (before, now)]
    highs = [np.nanpercentile(a.age, 99.5, method="higher") for a in (before, now)]
    assert (dist.edges[0], dist.edges[-1]) == (min(lows), max(highs))
    assert dist.reference_label == "the previous window"
    assert (dist.window_start, dist.window_end) == (T0 + HOUR, T0 + 2 * HOUR)
    assert dist.feature == "age"


def test_categorical_distribution_labels_and_counts(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    before = insert_churn(engine, rng, T0, 200, plan_weights=(0.7, 0.2, 0.1))
    now = insert_churn(engine, rng, T0 + HOUR, 150, plan_weights=(0.1, 0.2, 0.7))

    dist = source.feature_distribution("drift", T0 + HOUR, T0 + 2 * HOUR, "plan")

    ref, cur = Counter(before.plan), Counter(now.plan)
    pooled = ref + cur
    del pooled[None]
    assert dist.kind == "categorical"
    assert dist.edges is None
    assert dist.labels == tuple(sorted(pooled, key=lambda v: (-pooled[v], v)))
    assert dist.reference_counts == tuple(ref[label] for label in dist.labels)
    assert dist.current_counts == tuple(cur[label] for label in dist.labels)
    assert (dist.reference_missing, dist.current_missing) == (ref[None], cur[None])


def reference_csv(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, bytes]:
    frame = pd.DataFrame(
        {
            "age": rng.normal(30, 5, n),
            "income": rng.lognormal(10, 0.5, n),
            "plan": rng.choice([*PLANS, "enterprise"], n),
            "note": ["text"] * n,
        }
    )
    return frame, frame.to_csv(index=False).encode()


def test_a_dataset_reference_is_drawn_from_the_uploaded_rows(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    now = insert_churn(engine, rng, T0, 120)
    frame, data = reference_csv(rng, 300)
    upload_reference(engine, "churn", data, name="training", file_format="csv")

    age = source.feature_distribution("drift-train", T0, T0 + HOUR, "age")
    plan = source.feature_distribution("drift-train", T0, T0 + HOUR, "plan")

    assert age.reference_label == "dataset 'training'"
    assert age.edges is not None
    assert list(age.reference_counts) == expected_histogram(frame["age"].to_numpy(), age.edges)
    assert list(age.current_counts) == expected_histogram(now.age, age.edges)
    assert age.reference_missing == 0
    assert plan.labels is not None
    # "enterprise" was only ever in the dataset: its code comes from the upload.
    assert set(plan.labels) == {*PLANS, "enterprise"}
    uploaded = Counter(frame["plan"])
    assert dict(zip(plan.labels, plan.reference_counts, strict=True)) == uploaded
    assert plan.current_counts[plan.labels.index("enterprise")] == 0
    with pytest.raises(
        WindowUnavailableError, match="'drift-train' does not check feature 'income'"
    ):
        source.feature_distribution("drift-train", T0, T0 + HOUR, "income")


def test_fixed_and_last_week_references_are_named_for_the_legend(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    week = dt.timedelta(days=7)
    insert_churn(engine, rng, T0 - week + HOUR, 50)
    insert_churn(engine, rng, T0, 60)
    insert_churn(engine, rng, T0 + HOUR, 70)

    fixed = source.feature_distribution("drift-fixed", T0 + HOUR, T0 + 2 * HOUR, "age")
    last_week = source.feature_distribution("drift-last-week", T0 + HOUR, T0 + 2 * HOUR, "age")

    assert fixed.reference_label == "records 2026-03-01 00:00 – 2026-03-01 01:00 UTC"
    assert sum(fixed.reference_counts) + fixed.reference_missing == 60
    assert last_week.reference_label == "the same window last week"
    assert sum(last_week.reference_counts) + last_week.reference_missing == 50
    assert sum(last_week.current_counts) + last_week.current_missing == 70


def test_what_cannot_be_drawn_is_refused_with_the_reason(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    insert_churn(engine, rng, T0, 50)
    window = (T0, T0 + HOUR)

    cases = [
        ("nope", "age", "unknown monitor 'nope'"),
        ("errors", "age", "'errors' is a failures monitor; distributions are drawn for data_drift"),
        ("quality", "age", "'quality' is a performance monitor"),
        ("drift-fixed", "height", "model 'churn' has no feature 'height'"),
        ("drift-fixed", "note", "distributions are drawn for numeric and categorical features"),
        (
            "drift",
            "age",
            r"the reference \(the previous window, 2026-02-28 23:00 – 2026-03-01 00:00 UTC\) "
            "has no records",
        ),
        ("drift-train", "age", "model 'churn' has no reference dataset 'training'"),
    ]
    for name, feature, message in cases:
        with pytest.raises(WindowUnavailableError, match=message):
            source.feature_distribution(name, *window, feature)
    with pytest.raises(WindowUnavailableError, match="has no records in the window 2026-03-01 05"):
        source.feature_distribution("drift-fixed", T0 + 5 * HOUR, T0 + 6 * HOUR, "age")
    with pytest.raises(WindowUnavailableError, match="must end after it starts"):
        source.feature_distribution("drift-fixed", T0 + HOUR, T0, "age")
    with pytest.raises(ValueError, match="window_start must be timezone-aware"):
        source.feature_distribution("drift", T0.replace(tzinfo=None), T0 + HOUR, "age")
    with pytest.raises(WindowUnavailableError, match="'errors' is a failures monitor; reports"):
        source.report_frames("errors", *window)


def test_report_frames_of_a_classifier_hold_features_labels_and_predictions(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    before = insert_churn(engine, rng, T0, 200)
    now = insert_churn(engine, rng, T0 + HOUR, 150, shift=25)

    frames = source.report_frames("quality", T0 + HOUR, T0 + 2 * HOUR)

    columns = ["age", "income", "plan", "target", "prediction"]
    assert list(frames.current.columns) == list(frames.reference.columns) == columns
    assert frames.current.shape == (150, 5)
    assert frames.reference.shape == (200, 5)
    assert (list(frames.numeric), list(frames.categorical)) == (["age", "income"], ["plan"])
    assert (frames.target, frames.prediction) == ("target", "prediction")
    assert frames.task == "binary_classification"
    assert tuple(frames.labels or ()) == CLASSES
    assert frames.reference_label == "the previous window"
    np.testing.assert_array_equal(frames.current["age"].to_numpy(), now.age)
    assert frames.current["age"].dtype == np.float64
    assert frames.current["plan"].tolist() == now.plan
    assert frames.reference["plan"].tolist() == before.plan
    assert frames.current["prediction"].tolist() == now.predictions
    assert frames.current["target"].tolist() == now.labels
    assert frames.reference["target"].tolist() == before.labels

    html = window_report_html(frames)

    assert "Current: Model Quality Metrics" in html
    assert '"column_name": "age"' in html


def test_report_frames_of_a_regression_model_and_a_row_cap(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    model = handle(engine, "price")
    values = {}
    for hour, n in ((0, 300), (1, 250)):
        start = T0 + hour * HOUR
        ids = [f"p{hour}-{i}" for i in range(n)]
        predictions = rng.normal(100, 10, n)
        insert_predictions(
            engine,
            model,
            PredictionBatch(
                request_ids=ids,
                timestamps_us=stamps(start, n),
                features={"rooms": rng.integers(1, 6, n).astype(float)},
                predictions=predictions,
            ),
            rng=rng,
        )
        truth = predictions + rng.normal(0, 3, n)
        upsert_labels(engine, model, ids[::2], truth[::2].tolist())
        values[hour] = (predictions, truth)

    frames = source.report_frames("price-quality", T0 + HOUR, T0 + 2 * HOUR)
    capped = MonitorWindowSource(engine, report_rows=100).report_frames(
        "price-quality", T0 + HOUR, T0 + 2 * HOUR
    )

    predictions, truth = values[1]
    assert list(frames.current.columns) == ["rooms", "target", "prediction"]
    assert frames.task == "regression"
    assert frames.labels is None
    np.testing.assert_allclose(frames.current["prediction"].to_numpy(), predictions)
    expected_target = np.full(250, np.nan)
    expected_target[::2] = truth[::2]
    np.testing.assert_allclose(frames.current["target"].to_numpy(), expected_target)
    assert frames.reference.shape == (300, 3)
    assert capped.current.shape == (100, 3)
    assert capped.reference.shape == (100, 3)
    assert set(capped.reference["prediction"]) <= set(values[0][0])


def test_report_frames_without_labels_in_the_reference_leave_quality_out(
    engine: Engine, source: MonitorWindowSource, rng: np.random.Generator
) -> None:
    insert_churn(engine, rng, T0, 80)
    _, data = reference_csv(rng, 100)
    upload_reference(engine, "churn", data, name="training", file_format="csv")

    frames = source.report_frames("drift-train", T0, T0 + HOUR)

    assert (frames.target, frames.prediction) == (None, None)
    assert list(frames.current.columns) == ["age", "plan"]  # the monitor's features only
    assert frames.reference.shape == (100, 2)
    assert frames.reference_label == "dataset 'training'"
