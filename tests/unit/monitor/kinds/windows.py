"""Test helpers: windows built from arrays, monitor specs, and a strict JSON check."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from monitor.kinds import KindOutcome
from monitor.project.monitors import MonitorSpec
from storage import Window

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _floats(values: ArrayLike | None, n: int, width: int | None = None) -> NDArray[np.float64]:
    if values is None:
        return np.full(n, np.nan) if width is None else np.empty((n, width))
    return np.asarray(values, dtype=np.float64)


def make_window(
    n: int,
    *,
    start: dt.datetime = START,
    numeric: ArrayLike | None = None,
    numeric_names: Sequence[str] = (),
    categorical: ArrayLike | None = None,
    categorical_names: Sequence[str] = (),
    predictions: ArrayLike | None = None,
    probabilities: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    status: ArrayLike | None = None,
    latency_seconds: ArrayLike | None = None,
    classes: Sequence[str] = (),
    timestamps_us: ArrayLike | None = None,
) -> Window:
    """A one-hour window of ``n`` rows evenly spread in time; absent columns are NaN / empty."""
    end = start + HOUR
    start_us = int(start.timestamp()) * 1_000_000
    if timestamps_us is None:
        times = start_us + (np.arange(n, dtype=np.int64) * 3_600_000_000) // max(n, 1)
    else:
        times = np.asarray(timestamps_us, dtype=np.int64)
    return Window(
        model_name="model",
        start=start,
        end=end,
        total_rows=n,
        classes=tuple(classes),
        timestamps_us=times,
        status=np.zeros(n, np.int16) if status is None else np.asarray(status, np.int16),
        latency_seconds=_floats(latency_seconds, n),
        predictions=_floats(predictions, n),
        probabilities=_floats(probabilities, n, 0),
        labels=None if labels is None else np.asarray(labels, dtype=np.float64),
        version_ids=np.ones(n, dtype=np.int64),
        versions={1: "v1"},
        numeric_names=tuple(numeric_names),
        numeric=_floats(numeric, n, 0).reshape(n, len(numeric_names)),
        categorical_names=tuple(categorical_names),
        categorical=_floats(categorical, n, 0).reshape(n, len(categorical_names)),
    )


def make_spec(
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    reference: str | None = "previous_window",
    **fields: Any,
) -> MonitorSpec:
    """A monitor spec of ``kind`` over a rolling hour; ``reference`` is its type, or None."""
    document: dict[str, Any] = {
        "name": "watch",
        "model": "model",
        "kind": kind,
        "schedule": {"every": "1h"},
        "window": {"type": "rolling", "size": "1h"},
        "params": params or {},
        **fields,
    }
    if reference == "dataset":
        document["reference"] = {"type": "dataset", "dataset": "training"}
    elif reference is not None:
        document["reference"] = {"type": reference}
    return MonitorSpec.model_validate(document)


def assert_strict_json(value: Any) -> None:
    """Only dicts (str keys), lists, str, int, float (finite), bool and None, all the way."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, key
            assert_strict_json(item)
    elif isinstance(value, list):
        for item in value:
            assert_strict_json(item)
    else:
        assert value is None or type(value) in (str, int, float, bool), (value, type(value))
    json.dumps(value, allow_nan=False)


def assert_outcome_json(outcome: KindOutcome) -> None:
    assert_strict_json(outcome.summary)
    assert_strict_json(outcome.details)
    if outcome.state is not None:
        assert_strict_json(outcome.state)
    assert outcome.score is None or type(outcome.score) is float
    for row in outcome.summary["detectors"]:
        assert set(row) == {"detector", "status", "score", "threshold"}
