"""Evidently's reports of a window (:mod:`dashboards.reports`), run for real on small frames.

Expected metric values are computed here from the frames, with pandas, never taken from
the code under test; the HTML is checked for the columns and Evidently's own markers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboards.reports import data_drift_html, window_report, window_report_html
from dashboards.web.source import ReportFrames

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
CLASSES = ("stay", "leave")
#: One row per column of Evidently's drift table: its name, then whether it drifted.
DRIFT_ROW = re.compile(
    r'"column_name": "([^"]+)", "column_type": "\w+".*?"data_drift": "(Detected|Not Detected)"'
)


def features(rng: np.random.Generator, n: int, *, shift: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age_years": rng.normal(40 + shift, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "plan": rng.choice(["basic", "pro", "team"], n).astype(object),
        }
    )


def classified(
    rng: np.random.Generator, n: int, *, shift: float, classes: Sequence[str], unlabelled: int
) -> pd.DataFrame:
    """Features, a target (missing in the first ``unlabelled`` rows) and a prediction."""
    frame = features(rng, n, shift=shift)
    target = rng.choice(np.array(classes, dtype=object), n)
    wrong = rng.choice(np.array(classes, dtype=object), n)
    frame["prediction"] = np.where(rng.uniform(size=n) < 0.7, target, wrong)
    target[:unlabelled] = None
    frame["target"] = target
    return frame


def report_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    task: str = "binary_classification",
    labels: Sequence[str] | None = CLASSES,
    quality: bool = True,
) -> ReportFrames:
    return ReportFrames(
        reference=reference,
        current=current,
        numeric=["age_years", "income"],
        categorical=["plan"],
        task=task,
        target="target" if quality else None,
        prediction="prediction" if quality else None,
        labels=labels,
        window_start=T0,
        window_end=T0 + dt.timedelta(hours=1),
        reference_label="dataset 'training'",
    )


def metrics(snapshot: Any) -> dict[str, Any]:
    """Metric values by metric name (the part before its parameters)."""
    return {item["metric_name"].split("(")[0]: item["value"] for item in snapshot.dict()["metrics"]}


def drift_verdicts(html: str) -> dict[str, str]:
    return dict(DRIFT_ROW.findall(html))


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["target"].notna()]


def test_the_drift_report_names_the_drifted_columns(rng: np.random.Generator) -> None:
    frames = report_frames(features(rng, 300, shift=0), features(rng, 300, shift=30), quality=False)

    html = window_report_html(frames)

    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    assert drift_verdicts(html) == {
        "age_years": "Detected",
        "income": "Not Detected",
        "plan": "Not Detected",
    }
    assert "Drift is detected for 33.333% of columns (1 out of 3)." in html
    assert "Model Quality" not in html


def test_a_binary_classifier_gets_classification_quality_for_its_positive_class(
    rng: np.random.Generator,
) -> None:
    reference = classified(rng, 300, shift=0, classes=CLASSES, unlabelled=50)
    current = classified(rng, 300, shift=30, classes=CLASSES, unlabelled=100)
    frames = report_frames(reference, current)

    values = metrics(window_report(frames))
    html = window_report_html(frames)

    rows = labelled(current)
    predicted_leave = rows["prediction"] == "leave"
    assert values["Accuracy"] == pytest.approx((rows["target"] == rows["prediction"]).mean())
    assert values["Precision"] == pytest.approx(
        (rows.loc[predicted_leave, "target"] == "leave").mean()
    )
    assert values["Recall"] == pytest.approx(
        (rows.loc[rows["target"] == "leave", "prediction"] == "leave").mean()
    )
    assert set(values["F1ByLabel"]) == set(CLASSES)
    assert drift_verdicts(html)["age_years"] == "Detected"
    assert "Current: Model Quality Metrics" in html
    assert "Reference: Model Quality Metrics" in html


def test_a_multiclass_classifier_gets_per_class_quality(rng: np.random.Generator) -> None:
    classes = ("red", "green", "blue")
    reference = classified(rng, 300, shift=0, classes=classes, unlabelled=0)
    current = classified(rng, 300, shift=0, classes=classes, unlabelled=30)
    frames = report_frames(reference, current, task="multiclass_classification", labels=classes)

    values = metrics(window_report(frames))
    html = window_report_html(frames)

    rows = labelled(current)
    assert values["Accuracy"] == pytest.approx((rows["target"] == rows["prediction"]).mean())
    recall = values["RecallByLabel"]
    assert set(recall) == set(classes)
    for label in classes:
        truth = rows[rows["target"] == label]
        assert recall[label] == pytest.approx((truth["prediction"] == label).mean())
    assert "Current: Model Quality Metrics" in html


def test_a_regression_model_gets_regression_quality(rng: np.random.Generator) -> None:
    def frame(n: int) -> pd.DataFrame:
        out = features(rng, n, shift=0)
        target = rng.normal(100, 20, n)
        out["prediction"] = target + rng.normal(0, 5, n)
        target[:40] = np.nan
        out["target"] = target
        return out

    reference, current = frame(300), frame(300)
    frames = report_frames(reference, current, task="regression", labels=None)

    values = metrics(window_report(frames))
    html = window_report_html(frames)

    rows = labelled(current)
    errors = rows["prediction"] - rows["target"]
    assert values["MAE"]["mean"] == pytest.approx(errors.abs().mean())
    assert values["RMSE"] == pytest.approx(np.sqrt((errors**2).mean()))
    assert "R2 Score (current)" in html
    assert "Mean Absolute Percentage Error: Reference" in html


def test_without_a_labelled_reference_row_the_report_is_drift_only(
    rng: np.random.Generator,
) -> None:
    reference = classified(rng, 200, shift=0, classes=CLASSES, unlabelled=200)
    current = classified(rng, 200, shift=0, classes=CLASSES, unlabelled=20)

    values = metrics(window_report(report_frames(reference, current)))

    assert "Accuracy" not in values
    assert "DriftedColumnsCount" in values


def test_an_unknown_task_is_refused(rng: np.random.Generator) -> None:
    frame = features(rng, 50, shift=0)

    with pytest.raises(ValueError, match=r"task must be one of .*, got 'ranking'"):
        window_report(report_frames(frame, frame, task="ranking", quality=False))


def test_data_drift_html_still_reports_two_frames(rng: np.random.Generator) -> None:
    html = data_drift_html(
        features(rng, 200, shift=0),
        features(rng, 200, shift=0).assign(plan="team"),
        numeric=["age_years", "income"],
        categorical=["plan"],
    )

    assert drift_verdicts(html) == {
        "age_years": "Not Detected",
        "income": "Not Detected",
        "plan": "Detected",
    }
